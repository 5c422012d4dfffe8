"""The name request's parts that are not the database: the groups' addresses
(checked to be VK / OK groups), the signed confirmation letter (a PDF, JPEG or
PNG, checked by its content, not its name) and the blank to sign, filled with
the account's requisites (fpdf2 with billing's DejaVu fonts, as invoices)."""

import io
import re
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from fpdf import FPDF
from PIL import Image, UnidentifiedImageError

from billing.documents import FONTS


class InvalidRequest(ValueError):
    """``message`` is for the user; ``field`` names the form field."""

    def __init__(self, message: str, *, field: str = ""):
        super().__init__(message)
        self.message = message
        self.field = field


# --- groups --------------------------------------------------------------------------

VK_HOSTS = {"vk.com", "www.vk.com", "m.vk.com", "vk.ru", "www.vk.ru", "m.vk.ru"}
OK_HOSTS = {"ok.ru", "www.ok.ru", "m.ok.ru", "odnoklassniki.ru", "www.odnoklassniki.ru"}
VK_NAME = re.compile(r"^(?:club|public|event)\d{1,12}$|^[A-Za-z][A-Za-z0-9_.]{1,31}$")
OK_NAME = re.compile(r"^group/\d{5,20}$|^group\d{5,20}$|^[A-Za-z][A-Za-z0-9_.]{1,49}$")
# VK's own pages, never a group.
VK_RESERVED = {"feed", "im", "friends", "groups", "search", "settings", "id", "login"}


def _split(raw: str, field: str, site: str) -> tuple[str, str]:
    raw = (raw or "").strip()
    if len(raw) > 200:
        raise InvalidRequest(_("Адрес группы слишком длинный."), field=field)
    if "://" not in raw:
        raw = "https://" + raw
    try:
        parts = urlsplit(raw)
        host = (parts.hostname or "").lower()
    except ValueError:
        raise InvalidRequest(
            _("Укажите адрес группы на %(site)s.") % {"site": site}, field=field
        ) from None
    if parts.scheme not in ("http", "https"):
        raise InvalidRequest(
            _("Укажите адрес группы на %(site)s.") % {"site": site}, field=field
        )
    return host, parts.path.strip("/")


def vk_group(raw: str) -> str:
    """«vk.com/<группа>» from what the user typed; ``InvalidRequest`` for an
    address elsewhere or not a group's."""
    host, path = _split(raw, "vk_group", "vk.com")
    if host not in VK_HOSTS:
        raise InvalidRequest(
            _("Группа VK должна быть на vk.com: например, https://vk.com/myshop."),
            field="vk_group",
        )
    if not VK_NAME.match(path) or path.lower() in VK_RESERVED:
        raise InvalidRequest(
            _("Это не адрес группы VK: укажите ссылку вида https://vk.com/myshop."),
            field="vk_group",
        )
    return f"vk.com/{path}"


def ok_group(raw: str) -> str:
    host, path = _split(raw, "ok_group", "ok.ru")
    if host not in OK_HOSTS:
        raise InvalidRequest(
            _(
                "Группа ОК должна быть на ok.ru: например, https://ok.ru/group/12345678."
            ),
            field="ok_group",
        )
    if not OK_NAME.match(path):
        raise InvalidRequest(
            _(
                "Это не адрес группы ОК: укажите ссылку вида "
                "https://ok.ru/group/12345678 или https://ok.ru/myshop."
            ),
            field="ok_group",
        )
    return f"ok.ru/{path}"


# --- the letter ---------------------------------------------------------------------

KINDS = {"pdf": "application/pdf", "jpg": "image/jpeg", "png": "image/png"}


def max_letter_bytes() -> int:
    return int(getattr(settings, "SOCIAL_LETTER_MAX_BYTES", 5 * 2**20))


def letter_check(upload) -> str:
    """The letter's kind (``pdf``, ``jpg``, ``png``) read from its content;
    ``InvalidRequest`` for anything else or a file over the limit."""
    limit = max_letter_bytes()
    if upload is None:
        raise InvalidRequest(
            _("Загрузите подписанное подтверждающее письмо."), field="letter"
        )
    if upload.size > limit:
        raise InvalidRequest(
            _("Файл больше %(mb)s МБ: уменьшите его или сохраните в PDF.")
            % {"mb": limit // 2**20 or 1},
            field="letter",
        )
    if upload.size == 0:
        raise InvalidRequest(_("Файл пустой."), field="letter")
    upload.seek(0)
    head = upload.read(8)
    upload.seek(0)
    if head.startswith(b"%PDF-"):
        data = upload.read()
        upload.seek(0)
        if b"%%EOF" not in data[-2048:]:
            raise InvalidRequest(
                _("PDF-файл повреждён: сохраните письмо ещё раз."), field="letter"
            )
        return "pdf"
    if head.startswith(b"\xff\xd8\xff") or head.startswith(b"\x89PNG\r\n\x1a\n"):
        try:
            with Image.open(upload) as image:
                fmt = image.format
                image.verify()
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
            raise InvalidRequest(
                _("Изображение повреждено: отсканируйте письмо ещё раз."),
                field="letter",
            ) from None
        finally:
            upload.seek(0)
        if fmt == "JPEG":
            return "jpg"
        if fmt == "PNG":
            return "png"
    raise InvalidRequest(
        _("Письмо должно быть файлом PDF, JPG или PNG."), field="letter"
    )


def blank_pdf(*, account, requisites: dict | None) -> bytes:
    """The confirmation letter to print, sign and upload, with the account's
    requisites (blanks to fill by hand where it has none)."""
    r = requisites or {}
    line = "_" * 40
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.add_font("DejaVu", "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    pdf.set_margins(20, 20, 20)
    pdf.add_page()
    pdf.set_title("Подтверждающее письмо")
    pdf.set_font("DejaVu", "B", 13)
    pdf.cell(0, 10, "Подтверждающее письмо", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", size=10)
    pdf.ln(4)
    rows = [
        ("Организация", r.get("organisation") or account.name or line),
        ("ИНН", r.get("inn") or line),
        ("КПП", r.get("kpp") or line),
        ("ОГРН/ОГРНИП", r.get("ogrn") or line),
        ("Юридический адрес", r.get("legal_address") or line),
        ("Руководитель", r.get("director") or line),
        ("Аккаунт в сервисе", f"№ {account.pk}"),
    ]
    for label, value in rows:
        pdf.set_font("DejaVu", "B", 10)
        pdf.cell(50, 7, label)
        pdf.set_font("DejaVu", size=10)
        pdf.multi_cell(0, 7, str(value), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    text = (
        "Настоящим подтверждаем, что сообщества ВКонтакте и Одноклассники, "
        "указанные ниже, принадлежат нашей организации, и просим разрешить "
        "отправку сообщений от их имени абонентам по номерам телефонов. "
        "Согласия получателей на получение сообщений у нас имеются."
    )
    pdf.multi_cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.cell(0, 8, f"Группа VK: {line}", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 8, f"Группа ОК: {line}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(10)
    today = timezone.localdate().strftime("%d.%m.%Y")
    pdf.cell(0, 8, f"Дата: {today}", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(
        0,
        8,
        f"Руководитель: {r.get('director') or ''} ____________ (подпись)   М. П.",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    out = io.BytesIO()
    pdf.output(out)
    return out.getvalue()
