"""Scenarios through REST v1: list, create from JSON, read, launch, and a
run's status.  Another account's (or a deleted) scenario or run is a 404."""

from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from cabinet.api.errors import ApiError
from messaging.models import Source
from messaging.planning import LaunchError

from .. import selectors, services
from ..blocks import MAX_BLOCKS, BlockError, chain_clean
from ..models import Run, Scenario


class ScenarioBlockSerializer(serializers.Serializer):
    channel = serializers.CharField(help_text="Канал: sms, viber, voice, callpassword…")
    sender = serializers.CharField(required=False, allow_blank=True, default="")
    text = serializers.CharField(required=False, allow_blank=True, default="")
    content = serializers.DictField(
        required=False, default=dict, help_text="Содержимое канала (как в /campaigns/)"
    )
    options = serializers.DictField(
        required=False,
        default=dict,
        help_text="Параметры отправки: ttl (с, не больше decision), window, smooth…",
    )
    decision = serializers.IntegerField(
        help_text="Время принятия решения, секунд (60–172800)"
    )


class ScenarioSerializer(serializers.ModelSerializer):
    steps = ScenarioBlockSerializer(many=True)

    class Meta:
        model = Scenario
        fields = ["id", "name", "steps", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]


class ScenarioCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    steps = serializers.ListField(
        child=serializers.DictField(), max_length=MAX_BLOCKS, allow_empty=True
    )


class ScenarioLaunchSerializer(serializers.Serializer):
    group_ids = serializers.ListField(
        child=serializers.IntegerField(), required=False, default=list
    )
    filters = serializers.DictField(required=False, default=dict)
    phones = serializers.ListField(
        child=serializers.CharField(max_length=40), required=False, default=list
    )
    send_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    client_id = serializers.CharField(
        max_length=64, required=False, allow_blank=True, default=""
    )
    validate = serializers.BooleanField(
        required=False, default=False, help_text="Только рассчитать стоимость"
    )


class ScenarioStepSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    channel = serializers.CharField()
    sent = serializers.IntegerField()
    success = serializers.IntegerField()
    moved = serializers.IntegerField()
    excluded = serializers.IntegerField()
    failed = serializers.IntegerField()
    waiting = serializers.IntegerField()
    late = serializers.IntegerField(help_text="Доставлено после перехода")
    cost = serializers.DecimalField(max_digits=14, decimal_places=2)


class ScenarioRunSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    scenario_id = serializers.IntegerField(allow_null=True)
    status = serializers.CharField()
    created_at = serializers.DateTimeField()
    send_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    recipients = serializers.IntegerField()
    delivered = serializers.IntegerField()
    not_delivered = serializers.IntegerField()
    in_progress = serializers.IntegerField()
    cost = serializers.DecimalField(max_digits=14, decimal_places=2)
    sms_only_cost = serializers.DecimalField(max_digits=14, decimal_places=2)
    saved = serializers.DecimalField(max_digits=14, decimal_places=2)
    worst_cost = serializers.DecimalField(max_digits=14, decimal_places=2)
    expected_cost = serializers.DecimalField(max_digits=14, decimal_places=2)
    steps = ScenarioStepSerializer(many=True)


def run_data(run: Run) -> dict:
    report = selectors.run_report(run)
    return {
        "id": run.pk,
        "scenario_id": run.scenario_id,
        "status": run.status,
        "created_at": run.created_at,
        "send_at": run.send_at,
        "finished_at": run.finished_at,
        "recipients": run.recipients,
        "delivered": report.delivered,
        "not_delivered": report.not_delivered,
        "in_progress": report.in_progress,
        "cost": report.cost,
        "sms_only_cost": report.sms_only,
        "saved": report.saved,
        "worst_cost": run.worst_cost,
        "expected_cost": run.expected_cost,
        "steps": [s.__dict__ for s in report.steps],
    }


def _block_error(exc: BlockError) -> ApiError:
    fields = (
        {f"steps[{exc.step}].{exc.field or 'channel'}": [exc.message]}
        if exc.step is not None
        else {"steps": [exc.message]}
    )
    return ApiError(exc.as_text(), code="invalid_scenario", fields=fields)


