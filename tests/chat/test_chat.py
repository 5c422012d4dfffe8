"""«Мои сайты», operators and the plan, the widget's public endpoints, the
console's reads and actions, replies from Viber and SMS, the chat API — and
every bad input refused with nothing stored."""

from decimal import Decimal

import pytest
from django.core import mail

from billing.models import LedgerEntry
from chat import services
from chat.models import ChatMessage, Conversation, Operator, Plan, Site, Visitor
from messaging import services as messaging

pytestmark = pytest.mark.django_db

KEY = "0123456789abcdef0123456789abcdef"


def visitor_of(site, key=KEY):
    return services.visitor_connect(site=site, key=key, page="https://shop.example/")


# --- sites ---


def test_a_site_is_added_with_its_address_and_language(client_for, user):
    client = client_for(user)
    page = client.get("/chat/sites/").content.decode()
    assert "Подключить новый сайт" in page and "До 3 операторов" in page
    assert "Перевод чата" in page and "Блокировка клиента" in page
    resp = client.post("/chat/sites/", {"address": "Shop.Example/", "language": "en"})
    site = Site.objects.get()
    assert resp.status_code == 302 and resp["Location"] == f"/chat/sites/{site.pk}/"
    assert (site.origin, site.address, site.language) == (
        "https://shop.example",
        "https://shop.example",
        "en",
    )
    # Whoever connects the first site answers in the console.
    assert Operator.objects.get().user == user
    page = client.get(f"/chat/sites/{site.pk}/").content.decode()
    assert f"data-site=&quot;{site.key}&quot;" in page and "/chat/widget.js" in page
    assert "&lt;/body&gt;" in page


@pytest.mark.parametrize(
    "address",
    ["", "not a site", "ftp://shop.example", "javascript:alert(1)", "x" * 300],
)
def test_a_bad_address_is_refused(client_for, user, address):
    resp = client_for(user).post("/chat/sites/", {"address": address, "language": "ru"})
    assert resp.status_code == 200 and 'class="errorlist"' in resp.content.decode()
    assert not Site.objects.exists()


def test_the_same_site_twice_is_refused(client_for, user, chat_site):
    resp = client_for(user).post(
        "/chat/sites/", {"address": "http://shop.example", "language": "ru"}
    )
    assert resp.status_code == 302  # http and https are different origins
    resp = client_for(user).post(
        "/chat/sites/", {"address": "https://shop.example/about", "language": "ru"}
    )
    assert "уже подключён" in resp.content.decode()
    assert Site.objects.count() == 2


def test_appearance_is_saved_and_checked(client_for, user, chat_site):
    client = client_for(user)
    data = {
        "color": "#AA0000",
        "font": "serif",
        "size": "large",
        "position": "left",
        "greeting": "<b>Привет</b>",
        "language": "ru",
    }
    assert client.post(f"/chat/sites/{chat_site.pk}/", data).status_code == 302
    chat_site.refresh_from_db()
    assert (chat_site.color, chat_site.position) == ("#aa0000", "left")
    page = client.get(f"/chat/sites/{chat_site.pk}/").content.decode()
    assert "&lt;b&gt;Привет&lt;/b&gt;" in page and "<b>Привет</b>" not in page
    resp = client.post(f"/chat/sites/{chat_site.pk}/", {**data, "color": "red"})
    assert "#RRGGBB" in resp.content.decode()
    chat_site.refresh_from_db()
    assert chat_site.color == "#aa0000"


def test_another_accounts_site_is_404(client_for, other_user, chat_site):
    client = client_for(other_user)
    assert client.get(f"/chat/sites/{chat_site.pk}/").status_code == 404
    assert client.post(f"/chat/sites/{chat_site.pk}/delete/").status_code == 404
    assert Site.objects.filter(pk=chat_site.pk).exists()


# --- operators and the plan ---


