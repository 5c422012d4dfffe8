from rest_framework import serializers

from partners.models import RewardRate, Withdrawal


class RateSerializer(serializers.ModelSerializer):
    class Meta:
        model = RewardRate
        fields = ["service", "label", "percent", "days"]


class OverviewSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Реферальный код")
    link = serializers.URLField(help_text="Реферальная ссылка")
    balance = serializers.DecimalField(
        max_digits=14, decimal_places=2, help_text="Вознаграждение на счёте, ₽"
    )
    earned = serializers.DecimalField(
        max_digits=18, decimal_places=2, help_text="Всего начислено, ₽"
    )
    clients = serializers.IntegerField(help_text="Число привлечённых клиентов")
    min_withdrawal = serializers.IntegerField()
    rates = RateSerializer(many=True)


class WithdrawalSerializer(serializers.ModelSerializer):
    reason = serializers.CharField(source="reason_display", read_only=True)

    class Meta:
        model = Withdrawal
        fields = [
            "id",
            "amount",
            "method",
            "details",
            "status",
            "reason",
            "comment",
            "created_at",
            "decided_at",
        ]
        read_only_fields = fields


class WithdrawalCreateSerializer(serializers.Serializer):
    amount = serializers.CharField(max_length=20, help_text="Сумма, ₽")
    method = serializers.ChoiceField(
        choices=Withdrawal.Method.choices, default=Withdrawal.Method.MANUAL
    )
    details = serializers.CharField(
        max_length=300, required=False, allow_blank=True, default=""
    )
