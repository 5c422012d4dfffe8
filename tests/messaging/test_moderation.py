import pytest

from cabinet.models import Notification
from messaging import moderation, services
from messaging.models import Campaign, ModerationTemplate

pytestmark = pytest.mark.django_db


@pytest.fixture
def new_user(make_user):
    return make_user("new@example.com", trusted=False)


def test_a_new_accounts_campaign_goes_to_moderation(new_user):
    assert moderation.needs_moderation(
        account=new_user.account, channel="sms", text="hi"
    )
    campaign = services.campaign_launch(
        account=new_user.account, channel="sms", text="Привет", phones=["+79161234567"]
    )
    assert campaign.status == "moderation"
    assert set(campaign.messages.values_list("status", flat=True)) == {"moderation"}


def test_trusted_accounts_skip_moderation_unless_the_text_is_risky(user):
    assert not moderation.needs_moderation(
        account=user.account, channel="sms", text="Ваш заказ готов"
    )
    for text in (
        "Скидка тут: https://bit.ly/abc",
        "Зайдите http://10.0.0.1/login",
        "Ваша карта заблокирована, позвоните",
    ):
        assert moderation.needs_moderation(
            account=user.account, channel="sms", text=text
        )


def test_an_account_is_new_until_enough_campaigns_completed(new_user, settings):
    settings.MODERATION_TRUST_AFTER = 2
    for _ in range(2):
        Campaign.objects.create(account=new_user.account, status="done")
    assert not moderation.is_new_account(new_user.account)


@pytest.mark.parametrize(
    "pattern,text,match",
    [
        ("Ваш код: [любая фраза]", "Ваш код: 4821", True),
        ("Ваш код: [любая фраза]", "Ваш  код:   4821", True),
        ("Ваш код: [любая фраза]", "Ваш код: ", False),
        ("Ваш код: [любая фраза]", "Ваш код: 4821. Переходите на bit.ly/x", True),
        ("Ваш код: [любая фраза]", "Скидки! Ваш код: 4821", False),
        (
            "Заказ [любая фраза] готов, сумма [любая фраза] руб.",
            "Заказ №5 готов, сумма 100 руб.",
            True,
        ),
        ("Код (для входа): [любая фраза]", "Код (для входа): 1.2*3", True),
    ],
)
def test_template_patterns(pattern, text, match):
    assert (
        bool(moderation.template_regex(pattern).match(moderation._normalise(text)))
        is match
    )


def test_an_approved_template_skips_moderation(new_user):
    row = moderation.template_create(
        account=new_user.account, text="Ваш код: [любая фраза]"
    )
    assert moderation.needs_moderation(
        account=new_user.account, channel="sms", text="Ваш код: 1234"
    )  # still pending
    moderation.template_decide(template=row, approve=True)
    assert not moderation.needs_moderation(
        account=new_user.account, channel="sms", text="Ваш код: 1234"
    )
    assert moderation.needs_moderation(
        account=new_user.account, channel="sms", text="Акция! Ваш код: 1234"
    )
    note = Notification.objects.get(account=new_user.account)
    assert "одобрен" in note.title


def test_another_accounts_template_does_not_help(new_user, other_user):
    ModerationTemplate.objects.create(
        account=other_user.account, text="Код: [любая фраза]", status="approved"
    )
    assert moderation.needs_moderation(
        account=new_user.account, channel="sms", text="Код: 1"
    )


def test_bad_templates_are_refused(user):
    for text in ("", "[любая фраза]", "x" * 1001):
        with pytest.raises(moderation.InvalidTemplate):
            moderation.template_create(account=user.account, text=text)


def test_editing_a_template_sends_it_back_to_moderation(user):
    row = ModerationTemplate.objects.create(
        account=user.account, text="A [любая фраза]", status="approved"
    )
    moderation.template_update(template=row, text="B [любая фраза]")
    row.refresh_from_db()
    assert row.status == "pending" and row.text == "B [любая фраза]"


def test_the_pages_create_edit_delete_and_hide_foreign_rows(
    client_for, user, other_user
):
    client = client_for(user)
    assert (
        client.post(
            "/sms/moderation-templates/", {"text": "Ваш код: [любая фраза]"}
        ).status_code
        == 302
    )
    row = ModerationTemplate.objects.get()
    assert "Ваш код" in client.get("/sms/moderation-templates/").content.decode()
    assert (
        client.post(
            f"/sms/moderation-templates/{row.pk}/", {"text": "Код: [любая фраза]"}
        ).status_code
        == 302
    )
    foreign = ModerationTemplate.objects.create(
        account=other_user.account, text="чужой"
    )
    assert client.get(f"/sms/moderation-templates/{foreign.pk}/").status_code == 404
    assert (
        client.post(f"/sms/moderation-templates/{foreign.pk}/delete/").status_code
        == 404
    )
    assert "чужой" not in client.get("/sms/moderation-templates/").content.decode()
    assert client.post(f"/sms/moderation-templates/{row.pk}/delete/").status_code == 302
    assert list(ModerationTemplate.objects.values_list("text", flat=True)) == ["чужой"]


def test_staff_approve_a_campaign_in_the_admin_console(client, new_user, admin_user):
    campaign = services.campaign_launch(
        account=new_user.account, channel="sms", text="Привет", phones=["+79161234567"]
    )
    client.force_login(admin_user)
    url = "/admin/messaging/campaignmoderation/"
    page = client.get(url).content.decode()
    assert "Привет" in page and "новый аккаунт" in page
    resp = client.post(
        url, {"action": "approve", "_selected_action": [campaign.moderation.pk]}
    )
    assert resp.status_code == 302
    campaign.refresh_from_db()
    assert campaign.status in ("running", "done")
    assert Notification.objects.filter(account=new_user.account).exists()


def test_staff_reject_a_campaign_with_a_reason_and_it_is_refunded(
    client, new_user, admin_user
):
    from cabinet.models import Account

    before = Account.objects.get(pk=new_user.account_id).balance
    campaign = services.campaign_launch(
        account=new_user.account, channel="sms", text="Привет", phones=["+79161234567"]
    )
    client.force_login(admin_user)
    url = "/admin/messaging/campaignmoderation/"
    resp = client.post(
        url,
        {
            "action": "reject",
            "_selected_action": [campaign.moderation.pk],
            "apply": "1",
            "reason_text": "Спам",
        },
    )
    assert resp.status_code == 302
    campaign.refresh_from_db()
    assert campaign.status == "rejected"
    assert Account.objects.get(pk=new_user.account_id).balance == before


def test_staff_approve_and_reject_moderation_templates_in_the_admin(
    client, user, admin_user
):
    ok = moderation.template_create(account=user.account, text="Код: [любая фраза]")
    bad = moderation.template_create(account=user.account, text="Акция [любая фраза]")
    client.force_login(admin_user)
    url = "/admin/messaging/moderationtemplate/"
    assert (
        client.post(url, {"action": "approve", "_selected_action": [ok.pk]}).status_code
        == 302
    )
    resp = client.post(
        url,
        {
            "action": "reject",
            "_selected_action": [bad.pk],
            "apply": "1",
            "reason_text": "Реклама",
        },
    )
    assert resp.status_code == 302
    ok.refresh_from_db()
    bad.refresh_from_db()
    assert ok.status == "approved" and bad.status == "rejected"
    assert bad.reason_text == "Реклама"
    assert Notification.objects.filter(account=user.account).count() == 2
