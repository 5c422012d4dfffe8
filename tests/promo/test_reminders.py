from datetime import timedelta

import pytest
from django.utils import timezone

from messaging.models import Campaign, Message
from promo.models import PromoAction, PromoCode
from promo.services import promo_code_redeem, reminder_round_send, reminders_due

pytestmark = pytest.mark.django_db

REMINDER = "Напоминаем: ваш промокод [couponCode] ещё действует!"


@pytest.fixture
def reminded(user, make_action, issue_codes):
    """An action with two reminder rounds whose codes went out 4 days ago."""
    action = make_action(
        user.account,
        reminders_enabled=True,
        reminder_after_days=3,
        reminder_every_days=2,
        reminder_count=2,
        reminder_text=REMINDER,
    )
    codes = issue_codes(action, 4, phone_prefix="+7916555")
    past = timezone.now() - timedelta(days=4)
    PromoCode.objects.filter(action=action).update(issued_at=past)
    PromoAction.objects.filter(pk=action.pk).update(first_sent_at=past)
    action.refresh_from_db()
    return action, codes


def test_a_round_reminds_each_unused_code_once(reminded):
    action, codes = reminded
    promo_code_redeem(account_id=action.account_id, code=codes[0])
    assert reminders_due() == [action.pk]
    assert reminder_round_send(action_id=action.pk) == 3
    campaign = Campaign.objects.get(client_id=f"promo-reminder:{action.pk}:1")
    assert campaign.source == "scheduler"
    texts = dict(Message.objects.filter(campaign=campaign).values_list("phone", "text"))
    by_phone = dict(
        PromoCode.objects.filter(action=action).values_list("phone", "code")
    )
    assert len(texts) == 3 and by_phone["+79165550000"] not in "".join(texts.values())
    for phone, text in texts.items():
        assert text == f"Напоминаем: ваш промокод {by_phone[phone]} ещё действует!"
    # The same round is never sent twice.
    assert reminder_round_send(action_id=action.pk) == 0
    assert reminders_due() == []
    assert Campaign.objects.filter(client_id__startswith="promo-reminder:").count() == 1
    assert sorted(
        PromoCode.objects.filter(action=action).values_list("reminders_sent", flat=True)
    ) == [0, 1, 1, 1]


def test_the_second_round_comes_every_n_days_until_the_count(reminded):
    action, _codes = reminded
    reminder_round_send(action_id=action.pk)
    assert (
        reminder_round_send(action_id=action.pk, now=timezone.now() + timedelta(days=1))
        == 4
    )
    assert Campaign.objects.filter(client_id=f"promo-reminder:{action.pk}:2").exists()
    assert (
        reminder_round_send(action_id=action.pk, now=timezone.now() + timedelta(days=9))
        == 0
    )
    action.refresh_from_db()
    assert action.reminder_rounds_done == 2


def test_expired_codes_are_not_reminded(reminded):
    action, _codes = reminded
    PromoCode.objects.filter(action=action).update(
        issued_at=timezone.now() - timedelta(days=31)
    )
    assert reminder_round_send(action_id=action.pk) == 0
    assert not Campaign.objects.filter(client_id__startswith="promo-reminder:").exists()
    action.refresh_from_db()
    assert action.reminder_rounds_done == 1  # the round passed with nobody to remind


def test_the_periodic_task_sends_due_rounds(reminded):
    from promo.tasks import promo_reminders

    action, _codes = reminded
    assert promo_reminders.delay().get() == 1
    assert Campaign.objects.filter(client_id=f"promo-reminder:{action.pk}:1").exists()
    assert promo_reminders.delay().get() == 0


def test_a_failed_launch_is_kept_and_retried(reminded, user):
    from billing.services import ledger_post
    from cabinet.models import Account

    action, _codes = reminded
    ledger_post(
        account_id=user.account_id,
        amount=-Account.objects.get(pk=user.account_id).balance,
        kind="adjustment",
        reason="тест",
    )
    assert reminder_round_send(action_id=action.pk) == 0
    action.refresh_from_db()
    assert (
        action.reminder_rounds_done == 0
        and "Недостаточно средств" in action.reminder_error
    )
    assert reminders_due() == [action.pk]


def test_the_report_counts_sent_delivered_redeemed_and_reminders(reminded):
    from promo.selectors import action_stats

    action, codes = reminded
    reminder_round_send(action_id=action.pk)
    promo_code_redeem(account_id=action.account_id, code=codes[1])
    stats = action_stats(account_id=action.account_id)[action.pk]
    assert (stats.sent, stats.redeemed, stats.reminders) == (4, 1, 4)
    assert stats.redemption_rate == 25.0
    assert stats.delivered == 0  # these codes were issued without messages
