"""Own Viber names (manual 5.4): a request, staff approval, and a prepaid
monthly package charged through the ledger when the name goes to work, valid
to the last day of that calendar month (or the whole next month)."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from billing.models import LedgerEntry, Tariff
from billing.selectors import ledger_sum
from billing.services import ledger_post
from cabinet.models import Account, Notification
from messaging import senders, services
from messaging.models import SenderName
from viber import services as viber
from viber.models import SenderPackage
from viber.periods import month_end, next_month_start, today

pytestmark = pytest.mark.django_db


def balance(user) -> Decimal:
    return Account.objects.get(pk=user.account_id).balance


def send_from(user, sender):
    return services.campaign_launch(
        account=user.account,
        channel="viber",
        text="Привет",
        sender=sender,
        phones=["+79161234567"],
    )


def test_shared_names_are_free_to_choose(user):
    choices = senders.sender_choices(account_id=user.account_id, channel="viber")
    assert choices == ["SMSinfo", "Akcii", "Servis-Info"]
    assert send_from(user, "Akcii").sender == "Akcii"
    assert send_from(user, "").sender == "SMSinfo"


def test_approval_charges_the_package_to_the_end_of_the_month(rich_user, own_name):
    row = own_name(rich_user, "LuckyShop")
    package = SenderPackage.objects.get(sender_name=row)
    assert package.status == SenderPackage.Status.PAID
    assert package.price == Decimal("35000.00")
    assert (package.starts_on, package.ends_on) == (today(), month_end(today()))
    entry = LedgerEntry.objects.get(reference=f"viber-package:{package.pk}")
    assert entry.amount == Decimal("-35000.00") and entry.service == "viber"
    assert (
        balance(rich_user)
        == Decimal("65000.00")
        == ledger_sum(account_id=rich_user.account_id)
    )
    note = Notification.objects.get(
        account_id=rich_user.account_id, title__startswith="Пакет"
    )
    assert "оплачен" in note.title and "35000" in note.body
    campaign = send_from(rich_user, "LuckyShop")
    assert campaign.sender == "LuckyShop"
    assert campaign.messages.get().price == Decimal("2.20")  # own name, promotional
    # Deciding again (or saving the row) never charges twice.
    senders.sender_decide(sender_name=row, approve=True)
    SenderName.objects.get(pk=row.pk).save()
    assert SenderPackage.objects.filter(sender_name=row).count() == 1


def test_the_package_price_comes_from_the_tariff(rich_user, own_name):
    Tariff.objects.filter(channel="viber", variant="own:package").update(
        price=Decimal("30000")
    )
    own_name(rich_user, "CheapShop")
    assert balance(rich_user) == Decimal("70000.00")


def test_starting_next_month_pays_now_for_the_whole_next_month(rich_user, own_name):
    row = own_name(rich_user, "NextShop", start="next_month")
    package = SenderPackage.objects.get(sender_name=row)
    first = next_month_start(today())
    assert (package.starts_on, package.ends_on) == (first, month_end(first))
    assert balance(rich_user) == Decimal("65000.00")
    with pytest.raises(services.LaunchError) as refused:
        send_from(rich_user, "NextShop")
    assert f"начнёт действовать {first:%d.%m.%Y}" in refused.value.message


def test_without_money_at_approval_the_package_waits_for_payment(make_user, own_name):
    user = make_user("short@example.com", balance=Decimal("1000"))
    row = own_name(user, "PoorShop")
    package = SenderPackage.objects.get(sender_name=row)
    assert package.status == SenderPackage.Status.UNPAID
    assert "Недостаточно средств" in package.reason
    assert balance(user) == Decimal("1000")
    note = Notification.objects.get(
        account_id=user.account_id, title__startswith="Пакет"
    )
    assert "не оплачен" in note.title and note.url == "/viber/senders/"
    with pytest.raises(services.LaunchError) as refused:
        send_from(user, "PoorShop")
    assert "не оплачен" in refused.value.message
    with pytest.raises(viber.PackageError) as short:
        viber.package_pay(account=user.account, sender_name_id=row.pk)
    assert "Недостаточно средств" in short.value.message
    assert balance(user) == Decimal("1000")
    ledger_post(
        account_id=user.account_id, amount=Decimal("40000"), kind="topup", reason="x"
    )
    paid = viber.package_pay(account=user.account, sender_name_id=row.pk)
    assert paid.pk == package.pk and paid.status == SenderPackage.Status.PAID
    assert paid.ends_on == month_end(today())
    assert send_from(user, "PoorShop").sender == "PoorShop"


def test_renewal_buys_the_next_calendar_month_once(rich_user, own_name):
    row = own_name(rich_user, "RenewShop")
    renewed = viber.package_pay(account=rich_user.account, sender_name_id=row.pk)
    first = next_month_start(today())
    assert (renewed.starts_on, renewed.ends_on) == (first, month_end(first))
    assert balance(rich_user) == Decimal("30000.00")
    with pytest.raises(viber.PackageError) as again:
        viber.package_pay(account=rich_user.account, sender_name_id=row.pk)
    assert "уже оплачен" in again.value.message
    assert balance(rich_user) == Decimal("30000.00")


def test_an_expired_package_is_renewed_from_today(rich_user, own_name):
    row = own_name(rich_user, "LateShop")
    old = SenderPackage.objects.get(sender_name=row)
    last_month_end = today().replace(day=1) - timedelta(days=1)
    SenderPackage.objects.filter(pk=old.pk).update(
        starts_on=last_month_end.replace(day=1), ends_on=last_month_end
    )
    with pytest.raises(services.LaunchError) as refused:
        send_from(rich_user, "LateShop")
    assert f"закончился {last_month_end:%d.%m.%Y}" in refused.value.message
    renewed = viber.package_pay(account=rich_user.account, sender_name_id=row.pk)
    assert (renewed.starts_on, renewed.ends_on) == (today(), month_end(today()))
    assert send_from(rich_user, "LateShop").sender == "LateShop"


def test_a_rejected_name_is_never_charged(rich_user, own_name):
    row = own_name(rich_user, "BadShop", approve=False)
    senders.sender_decide(sender_name=row, approve=False, reason="brand")
    assert SenderPackage.objects.get(sender_name=row).status == "waiting"
    assert balance(rich_user) == Decimal("100000")
    with pytest.raises(SenderName.DoesNotExist):
        viber.package_pay(account=rich_user.account, sender_name_id=row.pk)


def test_another_accounts_name_cannot_be_paid_or_withdrawn(rich_user, other_user):
    theirs = viber.sender_name_request(
        account=other_user.account, name="TheirShop", start="now"
    )
    with pytest.raises(SenderName.DoesNotExist):
        viber.package_pay(account=rich_user.account, sender_name_id=theirs.pk)
    with pytest.raises(SenderName.DoesNotExist):
        viber.sender_name_withdraw(account=rich_user.account, sender_name_id=theirs.pk)
    assert SenderName.objects.filter(pk=theirs.pk).exists()


def test_an_sms_name_is_not_a_viber_name(rich_user):
    sms = senders.sender_request(account=rich_user.account, name="SmsOnly")
    senders.sender_decide(sender_name=sms, approve=True)
    assert not SenderPackage.objects.exists()
    with pytest.raises(services.LaunchError):
        send_from(rich_user, "SmsOnly")


@pytest.mark.parametrize(
    "day", [date(2026, 8, 21), date(2026, 2, 10), date(2028, 2, 3)]
)
def test_a_period_ends_on_the_last_day_of_its_month(day):
    assert month_end(day).month == day.month
    assert (month_end(day) + timedelta(days=1)).day == 1
    assert month_end(date(2026, 8, 21)) == date(2026, 8, 31)
    assert month_end(date(2028, 2, 3)) == date(2028, 2, 29)


def test_staff_approval_in_the_console_puts_the_name_to_work(
    client, rich_user, admin_user
):
    row = viber.sender_name_request(
        account=rich_user.account, name="ConsoleShop", start="now"
    )
    client.force_login(admin_user)
    listing = client.get("/admin/messaging/sendername/?channel__exact=viber")
    assert "ConsoleShop" in listing.content.decode()
    client.post(
        "/admin/messaging/sendername/",
        {"action": "approve", "_selected_action": [row.pk]},
    )
    package = SenderPackage.objects.get(sender_name=row)
    assert package.status == SenderPackage.Status.PAID
    assert balance(rich_user) == Decimal("65000.00")
    assert send_from(rich_user, "ConsoleShop").sender == "ConsoleShop"


def test_decision_notifications_link_to_the_viber_pages(rich_user, own_name):
    from messaging import moderation

    own_name(rich_user, "LinkShop")
    note = Notification.objects.get(
        account_id=rich_user.account_id, title__contains="одобрено"
    )
    assert note.url == "/viber/senders/"
    row = moderation.template_create(
        account=rich_user.account, text="Код [любая фраза]", channel="viber"
    )
    moderation.template_decide(template=row, approve=True)
    note = Notification.objects.filter(
        account_id=rich_user.account_id, title__startswith="Шаблон"
    ).get()
    assert note.url == "/viber/moderation-templates/"
