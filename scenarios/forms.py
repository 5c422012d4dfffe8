"""The launch form: the audience and timing part of the channels' send form
(``messaging.forms.ComposeForm``: groups, the group filter, numbers, send
later), with the same cleaning."""

from messaging.forms import ComposeForm

AUDIENCE_FIELDS = (
    "groups",
    "filters",
    "f_gender",
    "f_age_min",
    "f_age_max",
    "f_birth_month",
    "f_operator",
    "f_region",
    "f_consent",
    "phones",
    "send_later",
    "send_date",
    "send_time",
    "send_tz",
    "submit_token",
)


class LaunchForm(ComposeForm):
    text_required = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in list(self.fields):
            if name not in AUDIENCE_FIELDS:
                self.fields.pop(name)

    def audience(self) -> dict:
        data = self.cleaned_data
        return {
            "group_ids": [int(g) for g in data.get("groups") or []],
            "filters": data.get("filters") or {},
            "phones": data.get("phones") or [],
            "send_at": data.get("send_at"),
        }
