"""A campaign's page in the cabinet: «Отменить рассылку» for what has not been
sent (with the refund shown), and live progress while the campaign runs."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.utils import timezone

from cabinet.models import Account
from messaging.models import Campaign, CampaignCounter, Message, MessageStatus
from tests.reports.conftest import phones

pytestmark = pytest.mark.django_db

S = MessageStatus


def _balance(user) -> Decimal:
    return Account.objects.get(pk=user.account_id).balance


def _deferred(user, launch, n=3):
    return launch(user, phones(n), send_at=timezone.now() + timedelta(days=1))


def test_a_deferred_campaign_is_cancelled_from_its_page_and_refunded(
    user, client_for, launch
):
    campaign = _deferred(user, launch)
    assert campaign.status == Campaign.Status.SCHEDULED
    cost = campaign.cost
    assert cost > 0
    before = _balance(user)
    client = client_for(user)

    page = client.get(f"/reports/campaigns/{campaign.pk}/").content.decode()
    assert "Отменить рассылку" in page
    assert f'href="/reports/campaigns/{campaign.pk}/cancel/"' in page
    # The dialog says how much comes back before the person confirms.
    dialog = client.get(
        f"/reports/campaigns/{campaign.pk}/cancel/", HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "<html" not in dialog
    amount = f"{cost:.2f}".replace(".", ",")
    assert f"На баланс вернётся {amount}&nbsp;₽" in dialog

    response = client.post(f"/reports/campaigns/{campaign.pk}/cancel/")
    assert response.status_code == 302
    assert response["Location"] == f"/reports/campaigns/{campaign.pk}/"
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.CANCELLED
    assert set(
        Message.objects.filter(campaign=campaign).values_list("status", flat=True)
    ) == {S.CANCELLED}
    assert _balance(user) == before + cost
    [flash] = [str(m) for m in get_messages(response.wsgi_request)]
    assert flash == (
        f"Рассылка #{campaign.pk} отменена: 3 сообщения не будут отправлены. "
        f"На баланс возвращено {amount}\u00a0₽."
    )
    # Cancelled: the button is gone and a second cancel changes nothing.
    page = client.get(f"/reports/campaigns/{campaign.pk}/").content.decode()
    assert "open-cancel" not in page
    response = client.post(f"/reports/campaigns/{campaign.pk}/cancel/")
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Рассылка уже завершена: отменять нечего."
    ]
    assert _balance(user) == before + cost


def test_the_page_without_javascript_confirms_on_its_own_page(user, client_for, launch):
    campaign = _deferred(user, launch, n=1)
    page = client_for(user).get(f"/reports/campaigns/{campaign.pk}/cancel/")
    body = page.content.decode()
    assert page.status_code == 200
    assert "<html" in body and 'id="cancel-form"' in body
    assert f'action="/reports/campaigns/{campaign.pk}/cancel/"' in body


def test_a_finished_campaign_offers_no_cancel(user, client_for, launch):
    done = launch(user, phones(2))
    assert done.status == Campaign.Status.DONE
    client = client_for(user)
    assert (
        "open-cancel"
        not in client.get(f"/reports/campaigns/{done.pk}/").content.decode()
    )
    before = _balance(user)
    response = client.post(f"/reports/campaigns/{done.pk}/cancel/")
    assert response.status_code == 302
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Рассылка уже завершена: отменять нечего."
    ]
    assert _balance(user) == before


def test_another_accounts_campaign_cannot_be_cancelled(
    user, other_user, client_for, launch
):
    theirs = _deferred(other_user, launch, n=1)
    client = client_for(user)
    assert client.get(f"/reports/campaigns/{theirs.pk}/cancel/").status_code == 404
    assert client.post(f"/reports/campaigns/{theirs.pk}/cancel/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == Campaign.Status.SCHEDULED


def test_a_read_only_user_sees_no_cancel_and_cannot_cancel(
    user, make_user, client_for, launch
):
    campaign = _deferred(user, launch, n=1)
    reader = make_user(account=user.account, role="readonly")
    client = client_for(reader)
    assert (
        "open-cancel"
        not in client.get(f"/reports/campaigns/{campaign.pk}/").content.decode()
    )
    assert client.post(f"/reports/campaigns/{campaign.pk}/cancel/").status_code == 403
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SCHEDULED


def test_cancelling_during_preparation_says_the_hold_comes_back_later(user, client_for):
    """A campaign whose preparation has not noticed the cancel yet: nothing
    was sent, the money held at launch is returned when preparation stops."""
    from billing.models import LedgerKind
    from billing.services import ledger_post

    campaign = Campaign.objects.create(
        account=user.account,
        channel="sms",
        text="Скидка",
        status=Campaign.Status.PREPARING,
        options={"audience_estimate": 10, "held": "25.00"},
        audience={"group_ids": []},
        cost=Decimal("25.00"),
    )
    ledger_post(
        account_id=user.account_id,
        amount=Decimal("-25.00"),
        kind=LedgerKind.CHARGE,
        reason="hold",
    )
    response = client_for(user).post(f"/reports/campaigns/{campaign.pk}/cancel/")
    [flash] = [str(m) for m in get_messages(response.wsgi_request)]
    assert "На баланс возвращено 0,00\u00a0₽." in flash
    assert (
        "Ещё 25,00\u00a0₽ вернётся, как только остановится подготовка сообщений."
        in flash
    )


# --- live progress -------------------------------------------------------------


def _preparing(user, **fields):
    campaign = Campaign.objects.create(
        account=user.account,
        channel="sms",
        text="Скидка",
        status=Campaign.Status.PREPARING,
        options={"audience_estimate": 5000},
        prepared=1200,
        **fields,
    )
    CampaignCounter.objects.create(campaign=campaign, status=S.QUEUED, count=1200)
    return campaign


def _live(body: str) -> str:
    return re.search(r'<div id="campaign-live"[^>]*>', body).group(0)


def test_a_preparing_campaign_page_polls_and_shows_how_far_it_got(user, client_for):
    campaign = _preparing(user)
    body = client_for(user).get(f"/reports/campaigns/{campaign.pk}/").content.decode()
    live = _live(body)
    assert f'hx-get="/reports/campaigns/{campaign.pk}/"' in live
    assert 'hx-trigger="every 2s"' in live
    progress = re.search(r'id="campaign-progress".*?<div class="facts">', body, re.S)
    text = re.sub(r"<[^>]+>", " ", progress.group(0))
    assert re.search(r"1200\s+из 5000\s+получателей подготовлено", text)
    assert 'aria-valuenow="24"' in progress.group(0)


def test_the_poll_gets_only_the_live_part_with_fresh_counters(user, client_for):
    campaign = _preparing(user)
    client = client_for(user)
    Campaign.objects.filter(pk=campaign.pk).update(
        status=Campaign.Status.RUNNING,
        prepared=5000,
        recipients=5000,
        options={"audience_estimate": 5000, "prepared_done": True, "settled": True},
    )
    CampaignCounter.objects.filter(campaign=campaign, status=S.QUEUED).update(
        count=1000
    )
    CampaignCounter.objects.create(campaign=campaign, status=S.SENT, count=1500)
    CampaignCounter.objects.create(campaign=campaign, status=S.DELIVERED, count=2500)
    body = client.get(
        f"/reports/campaigns/{campaign.pk}/", HTTP_HX_REQUEST="true"
    ).content.decode()
    assert body.lstrip().startswith('<div id="campaign-live"')
    assert "<html" not in body and "<dialog" not in body
    assert "Отправляется" in body
    for key, value in (("prepared", 5000), ("sent", 4000), ("delivered", 2500)):
        assert re.search(rf'data-progress="{key}"><b>{value}</b>', body), key
    assert 'aria-valuenow="80"' in body  # 4000 of 5000 left the queue
    assert 'hx-trigger="every 2s"' in _live(body)


def test_the_polling_stops_when_the_campaign_is_finished(user, client_for, launch):
    campaign = launch(user, phones(2))
    assert campaign.status == Campaign.Status.DONE
    body = (
        client_for(user)
        .get(f"/reports/campaigns/{campaign.pk}/", HTTP_HX_REQUEST="true")
        .content.decode()
    )
    assert "hx-trigger" not in _live(body)
    assert re.search(r'data-progress="delivered"><b>2</b>', body)


def test_a_scheduled_campaign_polls_slowly(user, client_for, launch):
    campaign = _deferred(user, launch, n=1)
    body = client_for(user).get(f"/reports/campaigns/{campaign.pk}/").content.decode()
    assert 'hx-trigger="every 30s"' in _live(body)
