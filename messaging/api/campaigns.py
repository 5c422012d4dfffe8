"""Campaigns through the API: create (idempotent by ``client_id``), read with
counters and cost, cancel / pause / resume; messages of the account."""

from dataclasses import fields
from datetime import timedelta

from django.utils import timezone
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from cabinet.api.errors import ApiError
from messaging import registry, services
from messaging.models import Campaign, Message, Source
from messaging.selectors import campaign_get


class SmoothSerializer(serializers.Serializer):
    portions = serializers.IntegerField(min_value=2, max_value=1000)
    interval_minutes = serializers.IntegerField(min_value=1, max_value=1440)


class WindowSerializer(serializers.Serializer):
    start = serializers.RegexField(r"^\d{2}:\d{2}$", source="from", required=False)
    to = serializers.RegexField(r"^\d{2}:\d{2}$")
    weekdays = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=7),
        required=False,
        max_length=7,
    )

    def to_internal_value(self, data):
        if isinstance(data, dict) and "from" in data:
            data = {**data, "start": data["from"]}
        return super().to_internal_value(data)


class ContentField(serializers.DictField):
    """A channel's content beyond the text (Viber: image and button); validated
    by the channel's registry entry (``ChannelKind.content``)."""


class ContentFieldExtension(OpenApiSerializerFieldExtension):
    """Documents ``content`` as the registered channels' content objects."""

    target_class = ContentField

    def map_serializer_field(self, auto_schema, direction):
        schemas = [
            {**kind.content.json_schema(), "title": f"{kind.code} content"}
            for kind in registry.all_channels()
            if fields(kind.content)
        ]
        schema = {
            "type": "object",
            "description": "The channel's content beyond the text (none for sms).",
        }
        if schemas:
            schema["oneOf"] = schemas
        return schema


class CampaignCreateSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(choices=["sms"], default="sms")
    text = serializers.CharField(
        max_length=5000,
        trim_whitespace=False,
        required=False,
        allow_blank=True,
        default="",
        help_text="Required unless the content carries the message (a Viber image)",
    )
    content = ContentField(required=False)
    sender = serializers.CharField(max_length=64, required=False, allow_blank=True)
    group_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, max_length=1000
    )
    filters = serializers.DictField(required=False)
    phones = serializers.ListField(
        child=serializers.CharField(max_length=40),
        required=False,
        max_length=services.MAX_PASTED_RECIPIENTS,
    )
    send_at = serializers.DateTimeField(required=False, allow_null=True)
    smooth = SmoothSerializer(required=False, allow_null=True)
    ttl = serializers.IntegerField(
        min_value=60,
        max_value=86400,
        required=False,
        allow_null=True,
        help_text="Message lifetime, seconds: up to 43200 (12 h), up to 86400 "
        "(24 h) for vk and ok",
    )
    window = WindowSerializer(
        required=False,
        allow_null=True,
        help_text="Allowed hours in the recipient's local time",
    )
    transliterate = serializers.BooleanField(default=False)
    shorten_links = serializers.BooleanField(default=False)
    chat_link = serializers.BooleanField(default=False)
    promo_action = serializers.IntegerField(
        required=False, allow_null=True, min_value=1
    )
    tags = serializers.ListField(
        child=serializers.CharField(max_length=50), required=False, max_length=20
    )
    description = serializers.CharField(
        max_length=300, required=False, allow_blank=True
    )
    client_id = serializers.CharField(
        max_length=64,
        required=False,
        allow_blank=True,
        help_text="Idempotency key: a repeat returns the first campaign",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channel"].choices = [k.code for k in registry.all_channels()]

    def validate(self, data):
        if not data.get("group_ids") and not data.get("phones"):
            raise serializers.ValidationError(
                "Укажите группы (group_ids) или номера (phones)."
            )
        if data.get("send_at") and data["send_at"] < timezone.now() - timedelta(
            minutes=5
        ):
            raise serializers.ValidationError({"send_at": "Время отправки уже прошло."})
        longest = registry.get_channel(data.get("channel", "sms")).max_ttl_seconds
        if data.get("ttl") and data["ttl"] > longest:
            raise serializers.ValidationError(
                {"ttl": f"Время жизни сообщения — от 60 до {longest} секунд."}
            )
        return data

    def options(self) -> dict:
        d = self.validated_data
        options = {
            k: d[k] for k in ("transliterate", "shorten_links", "chat_link") if d[k]
        }
        if d.get("smooth"):
            options["smooth"] = dict(d["smooth"])
        if d.get("ttl"):
            options["ttl"] = d["ttl"]
        if d.get("window"):
            w = d["window"]
            options["window"] = {
                "from": w.get("from", "00:00"),
                "to": w["to"],
                "weekdays": w.get("weekdays") or [1, 2, 3, 4, 5, 6, 7],
            }
        if d.get("promo_action"):
            options["promo_action"] = d["promo_action"]
        return options


class CampaignSerializer(serializers.ModelSerializer):
    counters = serializers.SerializerMethodField(help_text="Messages per status")
    columns = serializers.SerializerMethodField(
        help_text="Report columns of the channel: abbreviation → count"
    )

    class Meta:
        model = Campaign
        fields = [
            "id",
            "channel",
            "source",
            "status",
            "sender",
            "text",
            "description",
            "tags",
            "created_at",
            "send_at",
            "started_at",
            "finished_at",
            "recipients",
            "cost",
            "client_id",
            "content",
            "counters",
            "columns",
        ]
        read_only_fields = fields

    def get_counters(self, obj) -> dict[str, int]:
        cached = getattr(obj, "_counters", None)
        if cached is None:
            cached = services.campaign_counters(campaign_id=obj.pk)
        return {k: v for k, v in cached.items() if v}

    def get_columns(self, obj) -> dict[str, int]:
        counters = getattr(obj, "_counters", None) or services.campaign_counters(
            campaign_id=obj.pk
        )
        kind = registry.get_channel(obj.channel)
        return {
            str(col.abbr): sum(
                counters.get(s, 0) for s in col.statuses if s != "sending"
            )
            for col in kind.columns
        }


class MessageSerializer(serializers.ModelSerializer):
    class Meta:
        model = Message
        fields = [
            "id",
            "campaign_id",
            "channel",
            "phone",
            "sender",
            "text",
            "status",
            "reason",
            "parts",
            "price",
            "operator",
            "country",
            "created_at",
            "send_at",
            "sent_at",
            "status_at",
            "client_ref",
        ]
        read_only_fields = fields


def _get(request, pk) -> Campaign:
    try:
        return campaign_get(account_id=request.user.account_id, campaign_id=pk)
    except (Campaign.DoesNotExist, ValueError):
        raise ApiError(
            "Рассылка не найдена.", code="not_found", status_code=404
        ) from None


# POST /api/v1/campaigns/.  The route is mounted by the reports app
# (reports.api.views.CampaignsView adds the list as GET), so the messaging core
# never imports the reports above it.  (A comment, not a docstring: drf-spectacular
# would publish a docstring as the operation's description.)
class CampaignCreateView(APIView):
    @extend_schema(
        summary="Создать рассылку",
        request=CampaignCreateSerializer,
        responses={201: CampaignSerializer, 200: CampaignSerializer},
        examples=[
            OpenApiExample(
                "SMS to two numbers",
                request_only=True,
                value={
                    "channel": "sms",
                    "text": "Скидка 20% до воскресенья!",
                    "sender": "SMSinfo",
                    "phones": ["+79161234567", "89031112233"],
                    "tags": ["акция"],
                    "client_id": "order-42",
                },
            ),
            OpenApiExample(
                "Viber: text + image + button to a group",
                request_only=True,
                value={
                    "channel": "viber",
                    "text": "[Имя], скидка 20% на всё до воскресенья!",
                    "sender": "SMSinfo",
                    "group_ids": [12],
                    "content": {
                        "image": "9c1b2f7e4a5d4e0f8b6a3c2d1e0f9a8b",
                        "button_text": "В магазин",
                        "button_url": "https://shop.example.com/sale",
                    },
                    "ttl": 3600,
                },
            ),
        ],
    )
    def post(self, request):
        ser = CampaignCreateSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        d = ser.validated_data
        if d.get("client_id"):
            existing = Campaign.objects.filter(
                account_id=request.user.account_id, client_id=d["client_id"]
            ).first()
            if existing:
                return Response(
                    CampaignSerializer(existing).data, status=status.HTTP_200_OK
                )
        try:
            campaign = services.campaign_launch(
                account=request.user.account,
                channel=d["channel"],
                text=d.get("text", ""),
                content=d.get("content"),
                sender=d.get("sender", ""),
                group_ids=d.get("group_ids"),
                filters=d.get("filters"),
                phones=d.get("phones"),
                options=ser.options(),
                tags=d.get("tags"),
                description=d.get("description", ""),
                source=Source.API,
                send_at=d.get("send_at"),
                client_id=d.get("client_id", ""),
            )
        except services.LaunchError as exc:
            code = (
                402
                if exc.code == "insufficient_funds"
                else 404
                if exc.code == "not_found"
                else 400
            )
            fields = {exc.field: [exc.message]} if exc.field else None
            raise ApiError(
                exc.message, code=exc.code, status_code=code, fields=fields
            ) from exc
        return Response(
            CampaignSerializer(campaign).data, status=status.HTTP_201_CREATED
        )


class CampaignDetailView(APIView):
    @extend_schema(
        summary="Рассылка: статусы и стоимость", responses=CampaignSerializer
    )
    def get(self, request, pk):
        return Response(CampaignSerializer(_get(request, pk)).data)


class CampaignActionView(APIView):
    action = ""

    @extend_schema(
        summary="Отменить / приостановить / возобновить рассылку",
        description="cancel — отменить неотправленное (с возвратом денег), pause — "
        "приостановить, resume — возобновить; 409, если состояние не позволяет.",
        request=None,
        responses=CampaignSerializer,
    )
    def post(self, request, pk):
        campaign = _get(request, pk)
        if self.action == "cancel":
            if campaign.status in (Campaign.Status.DONE, Campaign.Status.REJECTED):
                raise ApiError(
                    "Рассылка уже завершена: отменять нечего.",
                    code="already_finished",
                    status_code=409,
                )
            services.campaign_cancel(campaign=campaign)
        elif self.action == "pause":
            if not services.campaign_pause(campaign=campaign):
                raise ApiError(
                    "Приостановить можно только отправляющуюся рассылку.",
                    code="not_running",
                    status_code=409,
                )
        elif self.action == "resume":
            if not services.campaign_resume(campaign=campaign):
                raise ApiError(
                    "Рассылка не приостановлена.", code="not_paused", status_code=409
                )
        campaign.refresh_from_db()
        return Response(CampaignSerializer(campaign).data)


class MessagesView(ListAPIView):
    serializer_class = MessageSerializer

    @extend_schema(
        summary="Сообщения аккаунта",
        parameters=[
            OpenApiParameter("campaign", int, description="Only this campaign"),
            OpenApiParameter("status", str),
            OpenApiParameter("phone", str),
        ],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        qs = Message.objects.filter(account_id=self.request.user.account_id)
        params = self.request.query_params
        if params.get("campaign"):
            try:
                campaign = _get(self.request, int(params["campaign"]))
            except ValueError:
                raise ApiError(
                    "campaign: нужен числовой id.", code="validation_error"
                ) from None
            qs = qs.filter(campaign_id=campaign.pk)
        if params.get("status"):
            qs = qs.filter(status=params["status"])
        if params.get("phone"):
            qs = qs.filter(phone=params["phone"])
        return qs.order_by("-id")
