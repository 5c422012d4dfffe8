"""A voice campaign as a person makes it: the text spoken by the speech engine,
the result listened to in the page, sent, the audio approved by staff, then
«Усп» and the listening share in the report.  Screenshots of the voice pages
at 1280 and 390 px go to var/."""

import re

import pytest

from cabinet.models import User
from cabinet.moderation import decide
from voice.models import AudioFile

from .helpers import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def test_compose_from_text_listen_send_and_read_the_report(page, user):
    staff = User.objects.create_superuser(email="mod@example.com", password="x-123456")
    sign_in(page)
    page.goto("/voice/send/")
    page.get_by_label("Текст для озвучки").fill(
        "Здравствуйте! Приглашаем вас на распродажу в субботу. Ждём вас!"
    )
    page.get_by_role("button", name="Озвучить текст").click()
    player = page.locator("#audio-preview")
    player.wait_for()
    # The page plays what was synthesised: the browser decodes it and plays on.
    duration = page.evaluate(
        """() => new Promise((resolve, reject) => {
            const a = document.getElementById('audio-preview');
            const done = () => resolve(a.duration);
            if (a.readyState >= 1) done();
            else a.addEventListener('loadedmetadata', done);
            a.addEventListener('error', () => reject('audio error'));
        })"""
    )
    assert duration > 1
    page.evaluate(
        "() => { const a = document.getElementById('audio-preview');"
        " a.muted = true; return a.play(); }"
    )
    page.wait_for_function(
        "() => document.getElementById('audio-preview').currentTime > 0.2"
    )
    assert "На модерации" in page.locator("#audio-status").inner_text()

    page.get_by_label("Номера телефонов").fill("8 (916) 123-45-67")
    page.get_by_role("button", name="Рассчитать").click()
    page.locator("#estimate [data-total]").wait_for()
    page.screenshot(path="var/screenshot-voice-send-1280.png", full_page=True)
    page.get_by_role("button", name="Отправить сообщение").click()
    page.wait_for_url(re.compile(r"/reports/campaigns/\d+/$"))
    assert "модерации" in page.content()

    # Staff listen and approve the audio: the campaign goes out.
    audio = AudioFile.objects.get()
    decide(item=audio, approve=True, staff_user=staff)
    page.reload()
    success = page.locator('#campaign-row td a[title="Успешный вызов"]')
    assert success.inner_text() == "1"
    facts = page.locator(".channel-fact").inner_text()
    assert "100% от продолжительности записи" in facts
    assert "Средний процент прослушивания" in facts
    page.locator("#open-breakdown").click()
    page.locator("#breakdown").get_by_text("До 20 сек").wait_for()
    page.screenshot(path="var/screenshot-voice-report-1280.png", full_page=True)
    page.keyboard.press("Escape")
    page.get_by_role("link", name="Все сообщения").click()
    page.get_by_text("Успешный вызов").first.wait_for()
    assert "100%" in page.locator("tr[data-message]").first.inner_text()

    page.set_viewport_size({"width": 390, "height": 844})
    for path, name in (
        ("/voice/send/", "send"),
        ("/voice/tariffs/", "tariffs"),
        ("/voice/callpassword/", "callpassword"),
        ("/voice/numbers/", "numbers"),
    ):
        page.goto(path)
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 390, (path, width)
        page.screenshot(path=f"var/screenshot-voice-{name}-390.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    for path, name in (
        ("/voice/tariffs/", "tariffs"),
        ("/voice/callpassword/", "callpassword"),
    ):
        page.goto(path)
        page.screenshot(path=f"var/screenshot-voice-{name}-1280.png", full_page=True)
