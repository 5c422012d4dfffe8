from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from cabinet.api.errors import ApiError
from messaging import services
from messaging.models import Source

from .serializers import SmsSendSerializer, SmsSentSerializer


class SmsSendView(APIView):
    @extend_schema(
        summary="Отправить одно СМС",
        request=SmsSendSerializer,
        responses={201: SmsSentSerializer},
    )
    def post(self, request):
        ser = SmsSendSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        d = ser.validated_data
        try:
            campaign = services.campaign_launch(
                account=request.user.account,
                channel="sms",
                text=d["text"],
                sender=d.get("sender", ""),
                phones=[d["phone"]],
                source=Source.API,
            )
        except services.LaunchError as exc:
            code = 402 if exc.code == "insufficient_funds" else 400
            raise ApiError(exc.message, code=exc.code, status_code=code) from exc
        message = campaign.messages.get()
        return Response(
            SmsSentSerializer(
                {
                    "id": message.pk,
                    "campaign_id": campaign.pk,
                    "phone": message.phone,
                    "parts": message.parts,
                    "price": message.price,
                    "status": message.status,
                }
            ).data,
            status=status.HTTP_201_CREATED,
        )
