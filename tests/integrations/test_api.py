"""REST v1 webhook endpoints: settings and delivery log, scoped to the account."""

import pytest

from integrations import services
from integrations.models import WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db


def test_webhook_settings_through_the_api(user, api_client_for):
    api = api_client_for(user)
    resp = api.get("/api/v1/webhook/")
    assert resp.status_code == 404 and resp.json()["error"]["code"] == "not_found"
    resp = api.put(
        "/api/v1/webhook/",
        {"url": "https://example.com/h", "send_incoming": False},
        format="json",
    )
    assert resp.status_code == 200, resp.content
    body = resp.json()
    endpoint = WebhookEndpoint.objects.get()
    assert body["url"] == endpoint.url == "https://example.com/h"
    assert body["secret"] == endpoint.secret and body["send_incoming"] is False
    assert api.get("/api/v1/webhook/").json()["url"] == "https://example.com/h"


def test_bad_webhook_urls_change_nothing(user, api_client_for, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    api = api_client_for(user)
    resp = api.put("/api/v1/webhook/", {"url": "not a url"}, format="json")
    assert resp.status_code == 400 and "url" in resp.json()["error"]["fields"]
    resp = api.put("/api/v1/webhook/", {"url": "http://10.0.0.1/h"}, format="json")
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "invalid_url"
    resp = api.put(
        "/api/v1/webhook/",
        {"url": "https://example.com/h", "is_active": "x"},
        format="json",
    )
    assert resp.status_code == 400
    assert not WebhookEndpoint.objects.exists()


def test_delivery_log_is_paginated_and_per_account(user, other_user, api_client_for):
    mine = services.webhook_save(account=user.account, url="https://example.com/a")
    theirs = services.webhook_save(
        account=other_user.account, url="https://example.com/b"
    )
    for i in range(3):
        WebhookDelivery.objects.create(
            account=user.account,
            endpoint=mine,
            url=mine.url,
            events_count=i + 1,
            success=True,
            status_code=200,
        )
    WebhookDelivery.objects.create(
        account=other_user.account, endpoint=theirs, url=theirs.url, events_count=9
    )
    api = api_client_for(user)
    page = api.get("/api/v1/webhook/deliveries/?limit=2").json()
    assert [d["events_count"] for d in page["results"]] == [3, 2]
    rest = api.get(page["next"]).json()
    assert [d["events_count"] for d in rest["results"]] == [1]
    other = api_client_for(other_user).get("/api/v1/webhook/").json()
    assert other["url"] == "https://example.com/b"
