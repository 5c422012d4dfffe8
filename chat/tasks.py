from celery import shared_task

from . import services


@shared_task(acks_late=True, ignore_result=True)
def take_replies(channel: str, replies: list[dict]) -> int:
    """Recipients' replies into the online chat (after the channel's commit)."""
    return services.channel_replies(channel=channel, replies=replies)
