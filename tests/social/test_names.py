"""The name request (manual 6.1): groups on vk.com / ok.ru, the signed letter
(PDF/JPG/PNG by content, size-limited), the blank with the account's
requisites, staff moderation with reasons, history, the decision notified."""

import pytest
from django.urls import reverse

from billing.models import Requisites
from cabinet.models import Notification
from cabinet.moderation import DecisionError, decide, queues
from messaging.models import SenderName
from social import services
from social.letters import InvalidRequest, ok_group, vk_group
from social.models import NameRequest

from .conftest import PDF, letter, png

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("https://vk.com/luckyshop", "vk.com/luckyshop"),
        ("vk.com/club123456", "vk.com/club123456"),
        ("http://m.vk.com/public42/", "vk.com/public42"),
    ],
)
def test_vk_addresses(raw, expected):
    assert vk_group(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "https://vk.com.evil.example/shop",
        "https://facebook.com/shop",
        "https://vk.com/",
        "https://vk.com/feed",
        "javascript:alert(1)",
        "https://vk.com/a b",
        "ftp://vk.com/shop",
    ],
)
def test_vk_addresses_elsewhere_are_refused(raw):
    with pytest.raises(InvalidRequest):
        vk_group(raw)


def test_ok_addresses():
    assert ok_group("https://ok.ru/group/55555555") == "ok.ru/group/55555555"
    assert ok_group("ok.ru/myshop") == "ok.ru/myshop"
    for raw in ("https://vk.com/group/55555555", "https://ok.ru.example.com/x"):
        with pytest.raises(InvalidRequest):
            ok_group(raw)


@pytest.mark.parametrize(
    "data, name, message",
    [
        (b"MZ\x90\x00 not a document", "letter.pdf", "PDF, JPG или PNG"),
        (b"<html><script>alert(1)</script>", "letter.png", "PDF, JPG или PNG"),
        (b"%PDF-1.4 truncated", "letter.pdf", "повреждён"),
        (b"\x89PNG\r\n\x1a\n broken", "letter.png", "повреждено"),
        (b"", "letter.pdf", "пустой"),
    ],
)
def test_letters_that_are_not_documents_are_refused(user, data, name, message):
    with pytest.raises(InvalidRequest) as exc:
        services.name_request_create(
            account=user.account, vk="vk.com/luckyshop", letter=letter(data, name)
        )
    assert message in exc.value.message
    assert exc.value.field == "letter"
    assert not NameRequest.objects.exists()


def test_an_oversized_letter_is_refused(user, settings):
    settings.SOCIAL_LETTER_MAX_BYTES = 1024
    with pytest.raises(InvalidRequest) as exc:
        services.name_request_create(
            account=user.account,
            vk="vk.com/luckyshop",
            letter=letter(PDF + b"x" * 2000),
        )
    assert "больше" in exc.value.message
    assert not NameRequest.objects.exists()


def test_a_request_needs_a_group_and_a_letter(user):
    with pytest.raises(InvalidRequest):
        services.name_request_create(account=user.account, letter=letter())
    with pytest.raises(InvalidRequest) as exc:
        services.name_request_create(account=user.account, vk="vk.com/luckyshop")
    assert exc.value.field == "letter"


def test_approval_makes_the_groups_sender_names_and_is_notified(user):
    row = services.name_request_create(
        account=user.account,
        vk="https://vk.com/luckyshop",
        ok="https://ok.ru/group/55555555",
        letter=letter(png(), "scan.png", "image/png"),
    )
    assert row.letter_ext == "png"
    assert any(q.model is NameRequest for q in queues())
    # A second request waits for the first.
    with pytest.raises(InvalidRequest):
        services.name_request_create(
            account=user.account, vk="vk.com/another", letter=letter()
        )
    decide(item=row, approve=True)
    names = set(
        SenderName.objects.filter(
            account=user.account, status=SenderName.Status.APPROVED
        ).values_list("channel", "name")
    )
    assert names == {("vk", "vk.com/luckyshop"), ("ok", "ok.ru/group/55555555")}
    note = Notification.objects.filter(account=user.account).latest("created_at")
    assert "одобрено" in note.title and note.kind == Notification.Kind.SENDER
    # The approved group cannot be requested again.
    with pytest.raises(InvalidRequest) as exc:
        services.name_request_create(
            account=user.account, vk="vk.com/luckyshop", letter=letter()
        )
    assert "уже одобрена" in exc.value.message


