"""Chat events to open WebSockets, through the channel layer (Redis across
processes when REDIS_URL is set).  Sent after the writing transaction commits;
a lost event is never a lost message: clients resume from their last id."""

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

log = logging.getLogger(__name__)


def visitor_group(visitor_id: int) -> str:
    return f"chat.v.{visitor_id}"


def site_group(site_id: int) -> str:
    return f"chat.s.{site_id}"


def account_group(account_id: int) -> str:
    return f"chat.a.{account_id}"


def _send(group: str, event: dict) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, {"type": "chat.event", "data": event})
    except Exception:  # a broken layer must not fail the write that committed
        log.exception("chat event to %s not sent", group)


def publish(group: str, event: dict) -> None:
    transaction.on_commit(lambda: _send(group, event))
