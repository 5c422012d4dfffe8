from rest_framework import serializers

from .. import actions as act
from ..kinds import KINDS, OPS
from ..models import Handler, Run


class ConditionSerializer(serializers.Serializer):
    field = serializers.CharField(
        help_text="Поле события: group, source, phone, first_name, extra.<ключ>, "
        "channel, text, amount, tag… (см. /api/v1/events/types/)"
    )
    op = serializers.ChoiceField(choices=list(OPS), default="eq")
    value = serializers.CharField(allow_blank=True)


class ActionSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=list(act.LABELS))
    config = serializers.DictField(
        help_text="Поля формы действия: для сообщений — sender, text, "
        "transliterate, tags… (как в форме отправки; sms_staff — ещё phones); "
        "webhook — url; group_add / group_move — group (id группы)."
    )


class ActionOutSerializer(serializers.Serializer):
    kind = serializers.CharField()
    description = serializers.CharField()
    config = serializers.DictField()


class HandlerSerializer(serializers.ModelSerializer):
    actions = serializers.SerializerMethodField()
    kind_label = serializers.SerializerMethodField()

    class Meta:
        model = Handler
        fields = [
            "id",
            "kind",
            "kind_label",
            "name",
            "is_active",
            "conditions",
            "settings",
            "actions",
            "max_runs_per_hour",
            "runs_count",
            "last_run_at",
            "stopped_reason",
            "created_at",
            "updated_at",
        ]

    def get_kind_label(self, obj) -> str:
        spec = KINDS.get(obj.kind)
        return str(spec.label) if spec else obj.kind

    def get_actions(self, obj) -> list[dict]:
        out = []
        for a in obj.actions.all():
            config = dict(a.config)
            out.append(
                {
                    "kind": a.kind,
                    "description": act.describe(a.kind, a.config),
                    "config": config,
                }
            )
        return out


class HandlerWriteSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=list(KINDS))
    name = serializers.CharField(required=False, allow_blank=True, max_length=200)
    is_active = serializers.BooleanField(required=False, default=True)
    conditions = ConditionSerializer(many=True, required=False)
    settings = serializers.DictField(
        required=False,
        help_text='balance_low: {"threshold": "100"}; contact_date: '
        '{"date_field": "birth_date", "at": "10:00"}',
    )
    actions = ActionSerializer(many=True, required=False)
    max_runs_per_hour = serializers.IntegerField(
        required=False, min_value=1, max_value=100000
    )


class RunSerializer(serializers.ModelSerializer):
    class Meta:
        model = Run
        fields = [
            "id",
            "created_at",
            "event_id",
            "trigger",
            "outcome",
            "results",
            "subjects",
            "cost",
        ]


class EventFieldSerializer(serializers.Serializer):
    field = serializers.CharField()
    label = serializers.CharField()
    type = serializers.CharField()


class EventTypeSerializer(serializers.Serializer):
    kind = serializers.CharField()
    label = serializers.CharField()
    description = serializers.CharField()
    fields = EventFieldSerializer(many=True)
    actions = serializers.ListField(child=serializers.CharField())
    settings = serializers.ListField(child=serializers.CharField())


class EventTypeCatalogueSerializer(serializers.Serializer):
    """The catalogue of event types: an object, not a bare array (every list of
    the API is an object; this one is short and fixed, so it is not paged)."""

    types = EventTypeSerializer(many=True)
