"""Thin Celery wrappers of billing work."""

import requests
from celery import shared_task


@shared_task(bind=True, max_retries=8, default_retry_delay=30)
def acquirer_deliver_callback(self, url: str, body: str, signature: str) -> int:
    """The fake acquirer's server-to-server notification over HTTP, retried with
    back-off until our endpoint answers 2xx (as real acquirers do)."""
    try:
        resp = requests.post(
            url,
            data=body.encode(),
            timeout=10,
            headers={"Content-Type": "application/json", "X-Signature": signature},
        )
    except requests.RequestException as exc:
        raise self.retry(exc=exc, countdown=30 * (2**self.request.retries)) from exc
    if resp.status_code >= 500:
        raise self.retry(countdown=30 * (2**self.request.retries))
    return resp.status_code


@shared_task
def payments_expire() -> int:
    from .services import payments_expire as expire

    return expire()
