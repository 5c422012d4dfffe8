"""The chat listens to the channels: recipients' replies (Viber now, SMS from an
SMPP gateway or the chat link) become conversation messages."""

from datetime import datetime

from django.dispatch import receiver

from messaging.signals import replies_received

from . import tasks

FIELDS = ("account_id", "campaign_id", "phone", "contact_id", "text", "external_id")


def _plain(reply: dict) -> dict:
    out = {k: reply.get(k) for k in FIELDS}
    at = reply.get("received_at")
    out["received_at"] = at.isoformat() if isinstance(at, datetime) else at
    return out


@receiver(replies_received, dispatch_uid="chat.replies")
def on_replies(sender, channel, replies, **kwargs):
    wanted = [_plain(r) for r in replies if r.get("campaign_id") and r.get("text")]
    if wanted:
        tasks.take_replies.delay(channel, wanted)
