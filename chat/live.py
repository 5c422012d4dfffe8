"""Chat events to open WebSockets, through the channel layer (Redis across
processes when REDIS_URL is set).  Sent after the writing transaction commits;
a lost event is never a lost message: clients resume from their last id."""

import asyncio
import logging
import threading

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


async def _send_all(layer, events) -> None:
    await asyncio.gather(
        *(
            layer.group_send(group, {"type": "chat.event", "data": event})
            for group, event in events
        )
    )


def _send(events: list[tuple[str, dict]]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        # One hop to the event loop for all of a write's events.  A thread
        # that already runs an event loop (an async caller, a test driving a
        # browser) cannot wait on another here: the hop goes from a thread.
        if _loop_running():
            failed: list[BaseException] = []

            def hop():
                try:
                    async_to_sync(_send_all)(layer, events)
                except BaseException as exc:  # re-raised in the caller's thread
                    failed.append(exc)

            worker = threading.Thread(target=hop, name="chat-publish")
            worker.start()
            worker.join()
            if failed:
                raise failed[0]
        else:
            async_to_sync(_send_all)(layer, events)
    except Exception:  # a broken layer must not fail the write that committed
        log.exception("chat events to %s not sent", [g for g, _e in events])


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def publish(group: str, event: dict) -> None:
    publish_many([(group, event)])


def publish_many(events: list[tuple[str, dict]]) -> None:
    transaction.on_commit(lambda: _send(events))
