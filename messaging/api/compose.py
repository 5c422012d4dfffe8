"""Composing through the API: the SMS counter, message templates (S6), sender
names (S7) and moderation templates (S8).  Everything is scoped to the token's
account; another account's id is a 404."""

from django.db import transaction
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from cabinet.api.errors import ApiError
from messaging import compose, moderation, senders
from messaging.forms import MAX_TEXT
from messaging.models import MessageTemplate, ModerationTemplate, SenderName
from messaging.sms_text import count_sms


def _account_id(request) -> int:
    return request.user.account_id


# --- counter ------------------------------------------------------------------


class CountRequestSerializer(serializers.Serializer):
    text = serializers.CharField(
        max_length=10000, allow_blank=True, trim_whitespace=False
    )


class CountSerializer(serializers.Serializer):
    encoding = serializers.ChoiceField(choices=["gsm7", "ucs2"])
    parts = serializers.IntegerField(help_text="SMS parts (billing units)")
    chars = serializers.IntegerField(
        help_text="Septets (GSM-7, extension characters count 2) or UTF-16 units"
    )
    chars_left = serializers.IntegerField(help_text="Room left in the last part")


class SmsCountView(APIView):
    @extend_schema(
        summary="Посчитать части и символы СМС",
        description="The same rules as the send form's live counter: GSM-7 160/153 "
        "per part (extension characters ^{}\\[~]|€ count 2), otherwise UCS-2 70/67 "
        "counted in UTF-16 units.  Substitution commands are counted as written.",
        request=CountRequestSerializer,
        responses={200: CountSerializer},
        examples=[
            OpenApiExample(
                "Кириллица", request_only=True, value={"text": "Здравствуйте!"}
            ),
            OpenApiExample(
                "Ответ",
                response_only=True,
                value={"encoding": "ucs2", "parts": 1, "chars": 13, "chars_left": 57},
            ),
        ],
    )
    def post(self, request):
        ser = CountRequestSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        text = ser.validated_data["text"].replace("\r\n", "\n")
        result = count_sms(text)
        return Response(
            {
                "encoding": result.encoding,
                "parts": result.parts,
                "chars": result.chars,
                "chars_left": result.chars_left,
            }
        )


# --- message templates (S6) ---------------------------------------------------


class TemplateSerializer(serializers.ModelSerializer):
    sender = serializers.CharField(
        max_length=11,
        required=False,
        allow_blank=True,
        help_text="Sender name stored with the template",
    )
    tags = serializers.ListField(
        child=serializers.CharField(max_length=50), required=False, max_length=20
    )
    text = serializers.CharField(max_length=MAX_TEXT, trim_whitespace=False)

    class Meta:
        model = MessageTemplate
        fields = ["id", "name", "text", "sender", "tags", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]

    def to_representation(self, obj):
        data = super().to_representation(obj)
        data["sender"] = (obj.form or {}).get("sender", "")
        data["tags"] = (obj.form or {}).get("tags", [])
        return data

    def validate_name(self, value):
        if not value.strip():
            raise serializers.ValidationError("Введите название шаблона.")
        return value.strip()


def _template(request, pk) -> MessageTemplate:
    try:
        return compose.template_get(account_id=_account_id(request), template_id=pk)
    except MessageTemplate.DoesNotExist:
        raise ApiError("Шаблон не найден.", code="not_found", status_code=404) from None


def _template_form(template: MessageTemplate | None, data: dict) -> dict:
    form = dict(template.form or {}) if template else {}
    if "sender" in data:
        form["sender"] = data["sender"]
    if "tags" in data:
        form["tags"] = data["tags"]
    return form


@extend_schema_view(
    get=extend_schema(
        summary="Шаблоны сообщений", responses=TemplateSerializer(many=True)
    ),
    post=extend_schema(
        summary="Создать шаблон сообщения",
        request=TemplateSerializer,
        responses={201: TemplateSerializer},
        examples=[
            OpenApiExample(
                "Шаблон",
                request_only=True,
                value={
                    "name": "Акция",
                    "text": "[Уважаемый] [Имя]! Скидка 20% до воскресенья.",
                    "sender": "",
                    "tags": ["акция"],
                },
            )
        ],
    ),
)
class TemplatesView(ListAPIView):
    serializer_class = TemplateSerializer

    def get_queryset(self):
        return MessageTemplate.objects.filter(
            account_id=_account_id(self.request), channel="sms"
        ).order_by("-id")

    def post(self, request):
        ser = TemplateSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        d = ser.validated_data
        template = MessageTemplate.objects.create(
            account_id=_account_id(request),
            name=d["name"],
            text=d["text"],
            form=_template_form(None, d),
        )
        return Response(
            TemplateSerializer(template).data, status=status.HTTP_201_CREATED
        )


class TemplateDetailView(APIView):
    @extend_schema(summary="Шаблон сообщения", responses=TemplateSerializer)
    def get(self, request, pk):
        return Response(TemplateSerializer(_template(request, pk)).data)

    @extend_schema(
        summary="Изменить шаблон",
        request=TemplateSerializer,
        responses=TemplateSerializer,
    )
    def put(self, request, pk):
        return self._update(request, pk, partial=False)

    @extend_schema(
        summary="Изменить часть шаблона",
        request=TemplateSerializer,
        responses=TemplateSerializer,
    )
    def patch(self, request, pk):
        return self._update(request, pk, partial=True)

    def _update(self, request, pk, *, partial):
        template = _template(request, pk)
        ser = TemplateSerializer(template, data=request.data, partial=partial)
        ser.is_valid(raise_exception=True)
        d = ser.validated_data
        with transaction.atomic():
            compose.template_update(
                template=template, name=d.get("name", template.name), text=d.get("text")
            )
            template.form = _template_form(template, d)
            template.save(update_fields=["form"])
        return Response(TemplateSerializer(template).data)

    @extend_schema(summary="Удалить шаблон", responses={204: None})
    def delete(self, request, pk):
        _template(request, pk).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- sender names (S7) --------------------------------------------------------


