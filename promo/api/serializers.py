from rest_framework import serializers

from promo.models import CODE_LENGTH_MAX, CODE_LENGTH_MIN, PromoAction


class PromoActionSerializer(serializers.ModelSerializer):
    """A promo action.  ``starts_at`` empty: each code's validity starts when it
    is sent.  ``id`` is the manual's ``discountID``: pass it as
    ``options.promo_action`` when sending and put ``[couponCode]`` in the text."""

    code_length = serializers.IntegerField(
        min_value=CODE_LENGTH_MIN, max_value=CODE_LENGTH_MAX, default=6
    )
    valid_days = serializers.IntegerField(min_value=1, max_value=3650, default=30)
    stats = serializers.SerializerMethodField()

    class Meta:
        model = PromoAction
        fields = [
            "id",
            "name",
            "starts_at",
            "valid_days",
            "code_length",
            "instruction",
            "is_active",
            "reminders_enabled",
            "reminder_after_days",
            "reminder_every_days",
            "reminder_count",
            "reminder_text",
            "reminder_sender",
            "reminder_rounds_done",
            "created_at",
            "stats",
        ]
        read_only_fields = [
            "id",
            "is_active",
            "reminder_rounds_done",
            "created_at",
            "stats",
        ]

    def get_stats(self, obj) -> dict:
        stats = getattr(obj, "stats", None)
        if stats is None:
            return None
        return {
            "sent": stats.sent,
            "delivered": stats.delivered,
            "redeemed": stats.redeemed,
            "redemption_rate": stats.redemption_rate,
            "reminders": stats.reminders,
        }

    def validate_starts_at(self, value):
        # Years far from now are typos (and old dates carry odd historical UTC
        # offsets that break RFC 3339 in the answer).
        if value is not None and not 2000 <= value.year <= 2100:
            raise serializers.ValidationError("Укажите дату между 2000 и 2100 годом.")
        return value

    def validate(self, data):
        if (
            data.get("reminders_enabled")
            and not (data.get("reminder_text") or "").strip()
        ):
            raise serializers.ValidationError(
                {"reminder_text": ["Введите текст напоминания."]}
            )
        return data


class PromoCodeInSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=40, help_text="Промокод клиента")


class PromoCodeResultSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=["valid", "used", "expired", "not_started", "unknown"],
        help_text="valid — можно использовать; used — уже использован; expired — срок "
        "истёк; not_started — акция ещё не началась; unknown — нет такого кода",
    )
    code = serializers.CharField()
    action_id = serializers.IntegerField(allow_null=True)
    action_name = serializers.CharField()
    instruction = serializers.CharField(help_text="Инструкция для менеджера")
    valid_from = serializers.DateTimeField(allow_null=True)
    valid_until = serializers.DateTimeField(allow_null=True)
    used_at = serializers.DateTimeField(allow_null=True)
    used_by = serializers.CharField()
    redeemed = serializers.BooleanField(
        help_text="Этот вызов отметил код использованным"
    )


class PromoActionListSerializer(serializers.Serializer):
    """``GET /api/v1/promo/actions/``: a cursor page, newest first."""

    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = PromoActionSerializer(many=True)