def test_three_operators_on_the_free_plan_more_on_the_full_one(
    client_for, make_user, user, chat_site
):
    client = client_for(user)
    team = [make_user(account=user.account) for _ in range(4)]
    for member in team[:2]:
        resp = client.post("/chat/operators/", {"user": member.pk, "name": "Анна"})
        assert resp.status_code == 302
    resp = client.post("/chat/operators/", {"user": team[2].pk})
    assert resp.status_code == 400
    assert "не больше 3 операторов" in resp.content.decode()
    assert Operator.objects.count() == 3
    # Someone of another account is not a choice.
    stranger = make_user("x@example.com")
    resp = client.post("/chat/operators/", {"user": stranger.pk})
    assert resp.status_code == 400 and Operator.objects.count() == 3

    user.account.refresh_from_db()
    balance = user.account.balance
    assert client.post("/chat/plan/").status_code == 302
    entry = LedgerEntry.objects.get(service="chat")
    assert entry.amount == -Decimal("990.00") and entry.kind == "charge"
    user.account.refresh_from_db()
    assert user.account.balance == balance - Decimal("990.00")
    assert Plan.objects.get().is_full()
    assert client.post("/chat/operators/", {"user": team[2].pk}).status_code == 302
    assert Operator.objects.count() == 4
    # A second month starts where the first ends.
    first = Plan.objects.get().full_until
    resp = client.post("/chat/plan/", follow=True)
    assert "Недостаточно средств" in resp.content.decode()  # 10 ₽ left
    assert Plan.objects.get().full_until == first
    from billing.services import ledger_post

    ledger_post(
        account_id=user.account_id, amount=Decimal("1000"), kind="topup", reason="t"
    )
    client.post("/chat/plan/")
    assert (Plan.objects.get().full_until - first).days == 30


def test_the_full_plan_needs_the_money(client_for, make_user):
    poor = make_user("poor@example.com", balance=Decimal("10"))
    resp = client_for(poor).post("/chat/plan/", follow=True)
    assert "Недостаточно средств" in resp.content.decode()
    assert not LedgerEntry.objects.filter(service="chat").exists()
    assert not Plan.objects.filter(full_until__isnull=False).exists()


# --- the widget's endpoints ---


def test_the_widget_script_and_its_config_for_the_registered_origin_only(
    client, chat_site
):
    js = client.get("/chat/widget.js")
    assert js.status_code == 200 and js["Content-Type"] == "text/javascript"
    assert b"textContent" in js.content and b'innerHTML = "<style>' in js.content
    url = f"/chat/widget/{chat_site.key}/config/"
    ok = client.get(url, HTTP_ORIGIN="https://shop.example")
    assert ok.status_code == 200
    assert ok["Access-Control-Allow-Origin"] == "https://shop.example"
    assert ok.json()["online"] is False and ok.json()["ws"].endswith(
        "/ws/chat/visitor/"
    )
    wrong = client.get(url, HTTP_ORIGIN="https://evil.example")
    assert wrong.status_code == 403 and "shop.example" in wrong.json()["error"]
    unknown = client.get("/chat/widget/nosuchkey/config/", HTTP_ORIGIN="https://a.ru")
    assert unknown.status_code == 404
    assert unknown.json()["error"] == "Сайт не зарегистрирован в Online-чате."
    assert client.get("/chat/widget/%3Cscript%3E/config/").status_code == 404


# --- leave a message, console actions ---


def test_a_message_left_offline_reaches_the_operators(user, chat_site):
    from cabinet.models import Notification

    visitor = visitor_of(chat_site)
    with pytest.raises(services.ChatError):
        services.leave_message(visitor=visitor, name="Ира", email="нет", text="Привет")
    services.leave_message(
        visitor=visitor, name="Ира", email="ira@example.com", text="Перезвоните"
    )
    conv = Conversation.objects.get()
    assert conv.left_message and conv.unread == 1
    note = Notification.objects.get(account=user.account)
    assert "shop.example" in note.title and "Перезвоните" in note.body
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [user.email]
    assert "ira@example.com" in mail.outbox[0].body


