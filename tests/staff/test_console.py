"""The staff console: 403 for anybody but staff, a queue per kind, claims
that keep two staff off the same item, decisions through the kinds' own
services, the account page, and an audit entry for every action."""

import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client

from billing.models import Invoice, LedgerEntry, Requisites
from billing.services import invoice_create
from cabinet import moderation
from cabinet.models import Account, ApiToken, Notification, Ticket
from cabinet.services import token_create
from cabinet.support import ticket_create
from messaging import services as messaging
from messaging.models import AdvertisingRequest, CampaignModeration
from staff import services
from staff.models import AuditEntry, Claim
from tests.billing.conftest import VALID_REQUISITES

pytestmark = pytest.mark.django_db

# Row locks between threads: SQLite's test database serialises whole tables.
POSTGRES_ONLY = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks need PostgreSQL"
)

CAMPAIGNS = "messaging.campaignmoderation"


def _queue(key):
    return next(q for q in moderation.queues() if q.key == key)


def _moderated_campaign(make_user, email="new@example.com"):
    user = make_user(email, trusted=False)
    campaign = messaging.campaign_launch(
        account=user.account, channel="sms", text="Привет", phones=["+79161234567"]
    )
    assert campaign.status == "moderation"
    return user, campaign


def _as(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_every_queue_kind_is_registered():
    keys = {q.key for q in moderation.queues()}
    assert {
        "messaging.sendername",
        CAMPAIGNS,
        "messaging.moderationtemplate",
        "messaging.advertisingrequest",
        "voice.audiofile",
        "partners.withdrawal",
        "billing.invoice",
        "cabinet.ticket",
    } <= keys


def test_non_staff_get_403_and_strangers_the_login(make_user, staff):
    user, campaign = _moderated_campaign(make_user)
    row = CampaignModeration.objects.get(campaign=campaign)
    urls = [
        "/staff/",
        f"/staff/q/{CAMPAIGNS}/",
        f"/staff/q/{CAMPAIGNS}/{row.pk}/",
        f"/staff/accounts/{user.account_id}/",
        "/staff/accounts/",
        "/staff/rates/",
        "/staff/audit/",
        "/staff/health/",
    ]
    balance = Account.objects.get(pk=user.account_id).balance
    c = _as(user)
    for url in urls:
        assert c.get(url).status_code == 403, url
    assert (
        c.post(f"/staff/q/{CAMPAIGNS}/{row.pk}/", {"action": "approve"}).status_code
        == 403
    )
    assert (
        c.post(
            f"/staff/accounts/{user.account_id}/",
            {"action": "adjust", "amount": "100", "reason": "x"},
        ).status_code
        == 403
    )
    row.refresh_from_db()
    assert row.status == "pending"
    assert Account.objects.get(pk=user.account_id).balance == balance
    anonymous = Client()
    for url in urls:
        response = anonymous.get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
    staff_client = _as(staff)
    for url in urls:
        assert staff_client.get(url).status_code == 200, url
    assert staff_client.get("/staff/q/nope/").status_code == 404
    assert staff_client.get(f"/staff/q/{CAMPAIGNS}/999999/").status_code == 404


def test_a_campaign_approved_from_the_console(make_user, staff):
    user, campaign = _moderated_campaign(make_user)
    c = _as(staff)
    page = c.get(f"/staff/q/{CAMPAIGNS}/").content.decode()
    assert f"#{campaign.pk}" in page or str(campaign.pk) in page
    response = c.post(f"/staff/q/{CAMPAIGNS}/next/")
    row = CampaignModeration.objects.get(campaign=campaign)
    assert response["Location"] == f"/staff/q/{CAMPAIGNS}/{row.pk}/"
    page = c.get(response["Location"]).content.decode()
    assert "Привет" in page and "Одобрить" in page
    response = c.post(response["Location"], {"action": "approve", "comment": ""})
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.status in ("running", "done")
    assert Notification.objects.filter(account=user.account, kind="moderation").exists()
    assert AuditEntry.objects.filter(
        action="approve", object_id=row.pk, staff=staff
    ).exists()
    assert not Claim.objects.exists()


def test_a_rejection_needs_a_reason(make_user, staff):
    user, campaign = _moderated_campaign(make_user)
    row = CampaignModeration.objects.get(campaign=campaign)
    c = _as(staff)
    url = f"/staff/q/{CAMPAIGNS}/{row.pk}/"
    response = c.post(url, {"action": "reject", "reason_text": "  "}, follow=True)
    assert "Укажите причину отказа" in response.content.decode()
    row.refresh_from_db()
    assert row.status == "pending"
    c.post(url, {"action": "reject", "reason_text": "Спам"})
    campaign.refresh_from_db()
    assert campaign.status == "rejected"
    assert AuditEntry.objects.filter(action="reject", details__reason="Спам").exists()
    # Deciding twice changes nothing and says so.
    response = c.post(url, {"action": "approve"}, follow=True)
    assert "уже" in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.status == "rejected"


def test_two_staff_never_take_the_same_item(make_user, make_staff):
    a, b = make_staff("a@example.com"), make_staff("b@example.com")
    _u1, c1 = _moderated_campaign(make_user, "n1@example.com")
    _u2, c2 = _moderated_campaign(make_user, "n2@example.com")
    q = _queue(CAMPAIGNS)
    first = services.claim_next(queue=q, staff=a)
    second = services.claim_next(queue=q, staff=b)
    assert {first.campaign_id, second.campaign_id} == {c1.pk, c2.pk}
    assert services.claim_next(queue=q, staff=b).pk == second.pk  # own claim again
    # B deciding A's item is refused, nothing changes.
    with pytest.raises(services.ConsoleError) as err:
        services.decide(queue=q, object_id=first.pk, staff=b, approve=True)
    assert (
        "другой сотрудник" in err.value.message
        if hasattr(err.value, "message")
        else str(err.value)
    )
    first.refresh_from_db()
    assert first.status == "pending"
    # Through the page too: B sees who holds it and gets no buttons.
    page = _as(b).get(f"/staff/q/{CAMPAIGNS}/{first.pk}/").content.decode()
    assert "a@example.com" in page and "Одобрить" not in page
    response = _as(b).post(
        f"/staff/q/{CAMPAIGNS}/{first.pk}/", {"action": "approve"}, follow=True
    )
    assert "другой сотрудник" in response.content.decode()
    first.refresh_from_db()
    assert first.status == "pending"
    # Released, B may take it.
    services.release(queue=q, object_id=first.pk, staff=a)
    services.decide(queue=q, object_id=first.pk, staff=b, approve=True)


@POSTGRES_ONLY
@pytest.mark.django_db(transaction=True)
def test_concurrent_claims_skip_locked_rows(make_user, make_staff):
    staffs = [make_staff(f"s{i}@example.com") for i in range(4)]
    for i in range(4):
        _moderated_campaign(make_user, f"n{i}@example.com")
    q = _queue(CAMPAIGNS)
    barrier = threading.Barrier(4)
    got = []

    def take(member):
        try:
            barrier.wait()
            item = services.claim_next(queue=q, staff=member)
            got.append(item.pk if item else None)
        finally:
            connection.close()

    threads = [threading.Thread(target=take, args=(s,)) for s in staffs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert None not in got and len(set(got)) == 4
    assert Claim.objects.count() == 4


def test_withdrawal_approved_by_staff(make_user, staff):
    from partners import services as partners
    from tests.partners.conftest import charge, seed_rates

    seed_rates()
    partner = make_user("partner@example.com")
    client = make_user("client@example.com", balance=Decimal("20000"))
    partners.attribute(
        client=client.account, code=partners.partner_for(account=partner.account).code
    )
    charge(client.account_id, "-10000")
    row = partners.withdrawal_request(
        account=partner.account, user=partner, amount="300", details="карта 2200"
    )
    c = _as(staff)
    page = c.get(f"/staff/q/partners.withdrawal/{row.pk}/").content.decode()
    assert "карта 2200" in page
    c.post(f"/staff/q/partners.withdrawal/{row.pk}/", {"action": "approve"})
    row.refresh_from_db()
    assert row.status == "approved"
    assert Notification.objects.filter(
        account=partner.account, title__contains="одобрена"
    ).exists()


def test_invoice_marked_paid_credits_once(make_user, staff):
    user = make_user("payer@example.com")
    Requisites.objects.create(account=user.account, **VALID_REQUISITES)
    invoice = invoice_create(account=user.account, amount=Decimal("500"))
    c = _as(staff)
    url = f"/staff/q/billing.invoice/{invoice.pk}/"
    c.post(url, {"action": "paid"})
    c.post(url, {"action": "paid"})
    assert Invoice.objects.get(pk=invoice.pk).status == "paid"
    assert Account.objects.get(pk=user.account_id).balance == Decimal("1500")
    assert LedgerEntry.objects.filter(reference=f"invoice:{invoice.pk}").count() == 1
    assert AuditEntry.objects.filter(action="invoice_paid").count() == 1


def test_ticket_answered(make_user, staff):
    user = make_user("asker@example.com")
    ticket = ticket_create(
        account=user.account, author=user, subject="Вопрос", body="Как?"
    )
    c = _as(staff)
    url = f"/staff/q/cabinet.ticket/{ticket.pk}/"
    assert "Как?" in c.get(url).content.decode()
    response = c.post(url, {"action": "answer", "body": "  "}, follow=True)
    assert "Напишите ответ" in response.content.decode()
    c.post(url, {"action": "answer", "body": "Вот так."})
    assert Ticket.objects.get(pk=ticket.pk).status == "answered"
    assert Notification.objects.filter(account=user.account, kind="support").exists()


def test_advertising_application_answered(make_user, staff):
    user = make_user("ad@example.com")
    ad = AdvertisingRequest.objects.create(
        account=user.account,
        text="Скидки",
        targeting="Москва",
        cities="Москва",
        volume=5000,
        contact="+79161234567",
    )
    c = _as(staff)
    url = f"/staff/q/messaging.advertisingrequest/{ad.pk}/"
    response = c.post(url, {"action": "answer", "status": "bogus"}, follow=True)
    assert "Неизвестный статус" in response.content.decode()
    c.post(url, {"action": "answer", "status": "in_work", "comment": "Согласуем дату"})
    ad.refresh_from_db()
    assert (ad.status, ad.staff_comment) == ("in_work", "Согласуем дату")
    assert Notification.objects.filter(
        account=user.account, title__contains="В работе"
    ).exists()
    # The client sees the answer on the page.
    page = _as(user).get("/sms/advertising/").content.decode()
    assert "Согласуем дату" in page


def test_account_page_actions(make_user, make_staff, staff):
    user = make_user("acc@example.com")
    other = make_user("other@example.com")
    token = token_create(account=user.account).token
    foreign = token_create(account=other.account).token
    c = _as(staff)
    url = f"/staff/accounts/{user.account_id}/"
    page = c.get(url).content.decode()
    assert "acc@example.com" in page and token.prefix in page
    for amount, reason, message in [
        ("abc", "x", "Сумма — число"),
        ("0", "x", "нулевой"),
        ("1.001", "x", "до копеек"),
        ("100", "", "причину"),
        ("1e12", "x", "слишком велика"),
        ("-1000.01", "x", "кредитного лимита"),
    ]:
        response = c.post(
            url, {"action": "adjust", "amount": amount, "reason": reason}, follow=True
        )
        assert message in response.content.decode(), amount
    assert not LedgerEntry.objects.filter(kind="adjustment").exists()
    c.post(url, {"action": "adjust", "amount": "-1000", "reason": "Ошибка платежа"})
    entry = LedgerEntry.objects.get(kind="adjustment")
    assert entry.amount == Decimal("-1000") and "Ошибка платежа" in entry.reason
    assert entry.created_by == staff
    assert Account.objects.get(pk=user.account_id).balance == Decimal("0")
    response = c.post(url, {"action": "block", "reason": ""}, follow=True)
    assert "причину блокировки" in response.content.decode()
    c.post(url, {"action": "block", "reason": "Спам"})
    assert Account.objects.get(pk=user.account_id).is_blocked
    c.post(url, {"action": "unblock"})
    assert not Account.objects.get(pk=user.account_id).is_blocked
    response = c.post(url, {"action": "tier", "tier": "77"}, follow=True)
    assert "Неизвестная тарифная ступень" in response.content.decode()
    c.post(url, {"action": "tier", "tier": "0"})
    assert Account.objects.get(pk=user.account_id).tariff_tier == 0
    # Another account's token is not revoked from this page.
    response = c.post(url, {"action": "revoke", "token": str(foreign.pk)}, follow=True)
    assert "не найден" in response.content.decode()
    assert ApiToken.objects.get(pk=foreign.pk).revoked_at is None
    c.post(url, {"action": "revoke", "token": "x"})
    c.post(url, {"action": "revoke", "token": str(token.pk)})
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
    actions = list(
        AuditEntry.objects.filter(account_id=user.account_id).values_list(
            "action", flat=True
        )
    )
    assert sorted(actions) == sorted(
        ["balance_adjust", "block", "unblock", "tier_set", "token_revoke"]
    )
    assert "Ошибка платежа" in c.get("/staff/audit/").content.decode()


def test_rates_edited_by_staff(staff):
    from partners.models import RewardRate
    from tests.partners.conftest import seed_rates

    seed_rates()
    rate = RewardRate.objects.get(service="sms")
    c = _as(staff)
    response = c.post(
        "/staff/rates/", {"rate": rate.pk, "percent": "150", "days": "365"}, follow=True
    )
    assert "от 0 до 100" in response.content.decode()
    c.post("/staff/rates/", {"rate": "zzz", "percent": "1", "days": "1"})
    c.post("/staff/rates/", {"rate": rate.pk, "percent": "6,5", "days": "400"})
    rate.refresh_from_db()
    assert (rate.percent, rate.days) == (Decimal("6.5"), 400)
    assert AuditEntry.objects.filter(action="rate_update").count() == 1


def test_advertising_estimate_follows_the_manuals_tiers():
    from messaging.compose import advertising_estimate

    assert advertising_estimate(2499) is None
    assert advertising_estimate(2500) == Decimal("16250.0")
    assert advertising_estimate(5000) == Decimal("31500.0")
    assert advertising_estimate(50000) == Decimal("275000.0")


@pytest.mark.parametrize("key", [q.key for q in moderation.queues()])
def test_every_queue_page_and_claim_works_when_empty(key, staff):
    q = _queue(key)
    assert services.claim_next(queue=q, staff=staff) is None
    c = _as(staff)
    assert c.get(f"/staff/q/{key}/").status_code == 200
    response = c.post(f"/staff/q/{key}/next/", follow=True)
    assert "В очереди нет свободных записей" in response.content.decode()


def test_staff_play_an_audio_and_decide_it(make_user, staff, settings, tmp_path):
    import shutil

    if not shutil.which("espeak-ng"):
        pytest.skip("espeak-ng is not installed")
    from voice import services as voice

    settings.MEDIA_ROOT = str(tmp_path / "media")
    user = make_user("voice@example.com")
    audio = voice.audio_synthesize(
        account=user.account, text="Здравствуйте! Это проверка.", voice="espeak:ru"
    )
    c = _as(staff)
    page = c.get(f"/staff/q/voice.audiofile/{audio.pk}/").content.decode()
    assert f'src="/voice/audio/{audio.pk}.wav"' in page
    assert c.get(f"/voice/audio/{audio.pk}.wav").status_code == 200
    c.post(
        f"/staff/q/voice.audiofile/{audio.pk}/",
        {"action": "reject", "reason_text": "Плохо слышно"},
    )
    audio.refresh_from_db()
    assert audio.status == "rejected" and audio.reason_display == "Плохо слышно"


def test_a_queue_is_worked_only_with_its_permission(make_user, make_staff):
    """A support agent allowed sender names only: the other queues are not
    listed and answer 403 — an invoice cannot be marked paid (no money
    credited) — while the allowed queue works."""
    user = make_user("payer@example.com")
    Requisites.objects.create(account=user.account, **VALID_REQUISITES)
    invoice = invoice_create(account=user.account, amount=Decimal("500"))
    agent = make_staff("agent@example.com", perms=["messaging.change_sendername"])
    c = _as(agent)
    index = c.get("/staff/").content.decode()
    assert 'data-queue="messaging.sendername"' in index
    assert 'data-queue="billing.invoice"' not in index
    url = f"/staff/q/billing.invoice/{invoice.pk}/"
    denied = c.get("/staff/q/billing.invoice/")
    assert denied.status_code == 403
    assert "Права выдаёт администратор" in denied.content.decode()
    assert c.get(url).status_code == 403
    assert c.post(url, {"action": "paid"}).status_code == 403
    assert c.post("/staff/q/billing.invoice/next/").status_code == 403
    assert Invoice.objects.get(pk=invoice.pk).status != "paid"
    assert Account.objects.get(pk=user.account_id).balance == Decimal("1000")
    assert not AuditEntry.objects.exists() and not Claim.objects.exists()
    assert c.get("/staff/q/messaging.sendername/").status_code == 200
    # Given the permission (by the admin, per user or group), the queue opens.
    granted = make_staff("cashier@example.com", perms=["billing.change_invoice"])
    _as(granted).post(url, {"action": "paid"})
    assert Invoice.objects.get(pk=invoice.pk).status == "paid"


def test_accounts_and_rates_need_their_permissions(make_user, make_staff):
    user = make_user("acc@example.com")
    token = token_create(account=user.account).token
    url = f"/staff/accounts/{user.account_id}/"
    nobody = _as(make_staff("nobody@example.com", perms=[]))
    index = nobody.get("/staff/").content.decode()
    assert 'id="no-queues"' in index and "/staff/accounts/" not in index
    assert nobody.get("/staff/accounts/").status_code == 403
    assert nobody.get(url).status_code == 403
    assert nobody.get("/staff/rates/").status_code == 403
    assert nobody.get("/staff/audit/").status_code == 200
    viewer = _as(make_staff("viewer@example.com", perms=["cabinet.view_account"]))
    page = viewer.get(url).content.decode()
    assert "acc@example.com" in page
    assert 'id="adjust-form"' not in page and 'value="revoke"' not in page
    for action, data in [
        ("adjust", {"amount": "100", "reason": "бонус"}),
        ("tier", {"tier": "0"}),
        ("block", {"reason": "спам"}),
        ("revoke", {"token": str(token.pk)}),
    ]:
        assert viewer.post(url, {"action": action, **data}).status_code == 403
    acc = Account.objects.get(pk=user.account_id)
    assert (acc.balance, acc.is_blocked, acc.tariff_tier) == (
        Decimal("1000"),
        False,
        None,
    )
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None
    assert not AuditEntry.objects.exists()
    cashier = _as(
        make_staff(
            "cashier@example.com",
            perms=["cabinet.view_account", "billing.add_ledgerentry"],
        )
    )
    assert 'id="adjust-form"' in cashier.get(url).content.decode()
    cashier.post(url, {"action": "adjust", "amount": "100", "reason": "бонус"})
    assert Account.objects.get(pk=user.account_id).balance == Decimal("1100")
