from rest_framework import serializers

from contacts.phones import InvalidPhone, normalize_phone


class SmsSendSerializer(serializers.Serializer):
    phone = serializers.CharField(max_length=40)
    text = serializers.CharField(max_length=2000, trim_whitespace=False)
    sender = serializers.CharField(max_length=11, required=False, allow_blank=True)

    def validate_phone(self, value):
        try:
            return normalize_phone(value)
        except InvalidPhone as exc:
            raise serializers.ValidationError(exc.reason) from exc

    def validate_text(self, value):
        if not value.strip():
            raise serializers.ValidationError("Введите текст сообщения.")
        return value


class SmsSentSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="Id of the message")
    campaign_id = serializers.IntegerField()
    phone = serializers.CharField()
    parts = serializers.IntegerField()
    price = serializers.DecimalField(max_digits=10, decimal_places=2)
    status = serializers.CharField()
