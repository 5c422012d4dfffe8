"""The voice pages as a person uses them: upload or speak, listen, menu and
redials, price, send; the report with its columns, listening share and
«Детализация» by duration; numbers, tariffs; every bad input a clear error
that changes nothing."""

import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cabinet.models import Account
from cabinet.moderation import decide
from messaging.models import Campaign, Message
from messaging.models import MessageStatus as S
from voice.models import AudioFile

from .conftest import tone

pytestmark = pytest.mark.django_db

FORM = {
    "text": "",
    "voice": "espeak:ru",
    "phones": "+79161234567\n+79160005505",
    "send_tz": "Europe/Moscow",
    "smooth_portions": "4",
    "smooth_interval": "30",
    "window_from": "09:00",
    "window_to": "21:00",
    "redial_count": "2",
    "redial_interval": "30",
}


@pytest.fixture
def page(client, user):
    client.force_login(user)
    return client


def upload(page, path, name=None):
    with open(path, "rb") as f:
        data = {
            **FORM,
            "action": "upload",
            "upload": SimpleUploadedFile(name or path.name, f.read()),
        }
    return page.post("/voice/send/", data)


def test_upload_is_converted_measured_and_playable(page, user, tmp_path):
    resp = upload(page, tone(tmp_path / "hello.mp3", 3))
    assert resp.status_code == 200
    audio = AudioFile.objects.get(account=user.account)
    assert audio.source == "upload" and 2900 <= audio.duration_ms <= 3100
    html = resp.content.decode()
    assert f'src="/voice/audio/{audio.pk}.wav"' in html
    assert "На модерации" in html
    played = page.get(f"/voice/audio/{audio.pk}.wav")
    assert played["Content-Type"] == "audio/wav"
    body = b"".join(played.streaming_content)
    assert body[:4] == b"RIFF" and body[22:24] == b"\x01\x00"  # mono
    assert int.from_bytes(body[24:28], "little") == 8000


@pytest.mark.parametrize(
    "make, message",
    [
        (
            lambda p: p.write_bytes(b"not audio at all" * 100) and p,
            "не является аудиозаписью",
        ),
        (lambda p: tone(p, 2, volume=0), "тишина"),
    ],
)
def test_bad_uploads_are_refused(page, user, tmp_path, make, message):
    path = make(tmp_path / "x.wav")
    resp = upload(page, path)
    assert message in resp.content.decode()
    assert not AudioFile.objects.exists()


def test_too_long_and_too_large_uploads_are_refused(page, tmp_path, settings):
    settings.VOICE_MAX_SECONDS = 2
    resp = upload(page, tone(tmp_path / "long.wav", 3))
    assert "длиннее 2 секунд" in resp.content.decode()
    settings.VOICE_MAX_UPLOAD_BYTES = 1000
    resp = upload(page, tone(tmp_path / "big.wav", 1))
    assert "больше" in resp.content.decode()
    resp = upload(page, tone(tmp_path / "note.txt", 1))
    assert "mp3, wav или ogg" in resp.content.decode()
    assert not AudioFile.objects.exists()


def test_text_is_spoken_and_over_the_limit_refused(page, user, settings):
    resp = page.post(
        "/voice/send/",
        {**FORM, "action": "synthesize", "text": "Добрый день! Проверка."},
    )
    audio = AudioFile.objects.get(account=user.account, source="tts")
    assert audio.text == "Добрый день! Проверка." and audio.duration_ms > 500
    assert f"/voice/audio/{audio.pk}.wav" in resp.content.decode()
    settings.VOICE_TTS_MAX_CHARS = 10
    resp = page.post(
        "/voice/send/",
        {**FORM, "action": "synthesize", "text": "Слишком длинный текст"},
    )
    assert "длиннее 10 символов" in resp.content.decode()
    assert AudioFile.objects.count() == 1


