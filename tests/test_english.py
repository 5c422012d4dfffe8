"""The English catalogue (locale/en): a user who picks "EN" in the header gets
an English cabinet, and the committed catalogue is complete and compiled."""

import gettext
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

EN_DIR = Path(settings.BASE_DIR) / "locale" / "en" / "LC_MESSAGES"
PO_PATH = EN_DIR / "django.po"
MO_PATH = EN_DIR / "django.mo"

CYRILLIC = re.compile(r"[а-яА-ЯёЁ]")

# --- a tiny .po reader (the project does not depend on polib) ---------------

_KEYWORD = re.compile(r'^(msgctxt|msgid|msgid_plural|msgstr(?:\[(\d+)\])?)\s+"(.*)"$')
_CONTINUATION = re.compile(r'^"(.*)"$')
_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\", "r": "\r"}


def _unescape(s: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(0)), s)


def read_po(path: Path) -> list[dict]:
    """Entries as dicts: flags (set), msgctxt, msgid, msgid_plural, msgstr
    ({index: text}; a singular entry has index 0). Obsolete entries (#~) are
    skipped; the header (empty msgid) is included."""
    entries: list[dict] = []
    current: dict | None = None
    field: tuple | None = None

    def new():
        return {
            "flags": set(),
            "msgctxt": None,
            "msgid": None,
            "msgid_plural": None,
            "msgstr": {},
        }

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line:
            if current and current["msgid"] is not None:
                entries.append(current)
            current, field = None, None
            continue
        if line.startswith("#~"):
            continue
        if current is None:
            current = new()
        if line.startswith("#,"):
            current["flags"].update(f.strip() for f in line[2:].split(","))
            continue
        if line.startswith("#"):
            continue
        m = _KEYWORD.match(line)
        if m:
            keyword, index, text = m.groups()
            if keyword == "msgctxt" and current["msgid"] is not None:
                entries.append(current)
                current = new()
            if keyword.startswith("msgstr"):
                field = ("msgstr", int(index or 0))
                current["msgstr"][field[1]] = _unescape(text)
            else:
                field = (keyword,)
                current[keyword] = _unescape(text)
            continue
        m = _CONTINUATION.match(line)
        assert m and field, f"unparsable line in {path.name}: {raw!r}"
        if field[0] == "msgstr":
            current["msgstr"][field[1]] += _unescape(m.group(1))
        else:
            current[field[0]] += _unescape(m.group(1))
    if current and current["msgid"] is not None:
        entries.append(current)
    return entries


@pytest.fixture(scope="module")
def po_entries():
    assert PO_PATH.exists(), "run makemessages -l en"
    return read_po(PO_PATH)


def _messages(entries):
    return [e for e in entries if e["msgid"]]


# --- the catalogue ------------------------------------------------------------


def test_catalogue_is_large_and_parsed(po_entries):
    assert len(_messages(po_entries)) > 1000


def test_no_untranslated_or_fuzzy_entries(po_entries):
    fuzzy = [e["msgid"] for e in po_entries if "fuzzy" in e["flags"]]
    assert not fuzzy, f"fuzzy entries: {fuzzy[:10]}"
    untranslated = []
    for e in _messages(po_entries):
        expected = 2 if e["msgid_plural"] is not None else 1
        forms = [e["msgstr"].get(i, "") for i in range(expected)]
        if not all(form.strip() for form in forms):
            untranslated.append(e["msgid"])
    assert not untranslated, f"{len(untranslated)} untranslated: {untranslated[:10]}"


def test_translations_are_english_and_keep_placeholders(po_entries):
    placeholder = re.compile(r"%\(\w+\)[sdif]|%[sdif%]")
    problems = []
    for e in _messages(po_entries):
        sources = [e["msgid"], e["msgid_plural"] or e["msgid"]]
        for i, text in sorted(e["msgstr"].items()):
            source = sources[min(i, 1)]
            if sorted(placeholder.findall(text)) != sorted(placeholder.findall(source)):
                problems.append(("placeholders", source, text))
            # Only the language name "Русский" stays Cyrillic in English.
            if CYRILLIC.search(text) and e["msgid"] != "Русский":
                problems.append(("cyrillic", source, text))
    assert not problems, problems[:10]


def test_committed_mo_matches_po(po_entries):
    """CI does not compile messages: the .mo in the repository must be the
    compilation of the .po next to it."""
    assert MO_PATH.exists(), "run compilemessages -l en"
    with MO_PATH.open("rb") as fp:
        catalog = gettext.GNUTranslations(fp)
    stale = []
    for e in _messages(po_entries):
        if e["msgid_plural"] is not None:
            for n, i in ((1, 0), (2, 1)):
                got = (
                    catalog.npgettext(e["msgctxt"], e["msgid"], e["msgid_plural"], n)
                    if e["msgctxt"]
                    else catalog.ngettext(e["msgid"], e["msgid_plural"], n)
                )
                if got != e["msgstr"][i]:
                    stale.append(e["msgid"])
        else:
            got = (
                catalog.pgettext(e["msgctxt"], e["msgid"])
                if e["msgctxt"]
                else catalog.gettext(e["msgid"])
            )
            if got != e["msgstr"][0]:
                stale.append(e["msgid"])
    assert not stale, f"django.mo is stale ({len(stale)}): {stale[:5]}"


# --- the cabinet in English ---------------------------------------------------


def test_cabinet_is_russian_by_default(client, user):
    client.force_login(user)
    page = client.get(reverse("cabinet:dashboard")).content.decode()
    assert "Рассылка СМС" in page
    assert "SMS campaigns" not in page


def test_dashboard_menu_in_english_after_choosing_en(client, user):
    client.force_login(user)
    resp = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert resp.status_code == 302
    page = client.get(reverse("cabinet:dashboard")).content.decode()
    assert 'lang="en"' in page
    for label in (
        "SMS campaigns",
        "Send message",
        "Sender names",
        "Stop list",
        "Contacts",
        "Reports",
        "Finance",
        "Settings",
        "Log out",
    ):
        assert label in page, label
    for russian in (
        "Рассылка СМС",
        "Отправить сообщение",
        "Имена отправителя",
        "Стоп-лист",
        "Выход",
    ):
        assert russian not in page, russian


def test_english_pages_have_no_russian_ui_text(client, user):
    client.force_login(user)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    for path in ("/", "/contacts/", "/reports/"):
        resp = client.get(path, follow=True)
        assert resp.status_code == 200, path
        html = re.sub(
            r"<(script|style)\b.*?</\1>", "", resp.content.decode(), flags=re.S
        )
        texts = [t.strip() for t in re.findall(r">([^<]+)<", html)]
        russian = [t for t in texts if CYRILLIC.search(t)]
        assert not russian, (path, russian[:10])
