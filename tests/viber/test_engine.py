"""A Viber campaign through the core's pipeline and the fake Viber carrier:
content reaches the carrier, the button goes through our short link, and
callbacks (delivered, seen, clicked, replied, unsubscribed, spam, not a Viber
user) land as statuses, replies and unsubscribes — once."""

from decimal import Decimal

import pytest

from billing.selectors import ledger_sum
from cabinet.models import Account
from contacts.models import Unsubscribe
from messaging import services
from messaging.dispatch import dispatch_batch
from messaging.models import CampaignLink, GatewaySubmission, Message
from messaging.models import MessageStatus as S
from viber.channels import VIBER
from viber.models import Reply

pytestmark = pytest.mark.django_db


def launch(user, phones, *, image=None, button=True, text="Скидка 20% для вас!", **kw):
    content = {}
    if image is not None:
        content["image"] = image.public_id
    if button:
        content.update(button_text="В магазин", button_url="https://shop.example.com/a")
    return services.campaign_launch(
        account=user.account,
        channel="viber",
        text=text,
        content=content,
        phones=phones,
        **kw,
    )


def statuses(campaign) -> dict[str, str]:
    return dict(campaign.messages.values_list("phone", "status"))


def test_the_viber_entry_declares_its_statuses_and_columns():
    abbrs = [str(c.abbr) for c in VIBER.columns]
    for abbr in ("Д", "Пр", "Кл", "От", "Н", "М", "Отм", "Отпр", "Отл", "Спам"):
        assert abbr in abbrs
    assert VIBER.success == {S.DELIVERED, S.VIEWED, S.CLICKED}
    assert VIBER.unit == "message"
    assert VIBER.default_sender() in VIBER.shared()


def test_text_image_button_reach_the_carrier_with_the_button_as_our_short_link(
    user, image_of
):
    image = image_of(user)
    campaign = launch(user, ["+79161230001", "+79161234444"], image=image)
    assert campaign.content == {
        "image": image.public_id,
        "button_text": "В магазин",
        "button_url": "https://shop.example.com/a",
    }
    records = GatewaySubmission.objects.filter(channel="viber").order_by("message_id")
    assert records.count() == 2
    link = CampaignLink.objects.get(campaign=campaign)
    assert link.url == "https://shop.example.com/a"
    for record in records:
        assert record.content["image"] == image.public_id
        assert record.content["button_text"] == "В магазин"
        # Each message's own short link, never the client's address itself.
        assert "/s/" in record.content["button_url"]
        assert "shop.example.com" not in record.content["button_url"]
    assert len({r.content["button_url"] for r in records}) == 2


def test_callbacks_give_every_viber_status(user, image_of):
    campaign = launch(
        user,
        [
            "+79160000000",  # not a Viber user
            "+79160003333",  # delivered, seen, pressed the button
            "+79160004444",  # seen
            "+79160006666",  # unsubscribed
            "+79160007777",  # spam
            "+79160001234",  # delivered
        ],
        image=image_of(user),
    )
    got = statuses(campaign)
    assert got == {
        "+79160000000": S.UNDELIVERED,
        "+79160003333": S.CLICKED,
        "+79160004444": S.VIEWED,
        "+79160006666": S.UNSUBSCRIBED,
        "+79160007777": S.SPAM,
        "+79160001234": S.DELIVERED,
    }
    not_viber = campaign.messages.get(phone="+79160000000")
    assert not_viber.reason == "Номер не зарегистрирован в Viber"
    seen = campaign.messages.get(phone="+79160004444")
    assert seen.status_at is not None and "seen_at" not in seen.extra
    # A click hides when the message was seen: the fact is kept.
    clicked = campaign.messages.get(phone="+79160003333")
    assert "seen_at" in clicked.extra
    # The press went through our short link: counted on the campaign's link.
    assert CampaignLink.objects.get(campaign=campaign).clicks == 1
    # Report columns: a click was seen and delivered (Д, Пр, Кл all count it).
    counters = services.campaign_counters(campaign_id=campaign.pk)
    cells = {
        str(c.abbr): sum(counters.get(s, 0) for s in c.statuses) for c in VIBER.columns
    }
    assert cells["Д"] == 3 and cells["Пр"] == 2 and cells["Кл"] == 1
    assert cells["От"] == 1 and cells["Спам"] == 1 and cells["Н"] == 1


def test_a_click_needs_something_to_press(user):
    campaign = launch(user, ["+79160003333"], button=False, text="Без кнопки")
    assert statuses(campaign) == {"+79160003333": S.VIEWED}


def test_replies_are_kept_per_contact_only_when_asked_for(user):
    asked = launch(user, ["+79160005555"], options={"replies": True})
    silent = launch(user, ["+79170005555"])
    reply = Reply.objects.get()
    assert reply.campaign_id == asked.pk and reply.phone == "+79160005555"
    assert reply.account_id == user.account_id and reply.text
    message = asked.messages.get()
    assert message.status == S.VIEWED and message.extra["reply"] == reply.text
    # Without «Получать ответ в Online-чат» the answer is not kept.
    assert silent.messages.get().status == S.VIEWED
    assert "reply" not in silent.messages.get().extra


