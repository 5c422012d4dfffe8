"""REST v1 for webhooks: the settings (A4) and the delivery log."""

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import generics
from rest_framework.response import Response
from rest_framework.views import APIView

from cabinet.api.errors import ApiError

from .. import selectors, services
from .serializers import (
    WebhookDeliverySerializer,
    WebhookSerializer,
    WebhookWriteSerializer,
)

WEBHOOK_EXAMPLE = {
    "url": "https://example.com/sms-hook",
    "is_active": True,
    "send_statuses": True,
    "send_incoming": True,
    "secret": "9f2c4e1b7a…",
    "failures": 0,
    "last_success_at": "2026-11-25T10:00:00+03:00",
    "last_failure_at": None,
    "updated_at": "2026-11-25T09:00:00+03:00",
}


class WebhookView(APIView):
    @extend_schema(
        summary="Настройки вебхука",
        description="Адрес, на который приходят статусы сообщений и входящие, и "
        "секрет подписи (X-Signature = HMAC-SHA256(secret, X-Timestamp + '.' + тело)).",
        tags=["webhooks"],
        responses=WebhookSerializer,
        examples=[OpenApiExample("Вебхук", value=WEBHOOK_EXAMPLE, response_only=True)],
    )
    def get(self, request):
        endpoint = selectors.webhook_endpoint(account_id=request.user.account_id)
        if endpoint is None:
            raise ApiError("Вебхук не настроен.", code="not_found", status_code=404)
        return Response(WebhookSerializer(endpoint).data)

    @extend_schema(
        summary="Задать вебхук",
        tags=["webhooks"],
        request=WebhookWriteSerializer,
        responses=WebhookSerializer,
        examples=[
            OpenApiExample(
                "Запрос",
                request_only=True,
                value={
                    "url": "https://example.com/sms-hook",
                    "is_active": True,
                    "send_statuses": True,
                    "send_incoming": False,
                },
            ),
            OpenApiExample("Ответ", value=WEBHOOK_EXAMPLE, response_only=True),
        ],
    )
    def put(self, request):
        ser = WebhookWriteSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        try:
            endpoint = services.webhook_save(
                account=request.user.account, **ser.validated_data
            )
        except services.IntegrationError as exc:
            raise ApiError(
                str(exc), code="invalid_url", fields={"url": [str(exc)]}
            ) from exc
        return Response(WebhookSerializer(endpoint).data)


class WebhookDeliveriesView(generics.ListAPIView):
    serializer_class = WebhookDeliverySerializer

    def get_queryset(self):
        return selectors.webhook_deliveries(account_id=self.request.user.account_id)

    @extend_schema(
        summary="Журнал доставки вебхуков",
        description="Каждый POST пачки событий: код ответа, ошибка, время ответа и "
        "время следующей попытки (при неудаче).",
        tags=["webhooks"],
        examples=[
            OpenApiExample(
                "Журнал",
                response_only=True,
                value={
                    "id": 41,
                    "created_at": "2026-11-25T10:00:02+03:00",
                    "url": "https://example.com/sms-hook",
                    "events_count": 12,
                    "attempt": 1,
                    "success": False,
                    "status_code": 503,
                    "error": "HTTP 503",
                    "duration_ms": 87,
                    "next_attempt_at": "2026-11-25T10:00:32+03:00",
                },
            )
        ],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