class SenderNameSerializer(serializers.ModelSerializer):
    # Declared: a read-only model field loses ``allow_blank``, and the schema
    # would then refuse the "" of a name with no refusal reason.
    reason = serializers.ChoiceField(
        choices=SenderName.Reason.choices,
        allow_blank=True,
        read_only=True,
        help_text="Причина отказа; пусто, пока имя не отклонено.",
    )
    reason_text = serializers.CharField(
        source="reason_display",
        read_only=True,
        help_text="Причина отказа словами (и пояснение модератора).",
    )

    class Meta:
        model = SenderName
        fields = [
            "id",
            "name",
            "status",
            "reason",
            "reason_text",
            "comment",
            "created_at",
            "decided_at",
        ]
        read_only_fields = fields


class SenderRequestSerializer(serializers.Serializer):
    name = serializers.CharField(
        max_length=40, help_text="Up to 11 Latin letters, digits and punctuation"
    )


def _sender(request, pk) -> SenderName:
    try:
        return SenderName.objects.get(account_id=_account_id(request), pk=pk)
    except SenderName.DoesNotExist:
        raise ApiError(
            "Имя отправителя не найдено.", code="not_found", status_code=404
        ) from None


@extend_schema_view(
    get=extend_schema(
        summary="Имена отправителя и история запросов",
        description="Every request of the account, newest first; `status` is "
        "pending / approved / rejected.  The shared default sender is always "
        "allowed and is not listed.",
        responses=SenderNameSerializer(many=True),
    ),
    post=extend_schema(
        summary="Запросить имя отправителя",
        request=SenderRequestSerializer,
        responses={201: SenderNameSerializer},
        examples=[
            OpenApiExample("Запрос", request_only=True, value={"name": "MyShop"})
        ],
    ),
)
class SenderNamesView(ListAPIView):
    serializer_class = SenderNameSerializer

    def get_queryset(self):
        return SenderName.objects.filter(
            account_id=_account_id(self.request), channel="sms"
        ).order_by("-id")

    def post(self, request):
        ser = SenderRequestSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        try:
            row = senders.sender_request(
                account=request.user.account, name=ser.validated_data["name"]
            )
        except senders.InvalidSenderName as exc:
            raise ApiError(
                exc.message, code="invalid_sender_name", fields={"name": [exc.message]}
            ) from exc
        return Response(SenderNameSerializer(row).data, status=status.HTTP_201_CREATED)


class SenderNameDetailView(APIView):
    @extend_schema(summary="Запрос имени отправителя", responses=SenderNameSerializer)
    def get(self, request, pk):
        return Response(SenderNameSerializer(_sender(request, pk)).data)

    @extend_schema(summary="Отозвать запрос на рассмотрении", responses={204: None})
    def delete(self, request, pk):
        row = _sender(request, pk)
        try:
            senders.sender_withdraw(account=request.user.account, sender_name_id=row.pk)
        except senders.InvalidSenderName as exc:
            raise ApiError(
                exc.message, code="already_decided", status_code=409
            ) from exc
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- moderation templates (S8) ------------------------------------------------


class ModerationTemplateSerializer(serializers.ModelSerializer):
    text = serializers.CharField(
        max_length=moderation.MAX_TEMPLATE_LENGTH,
        help_text="Text with variable parts written [любая фраза]",
    )

    class Meta:
        model = ModerationTemplate
        fields = [
            "id",
            "text",
            "status",
            "reason_text",
            "comment",
            "created_at",
            "decided_at",
        ]
        read_only_fields = [
            "id",
            "status",
            "reason_text",
            "comment",
            "created_at",
            "decided_at",
        ]


@extend_schema_view(
    get=extend_schema(
        summary="Шаблоны модерации", responses=ModerationTemplateSerializer(many=True)
    ),
    post=extend_schema(
        summary="Создать шаблон модерации",
        request=ModerationTemplateSerializer,
        responses={201: ModerationTemplateSerializer},
        examples=[
            OpenApiExample(
                "Код входа", request_only=True, value={"text": "Ваш код: [любая фраза]"}
            )
        ],
    ),
)
class ModerationTemplatesView(ListAPIView):
    serializer_class = ModerationTemplateSerializer

    def get_queryset(self):
        return ModerationTemplate.objects.filter(
            account_id=_account_id(self.request), channel="sms"
        ).order_by("-id")

    def post(self, request):
        ser = ModerationTemplateSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        try:
            row = moderation.template_create(
                account=request.user.account, text=ser.validated_data["text"]
            )
        except moderation.InvalidTemplate as exc:
            raise ApiError(exc.message, fields={"text": [exc.message]}) from exc
        return Response(
            ModerationTemplateSerializer(row).data, status=status.HTTP_201_CREATED
        )


class ModerationTemplateDetailView(APIView):
    def _get(self, request, pk) -> ModerationTemplate:
        try:
            return ModerationTemplate.objects.get(
                account_id=_account_id(request), pk=pk
            )
        except ModerationTemplate.DoesNotExist:
            raise ApiError(
                "Шаблон не найден.", code="not_found", status_code=404
            ) from None

    @extend_schema(summary="Шаблон модерации", responses=ModerationTemplateSerializer)
    def get(self, request, pk):
        return Response(ModerationTemplateSerializer(self._get(request, pk)).data)

    @extend_schema(summary="Удалить шаблон модерации", responses={204: None})
    def delete(self, request, pk):
        self._get(request, pk).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)
