from rest_framework import serializers

from messaging.models import Campaign, Message


class CampaignReportSerializer(serializers.ModelSerializer):
    """A campaign as the reports show it: ``counters`` maps each message status
    with messages to its count (from the engine's per-campaign counters;
    ``sending`` is counted under ``queued``)."""

    counters = serializers.SerializerMethodField()
    cost = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)

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
            "recipients",
            "cost",
            "counters",
        ]
        read_only_fields = fields

    def get_counters(self, obj) -> dict[str, int]:
        counters = getattr(obj, "report_counters", None)
        if counters is None:
            from reports.selectors import counters_for

            counters = counters_for([obj.pk]).get(obj.pk, {})
        return dict(sorted(counters.items()))


class CursorPageLinks(serializers.Serializer):
    """The links of a cursor page, as in every list of /api/v1/."""

    next = serializers.URLField(
        allow_null=True,
        help_text="Следующая (более старая) страница; null — страниц больше нет.",
    )
    previous = serializers.URLField(
        allow_null=True,
        help_text="Предыдущая (более новая) страница; null — это первая страница.",
    )


class CampaignReportPageSerializer(CursorPageLinks):
    results = CampaignReportSerializer(many=True)


class MessageReportSerializer(serializers.ModelSerializer):
    status_display = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = Message
        fields = [
            "id",
            "campaign_id",
            "phone",
            "operator",
            "country",
            "sender",
            "text",
            "parts",
            "price",
            "status",
            "status_display",
            "reason",
            "created_at",
            "send_at",
            "sent_at",
            "status_at",
        ]
        read_only_fields = fields


class MessagePageSerializer(CursorPageLinks):
    results = MessageReportSerializer(many=True)