def test_an_unsubscribed_recipient_gets_nothing_more_from_that_sender(user):
    launch(user, ["+79160006666"], sender="Akcii")
    assert Unsubscribe.objects.filter(
        account=user.account, phone="+79160006666", channel="viber", sender="Akcii"
    ).exists()
    with pytest.raises(services.LaunchError) as refused:
        launch(user, ["+79160006666"], sender="Akcii")
    assert "отписался" in refused.value.message
    # Another sender may still write to them.
    other = launch(user, ["+79160006666"], sender="SMSinfo")
    assert other.recipients == 1


def test_callbacks_are_idempotent_and_exactly_once(
    user, manual_viber, image_of, django_capture_on_commit_callbacks
):
    from messaging.signals import replies_received

    announced = []

    def heard(sender, channel, replies, **kwargs):
        assert channel == "viber"
        announced.extend(replies)

    replies_received.connect(heard, weak=False)
    campaign = launch(
        user,
        ["+79160003333", "+79160005555"],
        image=image_of(user),
        options={"replies": True},
    )
    dispatch_batch(channel="viber")
    pending = list(manual_viber.pending_events)
    assert {e["event"] for e in pending} >= {"delivered", "seen", "clicked", "replied"}
    assert set(statuses(campaign).values()) == {S.SENT}
    try:
        with django_capture_on_commit_callbacks(execute=True):
            manual_viber.flush()
        counters = services.campaign_counters(campaign_id=campaign.pk)
        manual_viber.pending_receipts.extend(pending)  # Viber repeats its webhooks
        with django_capture_on_commit_callbacks(execute=True):
            manual_viber.flush()
    finally:
        replies_received.disconnect(heard)
    assert statuses(campaign) == {"+79160003333": S.CLICKED, "+79160005555": S.VIEWED}
    assert services.campaign_counters(campaign_id=campaign.pk) == counters
    assert Reply.objects.count() == 1
    # Each delivery of the reply callback is announced after its commit (the chat
    # and events key on the carrier's id, so a repeat is theirs to ignore).
    assert [r["text"] for r in announced] == [Reply.objects.get().text] * 2
    assert {r["external_id"] for r in announced} == {Reply.objects.get().external_id}
    # A second press of the button is a second visit of the short link.
    assert CampaignLink.objects.get(campaign=campaign).clicks == 2
    assert GatewaySubmission.objects.filter(channel="viber").count() == 2


def test_rates_decide_other_numbers_deterministically(settings, user):
    from messaging import registry

    settings.MESSAGING_GATEWAYS = {
        **settings.MESSAGING_GATEWAYS,
        "viber": {
            **settings.MESSAGING_GATEWAYS["viber"],
            "OPTIONS": {"mode": "instant", "rates": {"not_viber_user": 1.0}},
        },
    }
    registry.reset_gateways()
    try:
        campaign = launch(user, [f"+7916123456{i}" for i in range(5)])
        assert set(statuses(campaign).values()) == {S.UNDELIVERED}
        settings.MESSAGING_GATEWAYS["viber"]["OPTIONS"] = {
            "mode": "instant",
            "rates": {"seen": 1.0, "clicked": 1.0},
        }
        registry.reset_gateways()
        campaign = launch(user, [f"+7916223456{i}" for i in range(5)])
        assert set(statuses(campaign).values()) == {S.CLICKED}
    finally:
        registry.reset_gateways()


def test_a_text_too_long_after_substitution_is_refused_for_good_and_refunded(user):
    from contacts.models import Contact, Group

    group = Group.objects.create(account=user.account, name="Длинные имена")
    Contact.objects.create(
        account=user.account, group=group, phone="+79161112233", first_name="Я" * 60
    )
    text = "[Имя] " + "x" * 990
    campaign = services.campaign_launch(
        account=user.account, channel="viber", text=text, group_ids=[group.pk]
    )
    message = Message.objects.get(campaign=campaign)
    assert message.status == S.FAILED
    assert "1000" in message.reason and message.refunded
    account = Account.objects.get(pk=user.account_id)
    assert account.balance == Decimal("1000") == ledger_sum(account_id=account.pk)


def test_async_callbacks_arrive_through_a_task(settings, user):
    """The default mode: the carrier's webhooks come later, by a Celery task
    (eager in tests), and land the same statuses."""
    from messaging import registry

    settings.MESSAGING_GATEWAYS["viber"] = {
        **settings.MESSAGING_GATEWAYS["viber"],
        "OPTIONS": {"mode": "async", "receipt_delay_seconds": 0},
    }
    registry.reset_gateways()
    try:
        campaign = launch(user, ["+79160003333", "+79160004444"])
    finally:
        registry.reset_gateways()
    assert statuses(campaign) == {
        "+79160003333": S.CLICKED,
        "+79160004444": S.VIEWED,
    }
