from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from contacts import phones as ph
from contacts.models import Contact, CustomField, Group, ImportJob, StopNumber


class GroupSerializer(serializers.ModelSerializer):
    size = serializers.IntegerField(read_only=True)

    class Meta:
        model = Group
        fields = ["id", "name", "is_hidden", "is_stoplist", "size", "created_at"]
        read_only_fields = ["id", "size", "created_at"]


class ContactSerializer(serializers.ModelSerializer):
    """A contact; ``phone`` in any notation (stored E.164), ``extra`` holds the
    account's custom fields by key."""

    phone = serializers.CharField(max_length=40)
    extra = serializers.DictField(
        child=serializers.CharField(allow_blank=True, max_length=500), required=False
    )
    group_id = serializers.IntegerField(read_only=True)

    class Meta:
        model = Contact
        fields = [
            "id",
            "group_id",
            "phone",
            "last_name",
            "first_name",
            "middle_name",
            "birth_date",
            "gender",
            "email",
            "link",
            "consent",
            "extra",
            "operator",
            "country",
            "region",
            "timezone",
            "created_at",
        ]
        read_only_fields = [
            "id",
            "group_id",
            "operator",
            "country",
            "region",
            "timezone",
            "created_at",
        ]

    def validate_phone(self, value):
        try:
            return ph.normalize_phone(value)
        except ph.InvalidPhone as exc:
            raise serializers.ValidationError(exc.reason, code=exc.code) from exc

    def validate_extra(self, value):
        keys = self.context.get("custom_keys", set())
        unknown = sorted(set(value) - keys)
        if unknown:
            raise serializers.ValidationError(
                _("Нет таких дополнительных полей: %(keys)s")
                % {"keys": ", ".join(unknown)}
            )
        return value


class ContactUpdateSerializer(ContactSerializer):
    everywhere = serializers.BooleanField(
        required=False,
        default=False,
        write_only=True,
        help_text="true — изменить во всех группах с этим номером, "
        "false — только в этой группе",
    )

    class Meta(ContactSerializer.Meta):
        fields = ContactSerializer.Meta.fields + ["everywhere"]
        extra_kwargs = {"phone": {"required": False}}


class ImportStartSerializer(serializers.Serializer):
    file = serializers.FileField(help_text=".xlsx, .xls или .csv")
    mapping = serializers.JSONField(
        required=False,
        help_text='Колонка → поле: {"0": "phone", "Имя": "first_name", '
        '"2": "extra:card"}. Без него колонки сопоставляются по заголовкам.',
    )
    policy = serializers.ChoiceField(choices=ImportJob.Policy.choices, default="skip")
    has_header = serializers.BooleanField(required=False, allow_null=True, default=None)


class ImportAcceptedSerializer(serializers.Serializer):
    id = serializers.IntegerField()


class ImportErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField()
    reason = serializers.CharField()


class ImportJobSerializer(serializers.ModelSerializer):
    errors = ImportErrorSerializer(many=True)
    processed = serializers.SerializerMethodField()

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "group_id",
            "filename",
            "status",
            "message",
            "total",
            "processed",
            "created",
            "updated",
            "duplicates",
            "invalid",
            "errors",
            "created_at",
            "finished_at",
        ]

    def get_processed(self, job) -> int:
        from contacts.services import import_job_processed

        return import_job_processed(job)


class CustomFieldSerializer(serializers.ModelSerializer):
    class Meta:
        model = CustomField
        fields = ["id", "key", "name", "kind"]
        extra_kwargs = {"key": {"required": False}}


class StopNumberSerializer(serializers.ModelSerializer):
    phone = serializers.CharField(max_length=40)

    class Meta:
        model = StopNumber
        fields = ["id", "phone", "comment", "created_at"]
        read_only_fields = ["id", "created_at"]

    def validate_phone(self, value):
        try:
            return ph.normalize_phone(value)
        except ph.InvalidPhone as exc:
            raise serializers.ValidationError(exc.reason, code=exc.code) from exc
