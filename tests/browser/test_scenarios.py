"""Scenarios in a browser: build Viber → SMS by dragging channels from the
palette onto the chain, fill both blocks, save, launch to a group with the
cost shown first, and read the run's per-step report and the money saved."""

import importlib
import re

import pytest
from playwright.sync_api import expect

from contacts.models import Contact, Group
from messaging import registry
from scenarios.models import Hop, Run, Scenario
from tests.browser.helpers import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Delivered on Viber (the fake carrier's fixed patterns); the last one is not a
# Viber user and gets the SMS.
VIBER_USERS = [
    f"+7916{i:03d}{tail}" for i in range(3) for tail in ("3333", "4444", "5555")
]
NOT_VIBER = "+79161230005"


@pytest.fixture(autouse=True)
def _tariffs_and_viber(transactional_db, settings):
    from django.apps import apps

    importlib.import_module("viber.migrations.0002_default_tariffs").seed(apps, None)
    settings.MESSAGING_GATEWAYS = {
        **settings.MESSAGING_GATEWAYS,
        "viber": {
            **settings.MESSAGING_GATEWAYS["viber"],
            "OPTIONS": {
                "mode": "instant",
                "receipt_delay_seconds": 0,
                "rates": {"not_viber_user": 1.0},
            },
        },
    }
    registry.reset_gateways()


def shot(page, name):
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(
            path=f"var/screenshot-scenarios-{name}-{width}.png", full_page=True
        )
    page.set_viewport_size({"width": 1280, "height": 1800})


def drag(page, source, target):
    """A real pointer drag (SortableJS listens to pointer and drag events)."""
    source.scroll_into_view_if_needed()
    box = source.bounding_box()
    page.mouse.move(box["x"] + 12, box["y"] + box["height"] / 2)
    page.mouse.down()
    tbox = target.bounding_box()
    page.mouse.move(tbox["x"] + 40, tbox["y"] + tbox["height"] - 10, steps=12)
    page.mouse.move(tbox["x"] + 42, tbox["y"] + tbox["height"] - 8, steps=4)
    page.mouse.up()


def test_build_viber_then_sms_by_drag_and_drop_launch_and_see_money_saved(
    page, make_user
):
    user = make_user("owner@example.com")
    group = Group.objects.create(account=user.account, name="Покупатели")
    for phone in [*VIBER_USERS, NOT_VIBER]:
        Contact.objects.create(
            account=user.account, group=group, phone=phone, country="RU"
        )

    # Tall enough for the palette and the whole chain to be on screen while
    # dragging.
    page.set_viewport_size({"width": 1280, "height": 1800})
    sign_in(page)
    page.goto("/scenarios/new/")
    assert page.get_by_text("Использовать готовый шаблон").is_visible()
    assert page.locator("#scenario-templates").get_by_text("Viber → SMS").is_visible()
    page.get_by_role("link", name="Создать свой сценарий").click()
    page.wait_for_url(re.compile(r"/scenarios/new/build/"))
    chain = page.locator("#scenario-chain")
    drag(page, page.locator('#scenario-palette [data-channel="viber"]'), chain)
    page.wait_for_selector('#scenario-chain .scenario-block[data-channel="viber"]')
    drag(page, page.locator('#scenario-palette [data-channel="sms"]'), chain)
    page.wait_for_selector('#scenario-chain .scenario-block[data-channel="sms"]')
    blocks = chain.locator(".scenario-block")
    assert blocks.count() == 2
    # Without a mouse: «Добавить» appends a block, «Выше» moves it up, and
    # «Копировать блок» / «Удалить блок» work on it.
    page.locator('#scenario-palette [data-add="callpassword"]').focus()
    page.keyboard.press("Enter")
    assert blocks.count() == 3
    assert blocks.nth(2).get_attribute("data-channel") == "callpassword"
    blocks.nth(2).locator('[data-move="up"]').focus()
    page.keyboard.press("Enter")
    assert [blocks.nth(i).get_attribute("data-channel") for i in range(3)] == [
        "viber",
        "callpassword",
        "sms",
    ]
    assert blocks.nth(1).locator(".block-number").inner_text().startswith("2.")
    blocks.nth(1).locator("[data-copy]").click()
    assert blocks.count() == 4
    for _ in range(2):
        blocks.nth(1).locator("[data-remove]").click()
    assert [blocks.nth(i).get_attribute("data-channel") for i in range(2)] == [
        "viber",
        "sms",
    ]
    assert blocks.nth(0).get_attribute("data-channel") == "viber"
    page.locator("#scenario-name").fill("Акция: Viber, потом SMS")
    blocks.nth(0).locator(".f-text").fill("Скидка 20% до воскресенья")
    blocks.nth(1).locator(".f-text").fill("Скидка 20% до воскресенья")
    blocks.nth(0).locator(".f-decision").fill("5")
    shot(page, "builder")
    page.get_by_role("button", name="Сохранить").click()
    page.wait_for_selector("text=Сценарий сохранён.")
    scenario = Scenario.objects.get(account=user.account)
    assert [b["channel"] for b in scenario.steps] == ["viber", "sms"]
    assert scenario.steps[0]["decision"] == 300

    page.get_by_role("link", name="Запустить").first.click()
    # «Отправить позже» shows the date and time only when switched on.
    expect(page.locator("#id_send_date")).to_be_hidden()
    page.locator("#id_groups").select_option(str(group.pk))
    page.get_by_role("button", name="Рассчитать стоимость").click()
    estimate = page.locator("#scenario-estimate")
    assert "В худшем случае" in estimate.inner_text()
    assert "Только SMS" in estimate.inner_text()
    shot(page, "launch")
    page.get_by_role("button", name="Запустить").click()
    page.wait_for_url(re.compile(r"/scenarios/runs/\d+/"))
    run = Run.objects.get()
    # The run finishes in the request's wake (eager tasks, instant carriers).
    page.reload()
    steps = page.locator("#run-steps tbody tr")
    assert steps.count() == 2
    viber_row = steps.nth(0).locator("td").all_inner_texts()
    sms_row = steps.nth(1).locator("td").all_inner_texts()
    assert viber_row[1:4] == ["10", "9", "1"]  # sent, succeeded, moved on
    assert sms_row[1:3] == ["1", "1"]
    saved = page.locator("#run-saved").inner_text()
    assert re.search(r"\d", saved) and not saved.strip().startswith("-")
    assert Hop.objects.filter(run=run, step=1).count() == 1
    shot(page, "run")
