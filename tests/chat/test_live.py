"""The chat's WebSockets against a real ASGI server (uvicorn in a thread):
visitor ⇄ operator live, resume after a drop, and what is refused."""

import json

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from chat.models import ChatMessage, Conversation

pytestmark = pytest.mark.django_db(transaction=True)

VISITOR = "0123456789abcdef0123456789abcdef"


def ws_url(server, path):
    return server.url.replace("http://", "ws://") + path


def visitor_ws(server, site, key=VISITOR, origin=None):
    return connect(
        ws_url(server, f"/ws/chat/visitor/?site={site.key}&visitor={key}"),
        additional_headers={"Origin": origin or site.origin},
        open_timeout=5,
    )


def operator_ws(server, client, user):
    client.force_login(user)
    cookie = client.cookies["sessionid"].value
    return connect(
        ws_url(server, "/ws/chat/operator/"),
        additional_headers={"Origin": server.url, "Cookie": f"sessionid={cookie}"},
        open_timeout=5,
    )


def recv(ws, kind, timeout=5):
    """The next frame of ``kind`` (others skipped)."""
    while True:
        data = json.loads(ws.recv(timeout=timeout))
        if data["type"] == kind:
            return data


def test_visitor_and_operator_talk_live_and_resume_after_a_drop(
    asgi_server, chat_site, user, client
):
    v = visitor_ws(asgi_server, chat_site)
    assert recv(v, "ready")["online"] is False
    op = operator_ws(asgi_server, client, user)
    recv(op, "ready")
    assert recv(v, "state")["online"] is True

    v.send(json.dumps({"type": "hello", "after": 0, "page": "https://shop.example/p"}))
    assert recv(v, "history")["messages"] == []
    v.send(json.dumps({"type": "message", "text": "Есть доставка?", "client_id": "c1"}))
    ack = recv(v, "ack")
    got = recv(op, "message")
    assert got["message"]["text"] == "Есть доставка?"
    assert got["message"]["id"] == ack["id"]
    assert got["new_conversation"] is True
    conv = got["message"]["conversation"]
    # The same message resent after a drop is stored once.
    v.send(json.dumps({"type": "message", "text": "Есть доставка?", "client_id": "c1"}))
    assert recv(v, "ack")["id"] == ack["id"]
    assert ChatMessage.objects.filter(author="visitor").count() == 1

    v.send(json.dumps({"type": "typing"}))
    assert recv(op, "typing")["conversation"] == conv
    op.send(json.dumps({"type": "typing", "conversation": conv}))
    recv(v, "typing")
    op.send(json.dumps({"type": "message", "conversation": conv, "text": "Да!"}))
    answer = recv(v, "message")["message"]
    assert (answer["author"], answer["text"]) == ("operator", "Да!")

    # The network drops; the operator goes on writing; the widget comes back.
    v.close()
    op.send(json.dumps({"type": "message", "conversation": conv, "text": "Курьером"}))
    recv(op, "ack")
    op.send(json.dumps({"type": "message", "conversation": conv, "text": "Завтра"}))
    recv(op, "ack")
    v = visitor_ws(asgi_server, chat_site)
    recv(v, "ready")
    v.send(json.dumps({"type": "hello", "after": answer["id"]}))
    missed = recv(v, "history")["messages"]
    assert [m["text"] for m in missed] == ["Курьером", "Завтра"]
    c = Conversation.objects.get(pk=conv)
    assert c.visitor.page == "https://shop.example/p"
    v.close()
    op.close()


def test_a_page_of_another_origin_or_an_unknown_site_is_refused(
    asgi_server, chat_site, other_user
):
    with pytest.raises(InvalidStatus):
        visitor_ws(asgi_server, chat_site, origin="https://evil.example")
    from chat import services

    foreign = services.site_add(
        account=other_user.account, address="https://other.example", language="ru"
    )
    foreign.key = "nosuchsite"
    with pytest.raises(InvalidStatus):
        visitor_ws(asgi_server, foreign)
    with pytest.raises(InvalidStatus):
        visitor_ws(asgi_server, chat_site, key="not-a-key")
    assert not Conversation.objects.exists()
    v = visitor_ws(asgi_server, chat_site)  # the site's own origin is served
    assert recv(v, "ready")["online"] is False
    v.close()