def _launch_error(exc: LaunchError) -> ApiError:
    code = {"insufficient_funds": 402, "not_found": 404}.get(exc.code, 400)
    return ApiError(
        exc.message,
        code=exc.code,
        status_code=code,
        fields={exc.field: [exc.message]} if exc.field else None,
    )


def _scenario(request, pk) -> Scenario:
    try:
        return selectors.scenario_get(account_id=request.user.account_id, pk=pk)
    except Scenario.DoesNotExist:
        raise ApiError(
            "Сценарий не найден.", code="not_found", status_code=404
        ) from None


EXAMPLE = {
    "name": "Viber → SMS",
    "steps": [
        {"channel": "viber", "text": "Скидка 20% до воскресенья", "decision": 600},
        {"channel": "sms", "text": "Скидка 20% до воскресенья", "decision": 600},
    ],
}


@extend_schema_view(
    get=extend_schema(summary="Сценарии", responses=ScenarioSerializer(many=True)),
    post=extend_schema(
        summary="Создать сценарий",
        description="Блоки проверяются так же, как отправка их канала.",
        request=ScenarioCreateSerializer,
        responses={201: ScenarioSerializer},
        examples=[OpenApiExample("Viber → SMS", request_only=True, value=EXAMPLE)],
    ),
)
class ScenariosView(ListAPIView):
    serializer_class = ScenarioSerializer

    def get_queryset(self):
        return selectors.scenario_list(
            account_id=self.request.user.account_id
        ).order_by("-id")

    def post(self, request):
        ser = ScenarioCreateSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        try:
            scenario = services.scenario_save(
                account=request.user.account,
                name=ser.validated_data["name"],
                steps=ser.validated_data["steps"],
            )
        except BlockError as exc:
            raise _block_error(exc) from exc
        return Response(
            ScenarioSerializer(scenario).data, status=status.HTTP_201_CREATED
        )


class ScenarioDetailView(APIView):
    @extend_schema(summary="Сценарий", responses=ScenarioSerializer)
    def get(self, request, pk):
        return Response(ScenarioSerializer(_scenario(request, pk)).data)


class ScenarioLaunchView(APIView):
    @extend_schema(
        summary="Запустить сценарий",
        description="Группы, отфильтрованная группа или номера; сейчас или в "
        "send_at. С validate=true — только стоимость (худший случай, ожидаемая, "
        "только SMS).",
        request=ScenarioLaunchSerializer,
        responses={201: ScenarioRunSerializer},
    )
    def post(self, request, pk):
        scenario = _scenario(request, pk)
        ser = ScenarioLaunchSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        d = ser.validated_data
        if not d["group_ids"] and not d["phones"]:
            raise ApiError(
                "Нет получателей: укажите group_ids или phones.",
                code="no_recipients",
                fields={"phones": ["Укажите получателей."]},
            )
        try:
            if d["validate"]:
                est = services.estimate(
                    account=request.user.account,
                    steps=chain_clean(request.user.account, scenario.steps),
                    group_ids=d["group_ids"],
                    filters=d["filters"],
                    phones=d["phones"],
                )
                return Response(
                    {
                        "recipients": est.recipients,
                        "worst_cost": est.worst,
                        "expected_cost": est.expected,
                        "sms_only_cost": est.sms_only,
                    }
                )
            run = services.run_launch(
                account=request.user.account,
                scenario=scenario,
                group_ids=d["group_ids"],
                filters=d["filters"],
                phones=d["phones"],
                send_at=d["send_at"],
                source=Source.API,
                client_id=d["client_id"],
            )
        except BlockError as exc:
            raise _block_error(exc) from exc
        except LaunchError as exc:
            raise _launch_error(exc) from exc
        return Response(
            ScenarioRunSerializer(run_data(run)).data, status=status.HTTP_201_CREATED
        )


class RunDetailView(APIView):
    @extend_schema(summary="Статус запуска сценария", responses=ScenarioRunSerializer)
    def get(self, request, pk):
        try:
            run = selectors.run_get(account_id=request.user.account_id, pk=pk)
        except Run.DoesNotExist:
            raise ApiError(
                "Запуск сценария не найден.", code="not_found", status_code=404
            ) from None
        return Response(ScenarioRunSerializer(run_data(run)).data)
