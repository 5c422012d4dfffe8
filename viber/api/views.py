"""Viber through REST v1: images for messages (the upload id a campaign's
``content.image`` names) and the account's Viber sender names with their
packages.  Campaigns are the core's ``/api/v1/campaigns/`` with
``"channel": "viber"``.  Another account's id is a 404."""

from django.urls import reverse
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from cabinet.api.errors import ApiError
from messaging import registry

from .. import selectors, services
from ..images import MAX_BYTES, InvalidImage, image_upload
from ..models import ViberImage
from ..periods import today


class ImageUploadSerializer(serializers.Serializer):
    image = serializers.FileField(
        help_text=f"JPEG or PNG, up to {MAX_BYTES // (1024 * 1024)} MB, "
        "50–4000 px a side"
    )


class ImageSerializer(serializers.ModelSerializer):
    id = serializers.CharField(
        source="public_id", help_text="Upload id: put it in content.image"
    )
    url = serializers.SerializerMethodField(help_text="Where Viber fetches it")
    thumbnail_url = serializers.SerializerMethodField()

    class Meta:
        model = ViberImage
        fields = [
            "id",
            "original_name",
            "content_type",
            "width",
            "height",
            "size",
            "created_at",
            "url",
            "thumbnail_url",
        ]
        read_only_fields = fields

    def _absolute(self, name: str, obj) -> str:
        path = reverse(name, args=[obj.public_id])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path

    def get_url(self, obj) -> str:
        return self._absolute("viber:image", obj)

    def get_thumbnail_url(self, obj) -> str:
        return self._absolute("viber:thumbnail", obj)


IMAGE_EXAMPLE = {
    "id": "9c1b2f7e4a5d4e0f8b6a3c2d1e0f9a8b",
    "original_name": "sale.png",
    "content_type": "image/png",
    "width": 800,
    "height": 800,
    "size": 120344,
    "created_at": "2026-08-21T10:15:00+03:00",
    "url": "https://cabinet.example.com/viber/images/9c1b2f7e4a5d4e0f8b6a3c2d1e0f9a8b/",
    "thumbnail_url": "https://cabinet.example.com/viber/images/"
    "9c1b2f7e4a5d4e0f8b6a3c2d1e0f9a8b/thumbnail/",
}


class ImagesView(APIView):
    parser_classes = [MultiPartParser]

    @extend_schema(
        summary="Загрузить изображение для Viber",
        description="multipart/form-data with the file in `image`.  The answer's "
        "`id` goes into a campaign's `content.image`.  Refused (400, nothing "
        "stored): not an image, not JPEG/PNG, over 1 MB, a decompression bomb.",
        request={"multipart/form-data": ImageUploadSerializer},
        responses={201: ImageSerializer},
        examples=[OpenApiExample("Загружено", response_only=True, value=IMAGE_EXAMPLE)],
    )
    def post(self, request):
        ser = ImageUploadSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        try:
            image = image_upload(
                account=request.user.account, upload=ser.validated_data["image"]
            )
        except InvalidImage as exc:
            raise ApiError(
                exc.message, code="invalid_image", fields={"image": [exc.message]}
            ) from exc
        return Response(
            ImageSerializer(image, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )


class ImageDetailView(APIView):
    @extend_schema(
        summary="Изображение Viber",
        responses={200: ImageSerializer},
        examples=[
            OpenApiExample("Изображение", response_only=True, value=IMAGE_EXAMPLE)
        ],
    )
    def get(self, request, public_id: str):
        try:
            image = selectors.image_get(
                account_id=request.user.account_id, public_id=public_id
            )
        except ViberImage.DoesNotExist:
            raise ApiError(
                "Изображение не найдено.", code="not_found", status_code=404
            ) from None
        return Response(ImageSerializer(image, context={"request": request}).data)


class SenderSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    status = serializers.ChoiceField(
        choices=["waiting", "active", "upcoming", "unpaid", "expired", "rejected"],
        help_text="waiting = on approval (2–4 working days); active = a paid "
        "package covers today; upcoming = paid from a later date; unpaid; expired",
    )
    paid_until = serializers.DateField(allow_null=True)
    starts_on = serializers.DateField(allow_null=True)


class SendersResponseSerializer(serializers.Serializer):
    shared = serializers.ListField(
        child=serializers.CharField(), help_text="Free shared names"
    )
    package_price = serializers.DecimalField(max_digits=12, decimal_places=2)
    own = SenderSerializer(many=True)


class SendersView(APIView):
    pagination_class = None

    @extend_schema(
        summary="Имена отправителя Viber",
        description="Free shared names, the monthly package price of an own "
        "name, and the account's own names with their package state.",
        responses={200: SendersResponseSerializer},
        examples=[
            OpenApiExample(
                "Имена",
                response_only=True,
                value={
                    "shared": ["SMSinfo", "Akcii"],
                    "package_price": "35000.00",
                    "own": [
                        {
                            "id": 7,
                            "name": "Lucky Shop",
                            "status": "active",
                            "paid_until": "2026-08-31",
                            "starts_on": "2026-08-21",
                        }
                    ],
                },
            )
        ],
    )
    def get(self, request):
        account = request.user.account
        rows = selectors.sender_rows(account_id=account.pk, today=today())
        own = []
        for row in rows:
            current = row.current or row.upcoming or row.last_paid
            own.append(
                {
                    "id": row.name.pk,
                    "name": row.name.name,
                    "status": row.state,
                    "paid_until": current.ends_on if current else None,
                    "starts_on": current.starts_on if current else None,
                }
            )
        return Response(
            SendersResponseSerializer(
                {
                    "shared": list(registry.get_channel("viber").shared()),
                    "package_price": services.package_price(account=account),
                    "own": own,
                }
            ).data
        )