def test_rejection_needs_a_reason_and_keeps_the_history(user):
    row = services.name_request_create(
        account=user.account, vk="vk.com/luckyshop", letter=letter()
    )
    with pytest.raises(DecisionError):
        decide(item=row, approve=False)
    decide(item=row, approve=False, reason="letter", comment="Нет подписи")
    row.refresh_from_db()
    assert row.status == "rejected"
    assert "не подписано" in row.reason_display
    assert not SenderName.objects.filter(account=user.account).exists()
    note = Notification.objects.filter(account=user.account).latest("created_at")
    assert "отклонено" in note.title and "Нет подписи" in note.body
    # Requested again with a signed letter: the history keeps both.
    services.name_request_create(
        account=user.account, vk="vk.com/luckyshop", letter=letter()
    )
    assert NameRequest.objects.filter(account=user.account).count() == 2


def test_the_pages(client_for, user, other_user):
    client = client_for(user)
    page = client.get(reverse("social:send"))
    assert "Перед созданием рассылки необходимо заказать имя отправителя" in (
        page.content.decode()
    )
    response = client.post(
        reverse("social:sender_names"),
        {"vk_group": "https://facebook.com/shop", "letter": letter()},
    )
    assert "vk.com" in response.content.decode()
    assert not NameRequest.objects.exists()
    response = client.post(
        reverse("social:sender_names"),
        {"vk_group": "https://vk.com/luckyshop", "letter": letter()},
    )
    assert response.status_code == 302
    row = NameRequest.objects.get()
    assert client.get(reverse("social:letter", args=[row.pk])).status_code == 200
    blank = client.get(reverse("social:letter_blank"))
    assert blank["Content-Type"] == "application/pdf"
    assert blank.content.startswith(b"%PDF")
    # Another account's letter and request: 404, nothing withdrawn.
    stranger = client_for(other_user)
    assert stranger.get(reverse("social:letter", args=[row.pk])).status_code == 404
    assert (
        stranger.post(reverse("social:request_withdraw", args=[row.pk])).status_code
        == 404
    )
    assert NameRequest.objects.filter(pk=row.pk).exists()


def test_the_blank_carries_the_requisites(client_for, user):
    import io

    from pypdf import PdfReader

    Requisites.objects.create(
        account=user.account,
        organisation="ООО «Ромашка»",
        inn="7701234567",
        legal_address="Москва, ул. Ленина, 1",
        bank_name="Банк",
        bic="044525225",
        settlement_account="40702810000000000001",
        correspondent_account="30101810400000000225",
        director="Иванов И. И.",
    )
    blank = client_for(user).get(reverse("social:letter_blank"))
    text = PdfReader(io.BytesIO(blank.content)).pages[0].extract_text()
    assert "Ромашка" in text and "7701234567" in text and "Иванов" in text


def test_staff_read_the_letter_and_decide_in_the_console(client, user):
    from cabinet.models import User

    row = services.name_request_create(
        account=user.account, vk="vk.com/luckyshop", letter=letter()
    )
    staff = User.objects.create_superuser(email="mod@example.com", password="x-123456")
    client.force_login(staff)
    listing = client.get("/admin/social/namerequest/?status__exact=pending")
    assert "vk.com/luckyshop" in listing.content.decode()
    page = client.get(f"/admin/social/namerequest/{row.pk}/change/").content.decode()
    assert f"/admin/social/namerequest/{row.pk}/letter/" in page
    got = client.get(f"/admin/social/namerequest/{row.pk}/letter/")
    assert b"".join(got.streaming_content).startswith(b"%PDF")
    client.post(
        f"/admin/social/namerequest/{row.pk}/reject/",
        {"reason": "requisites", "comment": "ИНН другой"},
    )
    row.refresh_from_db()
    assert row.status == "rejected" and row.decided_by == staff
    # A cabinet user is not staff: no console, no letters of others.
    client.force_login(user)
    assert client.get(f"/admin/social/namerequest/{row.pk}/letter/").status_code == 302


def test_the_staff_console_decides_a_request(client, user):
    """The staff console (/staff/) lists the registered queue and decides a
    request through the one decision service: the groups become names."""
    from cabinet.models import User

    row = services.name_request_create(
        account=user.account, vk="vk.com/luckyshop", letter=letter()
    )
    staff = User.objects.create_superuser(
        email="staff@example.com", password="staff-pass-123"
    )
    client.force_login(staff)
    index = client.get("/staff/").content.decode()
    assert "Имена отправителя ВК/ОК" in index
    page = client.get(f"/staff/q/social.namerequest/{row.pk}/").content.decode()
    assert "vk.com/luckyshop" in page and "не подписано" in page  # a reason to pick
    client.post(
        f"/staff/q/social.namerequest/{row.pk}/", {"action": "approve", "comment": ""}
    )
    row.refresh_from_db()
    assert row.status == "approved"
    assert SenderName.objects.filter(
        account=user.account, channel="vk", name="vk.com/luckyshop", status="approved"
    ).exists()