def test_console_reads_and_actions(client_for, make_user, user, other_user, chat_site):
    client = client_for(user)
    visitor = visitor_of(chat_site)
    services.visitor_message(visitor=visitor, text="<script>alert(1)</script>")
    conv = Conversation.objects.get()
    rows = client.get("/chat/console/conversations/").json()["conversations"]
    assert rows[0]["unread"] == 1 and rows[0]["last"] == "<script>alert(1)</script>"
    detail = client.get(f"/chat/console/conversations/{conv.pk}/").json()
    assert detail["visitor"]["page"] == "https://shop.example/"
    assert detail["messages"][0]["text"] == "<script>alert(1)</script>"
    assert "<script>" not in client.get("/chat/console/").content.decode().split(
        "</head>"
    )[1].replace("<script src", "")

    # Another account sees none of it.
    foreign = client_for(other_user)
    assert foreign.get(f"/chat/console/conversations/{conv.pk}/").status_code == 404
    assert (
        foreign.post(f"/chat/console/conversations/{conv.pk}/close/").status_code == 404
    )
    client = client_for(user)

    colleague = make_user(account=user.account)
    second = services.operator_add(account=user.account, user_id=colleague.pk)
    url = f"/chat/console/conversations/{conv.pk}/"
    assert client.post(url + "transfer/", {"operator": second.pk}).json() == {
        "ok": True
    }
    conv.refresh_from_db()
    assert conv.operator == second
    bad = client.post(url + "transfer/", {"operator": 999999})
    assert bad.status_code == 400 and bad.json()["error"] == "Выберите оператора."
    assert client.post(url + "transcript/", {"email": "boss@example.com"}).json()["ok"]
    assert mail.outbox[-1].to == ["boss@example.com"]
    assert "<script>alert(1)</script>" in mail.outbox[-1].body
    assert client.post(url + "transcript/", {"email": "x"}).status_code == 400
    assert client.post(url + "block/").json()["ok"]
    with pytest.raises(services.ChatError) as refused:
        services.visitor_message(visitor=Visitor.objects.get(pk=visitor.pk), text="ещё")
    assert refused.value.code == "blocked"
    assert client.post(url + "close/").json()["ok"]
    conv.refresh_from_db()
    assert conv.status == "closed"
    assert client.post(url + "nonsense/").status_code == 404
    assert client.get(url + "close/").status_code == 405

    resp = client.post("/chat/console/canned/", {"title": "Цены", "text": "См. прайс"})
    assert resp.status_code == 302
    assert "См. прайс" in client.get("/chat/console/").content.decode()


# --- replies from channels (H3, S14) ---


def _viber(user, phone, **options):
    return messaging.campaign_launch(
        account=user.account,
        channel="viber",
        text="Скидка 20% для вас!",
        phones=[phone],
        options=options,
    )


def test_a_viber_reply_opens_the_contacts_conversation_and_is_answered_by_viber(
    user, django_capture_on_commit_callbacks
):
    from viber.models import Reply

    with django_capture_on_commit_callbacks(execute=True):
        campaign = _viber(user, "+79160005555", replies=True)
    reply = Reply.objects.get()
    conv = Conversation.objects.get()
    assert (conv.channel, conv.campaign_id) == ("viber", campaign.pk)
    assert conv.visitor.phone == "79160005555"
    assert conv.messages.get().text == reply.text
    # The carrier repeats its callback: taken once.
    services.channel_replies(
        channel="viber",
        replies=[
            {
                "campaign_id": campaign.pk,
                "phone": reply.phone,
                "text": reply.text,
                "external_id": reply.external_id,
            }
        ],
    )
    assert ChatMessage.objects.count() == 1

    balance = user.account.__class__.objects.get(pk=user.account_id).balance
    op = Operator.objects.create(account=user.account, user=user, name="Оля")
    msg = services.operator_message(operator=op, conversation=conv, text="Спасибо!")
    answer = campaign.__class__.objects.get(pk=msg.campaign_id)
    assert (answer.channel, answer.text, answer.sender) == (
        "viber",
        "Спасибо!",
        campaign.sender,
    )
    assert answer.messages.get().phone.lstrip("+") == "79160005555"
    assert user.account.__class__.objects.get(pk=user.account_id).balance < balance


