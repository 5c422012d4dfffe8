"""The Viber send form's logic, over the SMS form's (``messaging.compose``): a
payload is the SMS payload plus ``content`` (image, button) and the
``replies`` option.  Launch and quote go through the core's
``campaign_launch`` / ``campaign_quote`` — the same pipeline as every send."""

from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _

from messaging import compose as core
from messaging import senders
from messaging.models import Campaign, Source
from messaging.rendering import preview_renderer
from messaging.services import LaunchError, Quote, campaign_launch, campaign_quote

from . import selectors
from .channels import SERVICE, SHARED, VIBER, ViberContent
from .images import InvalidImage, image_upload
from .models import ViberImage

CHANNEL = "viber"


def form_kwargs(*, account) -> dict:
    return {
        "senders": senders.sender_choices(account_id=account.pk, channel=CHANNEL),
        "groups": core.compose_groups(account_id=account.pk),
    }


def attach_upload(*, account, form) -> None:
    """An image sent with the form itself (a page without JavaScript): check
    and store it, and name it in ``image_id``; a bad one is the field's error."""
    upload = form.cleaned_data.get("image")
    if not upload:
        return
    try:
        image = image_upload(account=account, upload=upload)
    except InvalidImage as exc:
        form.add_error("image", exc.message)
        return
    form.cleaned_data["image_id"] = image.public_id
    form.data = form.data.copy()
    form.data["image_id"] = image.public_id


def payload_from_form(form) -> dict:
    payload = core.payload_from_form(form)
    payload["content"] = form.content()
    if form.cleaned_data.get("replies"):
        payload["options"]["replies"] = True
    return payload


def form_initial(payload: dict) -> dict:
    initial = core.form_initial(payload)
    content = ViberContent.load(payload.get("content") or {})
    initial.update(
        format=content.format(payload.get("text") or ""),
        image_id=content.image,
        button_text=content.button_text,
        button_url=content.button_url,
        replies=bool((payload.get("options") or {}).get("replies")),
    )
    return initial


def payload_from_campaign(campaign: Campaign) -> dict:
    payload = core.payload_from_campaign(campaign)
    payload["content"] = dict(campaign.content or {})
    if (campaign.options or {}).get("replies"):
        payload["options"]["replies"] = True
    return payload


def compose_launch(
    *, account, user, form, payload: dict, quote_token: str = ""
) -> Campaign:
    """``LaunchError`` from the engine: nothing charged, nothing sent.  With
    the price the form was shown (``quote_token``, as on the SMS form) the
    campaign is charged at that tier and refused if it would cost more."""
    token = form.cleaned_data.get("submit_token") or ""
    shown = core.shown_quote(account=account, payload=payload, token=quote_token)
    return campaign_launch(
        tier=shown[0] if shown else None,
        quoted_total=shown[1] if shown else None,
        account=account,
        channel=CHANNEL,
        source=Source.CABINET,
        created_by=user,
        send_at=form.cleaned_data.get("send_at"),
        client_id=f"form:{token}" if token else "",
        content=payload.get("content") or {},
        **core.launch_kwargs(payload),
    )


def _sender(account, sender: str) -> str:
    try:
        return senders.sender_validate(account=account, channel=CHANNEL, sender=sender)
    except senders.SenderNotAllowed as exc:
        raise LaunchError(exc.message, code=exc.code, field="sender") from exc


@dataclass
class Estimate:
    quote: Quote
    sender: str
    variant: str

    @property
    def kind_label(self) -> str:
        who, what = self.variant.split(":")
        message = _("сервисное") if what == SERVICE else _("рекламное")
        name = _("общее имя") if who == SHARED else _("своё имя")
        return f"{message}, {name}"

    @property
    def average(self) -> Decimal:
        if not self.quote.messages:
            return Decimal("0")
        return (self.quote.total / self.quote.messages).quantize(Decimal("0.01"))


def compose_quote(*, account, payload: dict) -> Estimate:
    """The price before sending, as the engine will charge it (``LaunchError``
    for what the launch would refuse: a name without a paid package, bad
    content…)."""
    kw = core.launch_kwargs(payload)
    sender = _sender(account, kw["sender"])
    content = payload.get("content") or {}
    quote = campaign_quote(
        account=account,
        channel=CHANNEL,
        text=kw["text"],
        sender=sender,
        group_ids=kw["group_ids"],
        filters=kw["filters"],
        phones=kw["phones"],
        options=kw["options"],
        content=content,
    )
    return Estimate(quote, sender, VIBER.variant(account, sender, kw["text"], content))


@dataclass
class Bubble:
    """One recipient's message as Viber shows it."""

    sender: str
    phone: str
    name: str
    text: str
    image: ViberImage | None
    button_text: str
    button_url: str


def compose_preview(*, account, payload: dict, sender: str, limit: int = 2):
    """The first recipients' messages, rendered as they will be sent."""
    content = ViberContent.load(payload.get("content") or {})
    image = None
    if content.image:
        try:
            image = selectors.image_get(account_id=account.pk, public_id=content.image)
        except ViberImage.DoesNotExist:
            image = None
    renderer = preview_renderer(
        account=account,
        text=payload.get("text") or "",
        options=payload.get("options") or {},
    )
    rows = core.preview_recipients(account=account, payload=payload, limit=limit)
    result = []
    for fields in rows or [{}]:
        name = " ".join(
            p for p in (fields.get("last_name"), fields.get("first_name")) if p
        )
        result.append(
            Bubble(
                sender,
                fields.get("phone", ""),
                name,
                renderer.render(fields, None) if payload.get("text") else "",
                image,
                content.button_text,
                content.button_url,
            )
        )
    return result


# --- templates (S6 for Viber) ---------------------------------------------------------


def template_list(*, account_id: int):
    return core.template_list(account_id=account_id, channel=CHANNEL)


def template_get(*, account_id: int, template_id):
    """The account's Viber template; ``MessageTemplate.DoesNotExist`` otherwise."""
    template = core.template_get(account_id=account_id, template_id=template_id)
    if template.channel != CHANNEL:
        raise type(template).DoesNotExist
    return template


def template_save(*, account, payload: dict, name: str = "", template=None):
    return core.template_save(
        account=account, payload=payload, name=name, template=template, channel=CHANNEL
    )
