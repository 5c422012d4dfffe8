"""REST v1: CallPassword (send, status) and voice campaigns' audio."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from cabinet.api.errors import ApiError
from messaging.models import Source
from voice import selectors, services
from voice.models import CallPassword

STATUS_CODES = {
    "invalid_recipient": 400,
    "stop_list": 400,
    "rate_limited": 429,
    "insufficient_funds": 402,
    "blocked": 403,
    "not_available": 503,
}


class CallPasswordSendSerializer(serializers.Serializer):
    recipient = serializers.CharField(max_length=32, help_text="Номер телефона")
    id = serializers.CharField(
        max_length=64,
        required=False,
        allow_blank=True,
        help_text="Ваш id запроса: повтор с тем же id вернёт первый результат "
        "без второго звонка и списания",
    )
    validate = serializers.BooleanField(
        required=False, default=False, help_text="Только проверить и посчитать цену"
    )


class CallPasswordSerializer(serializers.Serializer):
    id = serializers.CharField()
    request_id = serializers.IntegerField(allow_null=True)
    code = serializers.CharField(allow_blank=True)
    phone = serializers.CharField(allow_blank=True)
    caller = serializers.CharField(allow_blank=True)
    status = serializers.CharField(allow_blank=True)
    price = serializers.DecimalField(max_digits=10, decimal_places=2)
    expires_at = serializers.DateTimeField(allow_null=True)
    expired = serializers.BooleanField()
    validate = serializers.BooleanField()


def _body(row: CallPassword | None, *, id_: str, code: str, price, validate=False):
    message = row.message if row else None
    return CallPasswordSerializer(
        {
            "id": id_,
            "request_id": row.pk if row else None,
            "code": code,
            "phone": row.phone if row else "",
            "caller": row.caller if row else "",
            "status": message.status if message else "",
            "price": message.price if message else price,
            "expires_at": row.expires_at if row else None,
            "expired": row.is_expired if row else False,
            "validate": validate,
        }
    ).data


class CallPasswordView(APIView):
    @extend_schema(
        summary="CallPassword: позвонить с номера, последние 4 цифры которого — код",
        request=CallPasswordSendSerializer,
        responses={201: CallPasswordSerializer, 200: CallPasswordSerializer},
    )
    def post(self, request):
        ser = CallPasswordSendSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        d = ser.validated_data
        try:
            result = services.callpassword_send(
                account=request.user.account,
                recipient=d["recipient"],
                client_id=d.get("id") or "",
                validate=d["validate"],
                source=Source.API,
            )
        except services.VoiceError as exc:
            raise ApiError(
                exc.message,
                code=exc.code,
                status_code=STATUS_CODES.get(exc.code, 400),
            ) from exc
        return Response(
            _body(
                result.request,
                id_=result.id,
                code=result.code,
                price=result.price,
                validate=result.validated,
            ),
            status=status.HTTP_200_OK if result.validated else status.HTTP_201_CREATED,
        )


class CallPasswordDetailView(APIView):
    @extend_schema(
        summary="CallPassword: статус, код и стоимость запроса",
        responses={200: CallPasswordSerializer},
    )
    def get(self, request, pk: int):
        try:
            row = selectors.callpassword_get(account_id=request.user.account_id, pk=pk)
        except CallPassword.DoesNotExist:
            raise ApiError(
                "Запрос CallPassword не найден.", code="not_found", status_code=404
            ) from None
        return Response(
            _body(row, id_=row.client_id or str(row.pk), code=row.code, price=0)
        )
