"""Thin Celery wrappers: take ids, call a service."""

from celery import shared_task

from messaging import registry
from messaging.statuses import receipts_apply


@shared_task(acks_late=True, ignore_result=True)
def apply_call_results(channel: str, payload: list[dict]) -> int:
    """Results of calls (the fake carrier's) → the core's receipts."""
    from .gateways import receipt_from_json  # the gateway module imports tasks

    return receipts_apply(
        channel=channel, receipts=[receipt_from_json(d) for d in payload]
    )


@shared_task(acks_late=True, ignore_result=True)
def place_calls(channel: str, calls: list[dict]) -> int:
    """Place a batch of calls through the SIP trunk and report their results
    (``voice.sip.SipVoiceGateway`` in ``async`` mode)."""
    return registry.get_gateway(channel).run_and_report(calls)
