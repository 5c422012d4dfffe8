import re

import pytest

from messaging import links, services
from messaging.models import CampaignLink, Message

pytestmark = pytest.mark.django_db


def test_tokens_round_trip_and_are_short():
    for link_id, message_id in [(1, 1), (7, 10**6), (10**6, 5 * 10**9)]:
        token = links.token_make(link_id, message_id)
        assert re.fullmatch(r"[A-Za-z0-9_-]+", token)
        assert len(token) <= 24
        assert links.token_read(token) == (link_id, message_id)
    assert links.LinkMaker(7)(10**6).endswith("/s/" + links.token_make(7, 10**6))


@pytest.mark.parametrize("token", ["", "abc", "!!!!", "A" * 65, "AAAAAAAAAAAAAAAAAAAA"])
def test_malformed_tokens_are_rejected(token):
    with pytest.raises(links.BadToken):
        links.token_read(token)


def test_a_changed_token_is_rejected():
    token = links.token_make(5, 123)
    for i in range(len(token)):
        ch = "A" if token[i] != "A" else "B"
        forged = token[:i] + ch + token[i + 1 :]
        try:
            assert links.token_read(forged) == (5, 123)  # base64 slack bits only
        except links.BadToken:
            pass


def test_a_token_from_another_secret_is_rejected(settings):
    token = links.token_make(5, 123)
    settings.SECRET_KEY = "another-secret-key-for-the-test-0123456789"
    with pytest.raises(links.BadToken):
        links.token_read(token)


def _campaign(
    user,
    text="Скидки тут: https://shop.example/sale?x=1 и www.shop.example.",
    **options,
):
    return services.campaign_launch(
        account=user.account,
        channel="sms",
        text=text,
        phones=["+79161234567", "+79031112233"],
        options={"shorten_links": True, **options},
    )


def test_links_in_the_text_are_shortened_per_message(user, settings):
    settings.SHORT_LINK_BASE = "https://s.example"
    campaign = _campaign(user)
    rows = list(CampaignLink.objects.filter(campaign=campaign).order_by("id"))
    assert [r.url for r in rows] == [
        "https://shop.example/sale?x=1",
        "www.shop.example",
    ]
    texts = list(Message.objects.filter(campaign=campaign).values_list("id", "text"))
    for message_id, text in texts:
        found = re.findall(r"https://s\.example/s/([A-Za-z0-9_-]+)", text)
        assert len(found) == 2
        assert [links.token_read(t) for t in found] == [
            (rows[0].pk, message_id),
            (rows[1].pk, message_id),
        ]
        assert text.endswith(".")  # the sentence's full stop is kept
    assert texts[0][1] != texts[1][1]


def test_a_click_redirects_counts_and_marks_the_message_clicked(client, user):
    campaign = _campaign(user)
    message = Message.objects.filter(campaign=campaign).first()
    token = re.search(r"/s/([A-Za-z0-9_-]+)", message.text).group(1)
    resp = client.get(f"/s/{token}")
    assert resp.status_code == 302
    assert resp["Location"] == "https://shop.example/sale?x=1"
    message.refresh_from_db()
    assert message.status == "clicked"
    client.get(f"/s/{token}")
    link = CampaignLink.objects.get(
        campaign=campaign, url="https://shop.example/sale?x=1"
    )
    assert link.clicks == 2
    assert services.campaign_counters(campaign_id=campaign.pk)["clicked"] == 1
    www = re.findall(r"/s/([A-Za-z0-9_-]+)", message.text)[1]
    assert client.get(f"/s/{www}")["Location"] == "http://www.shop.example"


def test_bad_tokens_are_a_404_page(client, user):
    campaign = _campaign(user)
    message = Message.objects.filter(campaign=campaign).first()
    link = CampaignLink.objects.filter(campaign=campaign).first()
    forged = links.token_make(link.pk + 1000, message.pk)
    for token in ("nonsense", "AAAA", forged, "x" * 100):
        assert client.get(f"/s/{token}").status_code == 404
    message.refresh_from_db()
    assert message.status != "clicked"


def test_a_token_of_another_campaigns_message_counts_but_marks_nothing(client, user):
    first, second = _campaign(user), _campaign(user)
    link = CampaignLink.objects.filter(campaign=first).first()
    foreign_message = Message.objects.filter(campaign=second).first()
    resp = client.get(f"/s/{links.token_make(link.pk, foreign_message.pk)}")
    assert resp.status_code == 302
    foreign_message.refresh_from_db()
    assert foreign_message.status != "clicked"


def test_the_chat_link_opens_a_reply_page_and_the_reply_reaches_the_client(
    client, user
):
    from cabinet.models import Notification

    campaign = services.campaign_launch(
        account=user.account,
        channel="sms",
        text="Привет",
        phones=["+79161234567"],
        options={"chat_link": True},
    )
    message = campaign.messages.get()
    assert re.search(r"Привет http\S+/s/[A-Za-z0-9_-]+$", message.text)
    token = message.text.rsplit("/s/", 1)[1]
    page = client.get(f"/s/{token}")
    assert page.status_code == 200 and "Ответ отправителю" in page.content.decode()
    message.refresh_from_db()
    assert message.status == "clicked"
    assert client.post(f"/s/{token}", {"text": ""}).status_code == 200
    resp = client.post(f"/s/{token}", {"text": "Спасибо, приду"})
    assert "доставлено" in resp.content.decode()
    note = Notification.objects.get(account=user.account)
    assert note.body == "Спасибо, приду" and "+79161234567" in note.title
    for _ in range(10):
        client.post(f"/s/{token}", {"text": "спам"})
    assert (
        Notification.objects.filter(account=user.account).count()
        == links.MAX_REPLIES_PER_HOUR
    )
