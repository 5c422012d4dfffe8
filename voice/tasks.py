"""Thin Celery wrappers: take ids, call a service."""

from celery import shared_task


@shared_task(acks_late=True, ignore_result=True)
def apply_call_results(channel: str, payload: list[dict]) -> int:
    """Results of calls (the fake carrier's, or the SIP gateway's when it runs
    calls in a worker) → the core's receipts."""
    from messaging.statuses import receipts_apply

    from .gateways import receipt_from_json

    return receipts_apply(
        channel=channel, receipts=[receipt_from_json(d) for d in payload]
    )


@shared_task(acks_late=True, ignore_result=True)
def place_calls(channel: str, calls: list[dict]) -> int:
    """Place a batch of calls through the SIP trunk and report their results
    (``voice.sip.SipVoiceGateway`` in ``async`` mode)."""
    from messaging import registry

    gateway = registry.get_gateway(channel)
    return gateway.run_and_report(calls)
