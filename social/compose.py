"""The VK/OK send form's logic, over the SMS form's (``messaging.compose``):
the sender is one of the account's approved groups, and the group's network
is the channel (``vk.com/…`` → vk, ``ok.ru/…`` → ok).  Launch and quote go
through the core's ``campaign_launch`` / ``campaign_quote`` — the same
pipeline as every send."""

from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _

from messaging import compose as core
from messaging.models import Campaign, Source
from messaging.services import LaunchError, Quote, campaign_launch, campaign_quote

from .selectors import approved_groups

# The page's templates are kept with the VK channel's.
TEMPLATE_CHANNEL = "vk"


def channel_of(sender: str) -> str:
    """The network of a group address; ``LaunchError`` for anything else."""
    if sender.startswith("vk.com/"):
        return "vk"
    if sender.startswith("ok.ru/"):
        return "ok"
    raise LaunchError(
        _("Выберите группу, от которой отправить."),
        code="sender_not_allowed",
        field="sender",
    )


def form_kwargs(*, account) -> dict:
    groups = approved_groups(account_id=account.pk)
    return {
        "senders": groups["vk"] + groups["ok"],
        "groups": core.compose_groups(account_id=account.pk),
    }


def payload_from_form(form) -> dict:
    return core.payload_from_form(form)


def form_initial(payload: dict) -> dict:
    return core.form_initial(payload)


def payload_from_campaign(campaign: Campaign) -> dict:
    return core.payload_from_campaign(campaign)


def compose_launch(
    *, account, user, form, payload: dict, quote_token: str = ""
) -> Campaign:
    """``LaunchError`` from the engine: nothing charged, nothing sent."""
    token = form.cleaned_data.get("submit_token") or ""
    shown = core.shown_quote(account=account, payload=payload, token=quote_token)
    kw = core.launch_kwargs(payload)
    return campaign_launch(
        tier=shown[0] if shown else None,
        quoted_total=shown[1] if shown else None,
        account=account,
        channel=channel_of(kw["sender"]),
        source=Source.CABINET,
        created_by=user,
        send_at=form.cleaned_data.get("send_at"),
        client_id=f"form:{token}" if token else "",
        **kw,
    )


@dataclass
class Estimate:
    quote: Quote
    sender: str
    channel: str

    @property
    def average(self) -> Decimal:
        if not self.quote.messages:
            return Decimal("0")
        return (self.quote.total / self.quote.messages).quantize(Decimal("0.01"))


def compose_quote(*, account, payload: dict) -> Estimate:
    """The price before sending, as the engine will hold it (``LaunchError``
    for what the launch would refuse)."""
    kw = core.launch_kwargs(payload)
    channel = channel_of(kw["sender"])
    quote = campaign_quote(
        account=account,
        channel=channel,
        text=kw["text"],
        sender=kw["sender"],
        group_ids=kw["group_ids"],
        filters=kw["filters"],
        phones=kw["phones"],
        options=kw["options"],
    )
    return Estimate(quote, kw["sender"], channel)


def compose_preview(*, account, payload: dict, limit: int = 2):
    return core.compose_preview(account=account, payload=payload, limit=limit)


def template_list(*, account_id: int):
    return core.template_list(account_id=account_id, channel=TEMPLATE_CHANNEL)


def template_get(*, account_id: int, template_id):
    template = core.template_get(account_id=account_id, template_id=template_id)
    if template.channel != TEMPLATE_CHANNEL:
        raise type(template).DoesNotExist
    return template


def template_save(*, account, payload: dict, name: str = "", template=None):
    return core.template_save(
        account=account,
        payload=payload,
        name=name,
        template=template,
        channel=TEMPLATE_CHANNEL,
    )
