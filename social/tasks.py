"""Thin Celery wrappers: take ids or payloads, call a service."""

from celery import shared_task

from . import messengers, services
from .bots import BotError


@shared_task(acks_late=True, ignore_result=True)
def social_callbacks(channel: str, events: list[dict]) -> int:
    """The fake networks' callbacks, delivered later like the real ones."""
    return services.callbacks_apply(channel=channel, events=events)


@shared_task(acks_late=True, ignore_result=True)
def record_unsubscribes(channel: str, message_ids: list[int]) -> int:
    return services.unsubscribes_record(channel=channel, message_ids=message_ids)


@shared_task(
    acks_late=True,
    ignore_result=True,
    autoretry_for=(BotError,),
    retry_backoff=5,
    max_retries=5,
)
def messenger_send(binding_id: int, text: str) -> None:
    """One notification to one bound chat (retried when the bot API fails)."""
    messengers.binding_send(binding_id=binding_id, text=text)


@shared_task(
    acks_late=True,
    ignore_result=True,
    autoretry_for=(BotError,),
    retry_backoff=5,
    max_retries=5,
)
def messenger_reply(messenger: str, chat_id: str, text: str) -> None:
    """The bot's answer to a chat that sent it a code."""
    messengers.reply_send(messenger=messenger, chat_id=chat_id, text=text)
