"""Russian plural forms: «Показано 1 запись», «2 записи», «5 записей», «21
запись» — not gettext's English rule («1 записей»).  The source language is
Russian, so locale/ru carries only the three forms of every plural message."""

import gettext
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.messages import get_messages
from django.utils import translation
from django.utils.translation import ngettext

from tests.test_english import PO_PATH as EN_PO
from tests.test_english import read_po

RU_DIR = Path(settings.BASE_DIR) / "locale" / "ru" / "LC_MESSAGES"
RU_PO = RU_DIR / "django.po"
RU_MO = RU_DIR / "django.mo"
PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|%[sdif%]")


def _plural_entries(path: Path) -> dict:
    return {
        (e["msgctxt"], e["msgid"]): e
        for e in read_po(path)
        if e["msgid"] and e["msgid_plural"] is not None
    }


def test_every_plural_message_has_its_three_russian_forms():
    ru = _plural_entries(RU_PO)
    missing, bad = [], []
    for key, entry in _plural_entries(EN_PO).items():
        if key not in ru:
            missing.append(key[1])
            continue
        forms = [ru[key]["msgstr"].get(i, "") for i in range(3)]
        if not all(f.strip() for f in forms):
            bad.append((key[1], "empty form"))
        for form in forms:
            if sorted(PLACEHOLDER.findall(form)) != sorted(
                PLACEHOLDER.findall(entry["msgid"])
            ):
                bad.append((key[1], form))
    assert not missing, f"add the Russian forms to {RU_PO}: {missing[:5]}"
    assert not bad, bad[:5]


def test_the_russian_catalogue_is_compiled():
    with RU_MO.open("rb") as fp:
        catalog = gettext.GNUTranslations(fp)
    for (context, msgid), entry in _plural_entries(RU_PO).items():
        for n, i in ((1, 0), (3, 1), (5, 2)):
            got = (
                catalog.npgettext(context, msgid, entry["msgid_plural"], n)
                if context
                else catalog.ngettext(msgid, entry["msgid_plural"], n)
            )
            assert got == entry["msgstr"][i], f"django.mo is stale: {msgid!r}"


@pytest.mark.parametrize(
    ("n", "word"),
    [
        (1, "запись"),
        (2, "записи"),
        (4, "записи"),
        (5, "записей"),
        (11, "записей"),
        (12, "записей"),
        (21, "запись"),
        (22, "записи"),
        (25, "записей"),
        (101, "запись"),
        (111, "записей"),
    ],
)
def test_russian_rules_pick_the_form(n, word):
    with translation.override("ru"):
        text = ngettext("Показано %(n)s запись", "Показано %(n)s записей", n)
    assert text % {"n": n} == f"Показано {n} {word}"


def test_english_keeps_its_two_forms():
    with translation.override("en"):
        assert ngettext("Показано %(n)s запись", "Показано %(n)s записей", 1) == (
            "Showing %(n)s record"
        )
        assert ngettext("Показано %(n)s запись", "Показано %(n)s записей", 2) == (
            "Showing %(n)s records"
        )


# --- on the pages --------------------------------------------------------------


def _send(user, phone):
    from messaging import services

    return services.campaign_launch(
        account=user.account, channel="sms", text="Скидка", phones=[phone]
    )


@pytest.mark.django_db
def test_report_and_group_pages_agree_with_their_numbers(user, client_for):
    from contacts.models import Contact, Group

    client = client_for(user)
    _send(user, "+79161234567")
    body = client.get("/reports/").content.decode()
    assert "Показано 1 запись из 1" in body
    _send(user, "+79161234568")
    body = client.get("/reports/").content.decode()
    assert "Показано 2 записи из 2" in body
    assert (
        "Показано 2 сообщения" in client.get("/reports/sms/messages/").content.decode()
    )

    group = Group.objects.create(account=user.account, name="Клиенты", size=1)
    Contact.objects.create(account=user.account, group=group, phone="+79161234567")
    body = client.get(f"/contacts/groups/{group.pk}/").content.decode()
    assert re.search(r'id="group-size">1</b><span>контакт</span>', body)


@pytest.mark.django_db
def test_exporting_one_recipient_says_one_number(user, client_for):
    campaign = _send(user, "+79161234567")
    response = client_for(user).post(
        f"/reports/campaigns/{campaign.pk}/recipients/",
        {
            "target": "group",
            "which": "delivered",
            "group_mode": "new",
            "new_group_name": "Доставлено",
        },
    )
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Абоненты выгружены в группу «Доставлено»: 1 номер."
    ]
