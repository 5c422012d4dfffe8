from rest_framework import serializers

from billing.models import Invoice, LedgerEntry, LedgerKind


class LedgerEntrySerializer(serializers.ModelSerializer):
    amount = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        help_text="Со знаком: «+» — зачисление, «−» — списание.",
    )
    kind_display = serializers.CharField(source="get_kind_display")

    class Meta:
        model = LedgerEntry
        fields = [
            "id",
            "created_at",
            "amount",
            "kind",
            "kind_display",
            "reason",
            "service",
            "balance_after",
        ]


class LedgerFilterSerializer(serializers.Serializer):
    date_from = serializers.DateField(
        required=False, help_text="Начало периода (включительно)."
    )
    date_to = serializers.DateField(
        required=False, help_text="Конец периода (включительно)."
    )
    kind = serializers.MultipleChoiceField(choices=LedgerKind.choices, required=False)

    def validate(self, data):
        if (
            data.get("date_from")
            and data.get("date_to")
            and data["date_from"] > data["date_to"]
        ):
            raise serializers.ValidationError("Начало периода позже его конца.")
        return data


class InvoiceSerializer(serializers.ModelSerializer):
    status_display = serializers.CharField(source="get_status_display")
    pdf_url = serializers.SerializerMethodField()

    class Meta:
        model = Invoice
        fields = [
            "id",
            "number",
            "created_at",
            "amount",
            "status",
            "status_display",
            "paid_at",
            "payer",
            "pdf_url",
        ]

    def get_pdf_url(self, obj) -> str:
        from django.urls import reverse

        return reverse("billing:invoice_pdf", args=[obj.pk])


class InvoiceCreateSerializer(serializers.Serializer):
    amount = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=10, max_value=10000000
    )
