from rest_framework import serializers

from ..models import WebhookDelivery, WebhookEndpoint


class WebhookSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookEndpoint
        fields = [
            "url",
            "is_active",
            "send_statuses",
            "send_incoming",
            "secret",
            "failures",
            "last_success_at",
            "last_failure_at",
            "updated_at",
        ]
        read_only_fields = [
            "secret",
            "failures",
            "last_success_at",
            "last_failure_at",
            "updated_at",
        ]


class WebhookWriteSerializer(serializers.Serializer):
    url = serializers.URLField(max_length=500)
    is_active = serializers.BooleanField(default=True)
    send_statuses = serializers.BooleanField(default=True)
    send_incoming = serializers.BooleanField(default=True)


class WebhookDeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "created_at",
            "url",
            "events_count",
            "attempt",
            "success",
            "status_code",
            "error",
            "duration_ms",
            "next_attempt_at",
        ]
