"""What a call's result does besides its status: the menu's unsubscribe digit
adds the recipient to the account's unsubscribed (this channel, this sender),
and its «request a URL» digit calls the client's URL (``ivr_url_requested``)."""

from django.dispatch import receiver

from contacts.services import unsubscribe_add
from messaging.models import Message
from messaging.models import MessageStatus as S
from messaging.signals import statuses_changed

from .signals import ivr_url_requested


@receiver(statuses_changed, dispatch_uid="voice.call_results")
def call_results(sender, channel=None, changes=None, **kwargs):
    if channel != "voice" or not changes:
        return
    ids = [mid for mid, _cid, _old, new in changes if new in (S.IVR, S.UNSUBSCRIBED)]
    if not ids:
        return
    rows = Message.objects.filter(id__in=ids).select_related("campaign")
    for m in rows:
        digit = (m.extra or {}).get("digit") or ""
        action = ((m.campaign.content or {}).get("ivr") or {}).get(digit) or {}
        if m.status == S.UNSUBSCRIBED:
            unsubscribe_add(
                account_id=m.account_id, phone=m.phone, channel="voice", sender=m.sender
            )
        elif action.get("action") == "url" and action.get("url"):
            ivr_url_requested.send(
                sender=Message,
                account_id=m.account_id,
                url=action["url"],
                payload={
                    "event": "voice.ivr",
                    "message_id": m.pk,
                    "campaign_id": m.campaign_id,
                    "phone": m.phone,
                    "digit": digit,
                    "answered_at": (m.extra or {}).get("answered_at"),
                },
            )
