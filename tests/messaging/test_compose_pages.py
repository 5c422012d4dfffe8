import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

PAGES = [
    "messaging:sms_send",
    "messaging:sender_names",
    "messaging:templates",
    "messaging:moderation_templates",
    "messaging:greetings",
    "messaging:scheduler",
    "messaging:advertising",
    "messaging:schedule_create",
    "messaging:greeting_create",
]


@pytest.mark.parametrize("name", PAGES)
def test_every_sms_page_opens(client_for, user, name):
    resp = client_for(user).get(reverse(name))
    assert resp.status_code == 200
    assert "в разработке" not in resp.content.decode()


def test_the_menu_links_to_the_sms_pages(client_for, user):
    page = client_for(user).get("/").content.decode()
    for name in PAGES[:7]:
        assert f'href="{reverse(name)}"' in page, name


@pytest.mark.parametrize(
    "model",
    [
        "sendername",
        "campaignmoderation",
        "moderationtemplate",
        "advertisingrequest",
        "messagetemplate",
        "schedule",
        "greeting",
        "campaignlink",
    ],
)
def test_the_admin_moderation_console_opens(client, admin_user, user, model):
    from messaging import senders

    senders.sender_request(account=user.account, name="MyShop")
    client.force_login(admin_user)
    assert client.get(f"/admin/messaging/{model}/").status_code == 200