def test_an_operator_needs_a_session_of_an_operator(
    asgi_server, chat_site, other_user, client
):
    with pytest.raises(InvalidStatus):
        connect(
            ws_url(asgi_server, "/ws/chat/operator/"),
            additional_headers={"Origin": asgi_server.url},
            open_timeout=5,
        )
    with pytest.raises(InvalidStatus):  # a user of another account, no operator
        operator_ws(asgi_server, client, other_user)


def test_size_flood_html_and_blocked(asgi_server, chat_site, user):
    from chat import services

    v = visitor_ws(asgi_server, chat_site)
    recv(v, "ready")
    v.send(json.dumps({"type": "message", "text": "я" * 2001, "client_id": "big"}))
    assert recv(v, "error")["code"] == "too_long"
    v.send("x" * 20000)
    assert recv(v, "error")["code"] == "too_long"
    v.send("not json")
    assert recv(v, "error")["code"] == "invalid"
    html = "<img src=x onerror=alert(1)><b>hi</b>"
    v.send(json.dumps({"type": "message", "text": html, "client_id": "h"}))
    recv(v, "ack")
    assert ChatMessage.objects.get().text == html  # stored as typed, shown as text
    codes = []
    for i in range(12):
        v.send(json.dumps({"type": "message", "text": f"spam {i}"}))
        frame = json.loads(v.recv(timeout=5))
        while frame["type"] not in ("ack", "error"):
            frame = json.loads(v.recv(timeout=5))
        codes.append(frame.get("code", "ok"))
    assert codes.count("ok") == services.FLOOD_LIMIT - 1
    assert "rate_limited" in codes
    stored = ChatMessage.objects.filter(author="visitor").count()

    conv = Conversation.objects.get()
    services.block(conversation=conv)
    assert recv(v, "error")["code"] == "blocked"
    v.send(json.dumps({"type": "message", "text": "ещё"}))
    assert recv(v, "error")["code"] == "blocked"
    assert ChatMessage.objects.filter(author="visitor").count() == stored
    v.close()
    v = visitor_ws(asgi_server, chat_site)
    assert recv(v, "error")["code"] == "blocked"
    v.close()


def test_with_no_operator_online_the_visitor_leaves_a_message(asgi_server, chat_site):
    from django.core import mail

    v = visitor_ws(asgi_server, chat_site)
    assert recv(v, "ready")["online"] is False
    v.send(json.dumps({"type": "leave", "name": "Ира", "email": "x", "text": "Ау"}))
    assert recv(v, "error")["code"] == "email"
    v.send(
        json.dumps(
            {"type": "leave", "name": "Ира", "email": "ira@example.com", "text": "Ау"}
        )
    )
    recv(v, "left")
    v.close()
    conv = Conversation.objects.get()
    assert conv.left_message and conv.visitor.email == "ira@example.com"
    assert "ira@example.com" in mail.outbox[0].body


def test_an_operator_cannot_reach_another_accounts_conversation(
    asgi_server, chat_site, user, other_user, client
):
    from chat import services

    theirs = services.site_add(
        account=other_user.account, address="https://other.example", language="ru"
    )
    msg = services.visitor_message(
        visitor=services.visitor_connect(site=theirs, key=VISITOR), text="Привет"
    )
    op = operator_ws(asgi_server, client, user)
    recv(op, "ready")
    conv = msg.conversation_id
    op.send(json.dumps({"type": "message", "conversation": conv, "text": "Взлом"}))
    assert recv(op, "error")["code"] == "not_found"
    op.send(json.dumps({"type": "read", "conversation": conv}))
    op.send(json.dumps({"type": "resume", "after": 0}))
    assert recv(op, "history")["messages"] == []
    op.close()
    assert not ChatMessage.objects.filter(author="operator").exists()
    assert Conversation.objects.get(pk=conv).unread == 1