def test_replies_to_a_campaign_that_did_not_ask_stay_out_of_the_chat(
    user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _viber(user, "+79160005555")
    assert not Conversation.objects.exists()


def test_one_thread_per_contact_across_sms_and_viber(user):
    sms = messaging.campaign_launch(
        account=user.account,
        channel="sms",
        text="Привет",
        phones=["+79161234567"],
        options={"chat_link": True},
    )
    viber = _viber(user, "+79161234567", replies=True)
    services.channel_replies(
        channel="sms",
        replies=[
            {
                "campaign_id": sms.pk,
                "phone": "+79161234567",
                "text": "смс",
                "external_id": "s1",
            }
        ],
    )
    services.channel_replies(
        channel="viber",
        replies=[
            {
                "campaign_id": viber.pk,
                "phone": "+79161234567",
                "text": "вайбер",
                "external_id": "v1",
            }
        ],
    )
    conv = Conversation.objects.get()
    assert [m.channel for m in conv.messages.all()] == ["sms", "viber"]
    assert (conv.channel, conv.campaign_id, conv.unread) == ("viber", viber.pk, 2)


def test_an_answer_the_account_cannot_pay_is_refused_and_not_stored(make_user):
    poor = make_user("poor@example.com", balance=Decimal("0"))
    sms = messaging.campaign_launch(
        account=poor.account,
        channel="sms",
        text="Привет",
        phones=["+79161234567"],
        options={"chat_link": True},
        charge=False,
    )
    services.channel_replies(
        channel="sms",
        replies=[
            {
                "campaign_id": sms.pk,
                "phone": "79161234567",
                "text": "да",
                "external_id": "p1",
            }
        ],
    )
    conv = Conversation.objects.get()
    op = Operator.objects.create(account=poor.account, user=poor, name="Я")
    with pytest.raises(services.ChatError) as refused:
        services.operator_message(operator=op, conversation=conv, text="Ответ")
    assert "Ответ не отправлен" in refused.value.message
    assert not ChatMessage.objects.filter(author="operator").exists()


# --- the chat API ---


def test_the_chat_api_with_an_online_chat_token(
    api_client_for, user, other_user, chat_site
):
    services.visitor_message(visitor=visitor_of(chat_site), text="Где заказ?")
    conv = Conversation.objects.get()
    api = api_client_for(user, scopes=["chat"])
    rows = api.get("/api/v1/chat/conversations/").json()["results"]
    assert rows[0]["id"] == conv.pk and rows[0]["unread"] == 1
    assert api.get(f"/api/v1/chat/conversations/{conv.pk}/").json()["site"] == (
        "https://shop.example"
    )
    msgs = api.get(f"/api/v1/chat/conversations/{conv.pk}/messages/").json()
    msgs = msgs["results"]
    assert [m["text"] for m in msgs] == ["Где заказ?"]
    sent = api.post(
        f"/api/v1/chat/conversations/{conv.pk}/messages/",
        {"text": "В пути", "client_id": "a1"},
        format="json",
    )
    assert sent.status_code == 201 and sent.json()["author"] == "operator"
    again = api.post(
        f"/api/v1/chat/conversations/{conv.pk}/messages/",
        {"text": "В пути", "client_id": "a1"},
        format="json",
    )
    assert again.json()["id"] == sent.json()["id"]
    after = msgs[0]["id"]
    msgs = api.get(f"/api/v1/chat/conversations/{conv.pk}/messages/?after={after}")
    assert [m["text"] for m in msgs.json()["results"]] == ["В пути"]
    too_long = api.post(
        f"/api/v1/chat/conversations/{conv.pk}/messages/",
        {"text": "я" * 2001},
        format="json",
    )
    assert too_long.status_code == 400
    assert api.get("/api/v1/chat/conversations/?status=bad").status_code == 400

    # Another account's conversation is a 404; a messaging token is refused.
    foreign = api_client_for(other_user, scopes=["chat"])
    assert foreign.get(f"/api/v1/chat/conversations/{conv.pk}/").status_code == 404
    assert (
        foreign.post(
            f"/api/v1/chat/conversations/{conv.pk}/messages/",
            {"text": "x"},
            format="json",
        ).status_code
        == 404
    )
    messaging_token = api_client_for(user, scopes=["messaging"])
    refused = messaging_token.get("/api/v1/chat/conversations/")
    assert (
        refused.status_code == 403
        and "Online-чат" in refused.json()["error"]["message"]
    )
    assert ChatMessage.objects.filter(author="operator").count() == 1


def test_the_schema_documents_the_chat_api(client):
    schema = client.get("/api/v1/schema/").content.decode()
    assert "/api/v1/chat/conversations/{id}/messages/" in schema
