"""The staff console's «Связь с операторами» in a real browser: a carrier that
refuses the bind (wrong password) against the test SMSC — staff follow the
menu link and read the refusal in words, the last error and the messages
waiting; the same state ``/healthz`` reports."""

import re

import pytest

from cabinet.models import User
from messaging import registry
from messaging.dispatch import dispatch_channel
from tests import smsc as smsc_lib
from tests.messaging.test_smpp import launch

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not smsc_lib.available(), reason="needs node and tests/smsc/node_modules"
    ),
]


@pytest.fixture
def refusing_carrier(settings):
    server = smsc_lib.Smsc()
    settings.MESSAGING_GATEWAYS = {
        **settings.MESSAGING_GATEWAYS,
        "sms": {
            "BACKEND": "messaging.gateways.smpp.SmppGateway",
            "OPTIONS": {"url": server.url(password="wrong")},
        },
    }
    registry.reset_gateways()
    gateway = registry.get_gateway("sms")
    yield gateway
    gateway.stop()
    registry.reset_gateways()
    server.stop()


def test_staff_read_a_refused_bind_on_the_health_page(
    browser, live_server, refusing_carrier, user
):
    assert not refusing_carrier.available()
    launch(user, ["+79030000031", "+79030000032", "+79030000033"])
    dispatch_channel(channel="sms")  # nothing claimed: the link is down
    User.objects.create_user(
        email="staff@example.com", password="staff-pass-123", is_staff=True
    )
    context = browser.new_context(base_url=live_server.url, locale="ru-RU")
    page = context.new_page()
    page.set_default_timeout(15000)
    try:
        page.goto("/staff/")
        page.wait_for_url(re.compile(r"/admin/login/"))
        page.locator("#id_username").fill("staff@example.com")
        page.locator("#id_password").fill("staff-pass-123")
        page.locator("input[type=submit], button[type=submit]").first.click()
        page.wait_for_url(re.compile(r"/staff/$"))
        page.locator("#staff-health-link").click()
        page.wait_for_url(re.compile(r"/staff/health/$"))
        section = page.locator("#gateway-sms")
        section.locator("[data-refusal]").get_by_text(
            "неверный пароль (0x0E)"
        ).wait_for()
        assert (
            "нет связи с оператором"
            in section.locator("[data-gateway-state]").inner_text()
        )
        assert section.locator("[data-waiting]").inner_text() == "3"
        assert "привязка отклонена" in section.inner_text()
        assert "bind refused" in section.inner_text()
        page.screenshot(path="var/screenshot-staff-carrier-health.png", full_page=True)
    finally:
        context.close()