def test_a_menu_pointing_at_an_internal_address_is_refused(page, approved, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    resp = page.post(
        "/voice/send/",
        {
            **FORM,
            "action": "send",
            "audio_id": approved.pk,
            "ivr": "on",
            "ivr_2": "url",
            "ivr_2_url": "http://127.0.0.1:8000/admin/",
        },
    )
    assert "внутренней сети" in resp.content.decode()
    assert not Campaign.objects.exists()


def test_send_then_the_report_shows_success_listening_and_duration(
    page, user, approved
):
    est = page.post("/voice/send/estimate/", {**FORM, "audio_id": approved.pk})
    html = est.content.decode()
    assert "Удерживается" in html
    token = re.search(r'name="quote_token" value="([^"]+)"', html).group(1)
    resp = page.post(
        "/voice/send/",
        {
            **FORM,
            "action": "send",
            "audio_id": approved.pk,
            "quote_token": token,
            "tags": "акция",
            "ivr": "on",
            "ivr_1": "repeat",
        },
    )
    campaign = Campaign.objects.get(channel="voice")
    assert resp.status_code == 302 and resp.url == f"/reports/campaigns/{campaign.pk}/"
    assert campaign.tags == ["акция"]
    assert campaign.content["ivr"] == {"1": {"action": "repeat"}}
    detail = page.get(resp.url).content.decode()
    for abbr in ("Усп", "IVR", "От", "Н", "М", "Отм", "Отпр", "Отл"):
        assert f">{abbr}</abbr>" in detail
    assert "Средний процент прослушивания звонка" in detail
    assert "% от продолжительности записи" in detail
    breakdown = page.get(
        f"/reports/campaigns/{campaign.pk}/breakdown/"
    ).content.decode()
    assert "До 20 сек" in breakdown
    messages = page.get(f"/reports/campaigns/{campaign.pk}/messages/").content.decode()
    assert "Успешный вызов" in messages and "100%" in messages
    assert Message.objects.filter(campaign=campaign, status=S.SUCCESS).count() == 2
    # Repeat: the form comes back with the audio, the menu and the numbers.
    again = page.get(f"/voice/send/?repeat={campaign.pk}").content.decode()
    assert f'name="audio_id" value="{approved.pk}"' in again
    assert "+79161234567" in again


def test_send_without_audio_or_recipients_says_what_is_missing(page):
    resp = page.post("/voice/send/", {**FORM, "phones": "", "action": "send"})
    html = resp.content.decode()
    assert "Загрузите аудиофайл или озвучьте текст" in html
    assert "Добавьте получателей" in html
    assert not Campaign.objects.exists()


def test_another_accounts_audio_is_not_found(page, other_user, tmp_path, client):
    from voice import services

    foreign = services.audio_synthesize(
        account=other_user.account, text="Чужая запись", voice="espeak:ru"
    )
    assert page.get(f"/voice/audio/{foreign.pk}.wav").status_code == 404
    resp = page.post("/voice/send/", {**FORM, "action": "send", "audio_id": foreign.pk})
    assert not Campaign.objects.exists()
    assert resp.status_code == 200


def test_staff_listen_to_audio_in_the_admin(client, staff, speech):
    client.force_login(staff)
    page = client.get(f"/admin/voice/audiofile/{speech.pk}/change/").content.decode()
    assert f"/voice/audio/{speech.pk}.wav" in page
    assert client.get(f"/voice/audio/{speech.pk}.wav").status_code == 200


def test_numbers_and_tariffs_pages(page):
    numbers = page.get("/voice/numbers/").content.decode()
    assert "Случайный федеральный номер" in numbers and "+7495" in numbers
    assert "Свои номера" in numbers
    tariffs = page.get("/voice/tariffs/").content.decode()
    assert "Звонок от федерального номера" in tariffs
    # Manual 4.5: the first 20 seconds at their own price (1.10 from an own
    # number and from a federal one), then per second (0.09 / 0.06).
    row = re.search(r"<tbody><tr>(.*?)</tr>", tariffs).group(1)
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", row)
    assert [c.replace("&nbsp;", " ") for c in cells[1:5]] == [
        "1,10 ₽",
        "0,09 ₽",
        "1,10 ₽",
        "0,06 ₽",
    ]
    assert page.get("/voice/reports/").url == "/reports/voice/"


def test_moderation_decision_notifies_the_client(user, speech, staff):
    decide(item=speech, approve=False, reason_text="Плохое качество", staff_user=staff)
    from cabinet.models import Notification

    note = Notification.objects.get(account=user.account)
    assert "отклонена" in note.title and "Плохое качество" in note.body
    assert Account.objects.get(pk=user.account_id).balance == Decimal("1000")


def test_voice_campaigns_export_and_export_recipients(page, user, approved):
    from voice import services

    campaign = services.voice_launch(
        account=user.account,
        content=services.content_of(audio_id=approved.pk),
        phones=["+79161234567", "+79160000000"],
    )
    export = page.get(f"/reports/campaigns/{campaign.pk}/messages/export/")
    assert export.status_code == 200
    assert export["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml"
    )
    assert b"".join(export.streaming_content)[:2] == b"PK"
    listing = page.get("/reports/voice/export/")
    assert listing.status_code == 200
    assert b"".join(listing.streaming_content)[:2] == b"PK"
    # «Выгрузить абонентов»: the answered call is «delivered», the missed one not.
    resp = page.post(
        f"/reports/campaigns/{campaign.pk}/recipients/",
        {
            "which": "delivered",
            "target": "group",
            "group_mode": "new",
            "new_group_name": "Ответили",
        },
    )
    assert resp.status_code in (200, 302), resp.context["form"].errors
    from contacts.models import Contact

    assert list(
        Contact.objects.filter(group__name="Ответили").values_list("phone", flat=True)
    ) == ["+79161234567"]


def test_the_voice_pages_in_english(page):
    page.post("/i18n/setlang/", {"language": "en", "next": "/"})
    html = page.get("/voice/send/").content.decode()
    assert "Speak the text" in html and "Text to speak" in html
    assert "Озвучить текст" not in html
    assert "Call from a federal number" in page.get("/voice/tariffs/").content.decode()
