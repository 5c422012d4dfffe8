"""Printable documents: the invoice and the reconciliation act as PDF (fpdf2
with the vendored DejaVu fonts, so Cyrillic renders on any machine), the act
and the money movement as .xlsx (openpyxl, write-only)."""

import io
import logging
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from fpdf import FPDF
from openpyxl import Workbook

from cabinet.spreadsheets import xlsx_text
from cabinet.xlsx import stream_xlsx

FONTS = Path(__file__).resolve().parent / "fonts"
# fontTools logs every glyph of every subset at INFO.
logging.getLogger("fontTools").setLevel(logging.WARNING)

_UNITS = [
    "",
    "один",
    "два",
    "три",
    "четыре",
    "пять",
    "шесть",
    "семь",
    "восемь",
    "девять",
]
_UNITS_F = [
    "",
    "одна",
    "две",
    "три",
    "четыре",
    "пять",
    "шесть",
    "семь",
    "восемь",
    "девять",
]
_TEENS = [
    "десять",
    "одиннадцать",
    "двенадцать",
    "тринадцать",
    "четырнадцать",
    "пятнадцать",
    "шестнадцать",
    "семнадцать",
    "восемнадцать",
    "девятнадцать",
]
_TENS = [
    "",
    "",
    "двадцать",
    "тридцать",
    "сорок",
    "пятьдесят",
    "шестьдесят",
    "семьдесят",
    "восемьдесят",
    "девяносто",
]
_HUNDREDS = [
    "",
    "сто",
    "двести",
    "триста",
    "четыреста",
    "пятьсот",
    "шестьсот",
    "семьсот",
    "восемьсот",
    "девятьсот",
]


def _plural(n: int, forms: tuple[str, str, str]) -> str:
    n = abs(n) % 100
    if 10 < n < 20:
        return forms[2]
    n %= 10
    return forms[0] if n == 1 else forms[1] if 2 <= n <= 4 else forms[2]


