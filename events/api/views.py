"""REST v1 for event handlers: list, create, enable/disable, history."""

from django.http import Http404
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from cabinet.api.errors import ApiError

from .. import selectors, services
from ..kinds import KINDS, kind_fields
from .serializers import (
    EventTypeCatalogueSerializer,
    HandlerSerializer,
    HandlerWriteSerializer,
    RunSerializer,
)

TAGS = ["events"]
EXAMPLE = {
    "kind": "contact_added",
    "name": "Приветствие новым клиентам",
    "conditions": [{"field": "group", "op": "eq", "value": "12"}],
    "actions": [
        {
            "kind": "sms_contact",
            "config": {"sender": "", "text": "Здравствуйте, [Имя]! Рады знакомству."},
        }
    ],
}


def _handler(request, pk):
    try:
        return selectors.handler_get(account_id=request.user.account_id, pk=pk)
    except Http404:
        raise ApiError("Обработчик не найден.", code="not_found", status_code=404)


class HandlersView(ListAPIView):
    serializer_class = HandlerSerializer

    def get_queryset(self):
        return selectors.handlers(account_id=self.request.user.account_id).order_by(
            "-id"
        )

    @extend_schema(summary="Обработчики событий", tags=TAGS)
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Создать обработчик",
        description="Событие, условия (все должны выполняться) и хотя бы одно "
        "действие. Ошибка — 400 в общем формате, ничего не сохранено.",
        tags=TAGS,
        request=HandlerWriteSerializer,
        responses={201: HandlerSerializer},
        examples=[OpenApiExample("Приветствие", value=EXAMPLE, request_only=True)],
    )
    def post(self, request):
        ser = HandlerWriteSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        d = ser.validated_data
        try:
            handler = services.handler_save(
                account=request.user.account,
                kind=d["kind"],
                name=d.get("name") or "",
                conditions=[dict(c) for c in d.get("conditions") or []],
                settings=d.get("settings") or {},
                actions=[dict(a) for a in d.get("actions") or []],
                is_active=d.get("is_active", True),
                max_runs_per_hour=d.get("max_runs_per_hour"),
            )
        except services.HandlerError as exc:
            raise ApiError(exc.message, code=exc.code, fields=exc.errors) from exc
        return Response(HandlerSerializer(handler).data, status=status.HTTP_201_CREATED)


class HandlerView(APIView):
    @extend_schema(summary="Обработчик", tags=TAGS, responses=HandlerSerializer)
    def get(self, request, pk):
        return Response(HandlerSerializer(_handler(request, pk)).data)

    @extend_schema(summary="Удалить обработчик", tags=TAGS, responses={204: None})
    def delete(self, request, pk):
        services.handler_delete(handler=_handler(request, pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class HandlerSwitchView(APIView):
    active = True

    @extend_schema(
        summary="Включить или выключить обработчик",
        tags=TAGS,
        request=None,
        responses=HandlerSerializer,
    )
    def post(self, request, pk):
        handler = services.handler_set_active(
            handler=_handler(request, pk), active=self.active
        )
        return Response(HandlerSerializer(handler).data)


class HandlerRunsView(ListAPIView):
    serializer_class = RunSerializer

    def get_queryset(self):
        return selectors.runs(handler=_handler(self.request, self.kwargs["pk"]))

    @extend_schema(
        summary="История запусков обработчика",
        description="Когда, что произошло, что сделано, результат и стоимость.",
        tags=TAGS,
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class EventTypesView(APIView):
    @extend_schema(
        summary="Типы событий",
        description="Коды событий, поля для условий и доступные действия.",
        tags=TAGS,
        responses={200: EventTypeCatalogueSerializer},
    )
    def get(self, request):
        custom = selectors.custom_fields(account_id=request.user.account_id)
        return Response(
            {
                "types": [
                    {
                        "kind": k.code,
                        "label": str(k.label),
                        "description": str(k.description),
                        "fields": [
                            {"field": f.key, "label": str(f.label), "type": f.type}
                            for f in kind_fields(k, custom)
                        ],
                        "actions": list(k.actions),
                        "settings": list(k.settings),
                    }
                    for k in KINDS.values()
                ]
            }
        )