def _triad(n: int, feminine: bool) -> list[str]:
    words = [_HUNDREDS[n // 100]]
    rest = n % 100
    if 10 <= rest < 20:
        words.append(_TEENS[rest - 10])
    else:
        words.append(_TENS[rest // 10])
        words.append((_UNITS_F if feminine else _UNITS)[rest % 10])
    return [w for w in words if w]


def amount_in_words(amount: Decimal) -> str:
    """1234.50 → "Одна тысяча двести тридцать четыре рубля 50 копеек"."""
    amount = Decimal(amount).quantize(Decimal("0.01"))
    rub = int(amount)
    kop = int((amount - rub) * 100)
    scales = [
        (("", "", ""), False),
        (("тысяча", "тысячи", "тысяч"), True),
        (("миллион", "миллиона", "миллионов"), False),
        (("миллиард", "миллиарда", "миллиардов"), False),
    ]
    words: list[str] = []
    n, i = rub, 0
    while n and i < len(scales):
        triad = n % 1000
        if triad:
            forms, fem = scales[i]
            part = _triad(triad, fem)
            if i:
                part.append(_plural(triad, forms))
            words = part + words
        n //= 1000
        i += 1
    text = " ".join(words) or "ноль"
    text = text[0].upper() + text[1:]
    return (
        f"{text} {_plural(rub, ('рубль', 'рубля', 'рублей'))} {kop:02d} "
        f"{_plural(kop, ('копейка', 'копейки', 'копеек'))}"
    )


def money(value: Decimal) -> str:
    q = Decimal(value).quantize(Decimal("0.01"))
    sign = "-" if q < 0 else ""
    whole, frac = f"{abs(q):.2f}".split(".")
    groups = []
    while whole:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    return f"{sign}{' '.join(groups)},{frac}"


class _Pdf(FPDF):
    def __init__(self):
        super().__init__(orientation="P", unit="mm", format="A4")
        self.add_font("DejaVu", "", str(FONTS / "DejaVuSans.ttf"))
        self.add_font("DejaVu", "B", str(FONTS / "DejaVuSans-Bold.ttf"))
        self.set_auto_page_break(True, margin=15)
        self.set_margins(15, 15, 15)
        self.add_page()
        self.set_font("DejaVu", size=10)

    def multi_cell(self, *args, **kwargs):
        kwargs.setdefault("align", "L")  # justified text spreads words apart
        return super().multi_cell(*args, **kwargs)

    def row(self, cells, widths, *, bold=False, height=7, aligns=None):
        self.set_font("DejaVu", "B" if bold else "", 9)
        aligns = aligns or ["L"] * len(cells)
        for text, width, align in zip(cells, widths, aligns, strict=True):
            self.cell(width, height, str(text), border=1, align=align)
        self.ln(height)
        self.set_font("DejaVu", size=10)


def invoice_pdf(invoice) -> bytes:
    s = settings.BILLING_SUPPLIER
    payer = invoice.payer or {}
    pdf = _Pdf()
    pdf.set_title(f"Счёт № {invoice.number}")
    # Bank block, as on Russian invoices.
    pdf.set_font("DejaVu", size=9)
    w = (100, 20, 60)
    pdf.row([s["bank_name"], "БИК", s["bic"]], w)
    pdf.row(["Банк получателя", "Сч. №", s["correspondent_account"]], w)
    pdf.row([f"ИНН {s['inn']}   КПП {s['kpp']}", "Сч. №", s["settlement_account"]], w)
    pdf.row([s["organisation"], "", ""], w)
    pdf.ln(4)
    pdf.set_font("DejaVu", "B", 14)
    date = timezone.localtime(invoice.created_at)
    pdf.cell(
        0,
        10,
        f"Счёт на оплату № {invoice.number} от {date:%d.%m.%Y}",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_font("DejaVu", size=10)
    pdf.multi_cell(
        0,
        6,
        f"Поставщик: {s['organisation']}, ИНН {s['inn']}, КПП {s['kpp']}, "
        f"{s['address']}",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    kpp = f", КПП {payer['kpp']}" if payer.get("kpp") else ""
    pdf.multi_cell(
        0,
        6,
        f"Покупатель: {payer.get('organisation', '')}, ИНН "
        f"{payer.get('inn', '')}{kpp}, {payer.get('legal_address', '')}",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(3)
    widths = (10, 100, 20, 15, 35)
    pdf.row(
        ["№", "Товары (работы, услуги)", "Кол-во", "Ед.", "Сумма, ₽"],
        widths,
        bold=True,
        aligns=["C", "L", "C", "C", "R"],
    )
    pdf.row(
        [
            "1",
            "Оплата услуг рассылки сообщений (аванс)",
            "1",
            "усл.",
            money(invoice.amount),
        ],
        widths,
        aligns=["C", "L", "C", "C", "R"],
    )
    pdf.ln(2)
    pdf.set_font("DejaVu", "B", 10)
    pdf.cell(
        0,
        6,
        f"Итого: {money(invoice.amount)} ₽",
        align="R",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.cell(0, 6, "Без налога (НДС)", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", size=10)
    pdf.ln(2)
    pdf.multi_cell(
        0,
        6,
        f"Всего к оплате: {amount_in_words(invoice.amount)}",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.multi_cell(
        0,
        6,
        f"В назначении платежа укажите: «Оплата по счёту № {invoice.number}». "
        "Деньги зачисляются на баланс личного кабинета после поступления на "
        "расчётный счёт.",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(8)
    pdf.cell(
        0,
        6,
        f"Руководитель ____________ {s['director']}",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    return bytes(pdf.output())


def act_pdf(act) -> bytes:
    s = settings.BILLING_SUPPLIER
    client = act.requisites.get("organisation") or "Клиент"
    pdf = _Pdf()
    pdf.set_title("Акт сверки")
    pdf.set_font("DejaVu", "B", 13)
    pdf.multi_cell(
        0, 7, "Акт сверки взаимных расчётов", align="C", new_x="LMARGIN", new_y="NEXT"
    )
    pdf.set_font("DejaVu", size=10)
    pdf.multi_cell(
        0,
        6,
        f"за период с {act.date_from:%d.%m.%Y} по {act.date_to:%d.%m.%Y} "
        f"между {s['organisation']} и {client}",
        align="C",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(3)
    widths = (25, 95, 30, 30)
    aligns = ["C", "L", "R", "R"]
    pdf.row(
        ["Дата", "Документ", "Дебет, ₽", "Кредит, ₽"], widths, bold=True, aligns=aligns
    )
    pdf.row(
        ["", "Сальдо начальное", "", money(act.opening)],
        widths,
        bold=True,
        aligns=aligns,
    )
    for r in act.rows:
        debit = money(-r["amount"]) if r["amount"] < 0 else ""
        credit = money(r["amount"]) if r["amount"] > 0 else ""
        desc = r["description"]
        if pdf.get_string_width(desc) > widths[1] - 2:
            while pdf.get_string_width(desc + "…") > widths[1] - 2:
                desc = desc[:-1]
            desc += "…"
        pdf.row([f"{r['date']:%d.%m.%Y}", desc, debit, credit], widths, aligns=aligns)
    pdf.row(
        ["", "Обороты за период", money(act.debit_total), money(act.credit_total)],
        widths,
        bold=True,
        aligns=aligns,
    )
    pdf.row(
        ["", "Сальдо конечное", "", money(act.closing)],
        widths,
        bold=True,
        aligns=aligns,
    )
    pdf.ln(4)
    state = "в пользу клиента (аванс)" if act.closing >= 0 else "задолженность клиента"
    pdf.multi_cell(
        0,
        6,
        f"На {act.date_to:%d.%m.%Y} сальдо {money(abs(act.closing))} ₽ {state}.",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(8)
    pdf.cell(90, 6, f"От {s['organisation']}")
    pdf.cell(90, 6, f"От {client}", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(90, 6, "____________")
    pdf.cell(90, 6, "____________", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def act_xlsx(act) -> bytes:
    """The reconciliation act as .xlsx; its texts are text cells, never
    formulas (cabinet.spreadsheets.xlsx_text)."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Акт сверки")
    ws.append(
        [f"Акт сверки за период {act.date_from:%d.%m.%Y} — {act.date_to:%d.%m.%Y}"]
    )
    ws.append(["Дата", "Документ", "Дебет", "Кредит"])
    ws.append(["", "Сальдо начальное", None, act.opening])
    for r in act.rows:
        ws.append(
            [
                r["date"],
                xlsx_text(ws, r["description"]),
                -r["amount"] if r["amount"] < 0 else None,
                r["amount"] if r["amount"] > 0 else None,
            ]
        )
    ws.append(["", "Обороты за период", act.debit_total, act.credit_total])
    ws.append(["", "Сальдо конечное", None, act.closing])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def ledger_xlsx_stream(entries):
    """The entries (an iterable of LedgerEntry) as .xlsx bytes, produced while
    the rows are read (cabinet.xlsx's streaming writer: constant memory, tens of
    thousands of rows per second; openpyxl's write-only mode manages ~3,000)."""
    return stream_xlsx(
        title="Движение средств",
        header=["Дата", "Описание", "Тип", "Сумма, ₽", "Баланс после, ₽"],
        rows=(
            [e.created_at, e.reason, e.get_kind_display(), e.amount, e.balance_after]
            for e in entries
        ),
    )
