"""Excel exports (R4, R6): rows are read in keyset chunks and streamed out as
an .xlsx (``cabinet.xlsx``) while they are read — memory stays flat and the
download starts at once, at a million rows as at ten."""

from collections.abc import Iterable, Iterator
from urllib.parse import quote

from django.db import connection
from django.http import StreamingHttpResponse
from django.utils import timezone

from cabinet.xlsx import XLSX_TYPE, stream_xlsx
from messaging import registry
from messaging.models import Campaign, MessageStatus

from . import selectors
from .filters import ReportFilters

CHUNK = 5000
XLSX = XLSX_TYPE
STATUS_LABELS = dict(MessageStatus.choices)


def xlsx_response(
    *, filename: str, title: str, header: list[str], rows: Iterable[list]
) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        stream_xlsx(title=title, header=header, rows=rows), content_type=XLSX
    )
    response["Content-Disposition"] = (
        f"attachment; filename=\"{filename}\"; filename*=UTF-8''{quote(filename)}"
    )
    response["Cache-Control"] = "no-store"
    return response


# --- campaign list ---


def campaign_rows(
    *, account_id: int, filters: ReportFilters, deferred: bool = False, kind=None
) -> tuple[list[str], Iterator[list]]:
    """Header and rows of the campaign list: the status columns of ``kind``,
    or, for all channels, every status that any channel reports."""
    columns = kind.columns if kind else _all_columns()
    header = [
        "ID",
        "Дата создания",
        "Время отправки",
        "Канал",
        "Способ отправки",
        "Отправитель",
        "Текст",
        "Описание",
        "Тэги",
        "Всего",
        *[f"{c.abbr} ({c.title})" for c in columns],
        "Стоимость, ₽",
    ]
    labels = {k.code: str(k.label) for k in registry.all_channels()}
    sources = dict(Campaign._meta.get_field("source").choices)

    def rows():
        cursor = ""
        while True:
            page = selectors.campaign_page(
                account_id=account_id,
                filters=filters,
                cursor=cursor,
                deferred=deferred,
                size=CHUNK,
                with_total=False,
            )
            for r in page.items:
                c = r.campaign
                yield [
                    c.pk,
                    c.created_at,
                    c.send_at,
                    labels.get(c.channel, c.channel),
                    str(sources.get(c.source, c.source)),
                    c.sender,
                    c.text,
                    c.description,
                    ", ".join(str(t) for t in c.tags or []),
                    r.total,
                    *[
                        sum(r.counters.get(s, 0) for s in col.statuses)
                        for col in columns
                    ],
                    c.cost,
                ]
            if not page.next_cursor:
                return
            cursor = page.next_cursor

    return header, rows()


def _all_columns():
    seen = {}
    for k in registry.all_channels():
        for c in k.columns:
            seen.setdefault(c.code, c)
    return tuple(seen.values())


# --- messages of a campaign ---

MESSAGE_HEADER = [
    "Дата отправки",
    "Дата создания",
    "Отправитель",
    "Сообщение",
    "Получатель",
    "Оператор",
    "Страна",
    "Статус",
    "Время статуса",
    "Причина",
    "Частей",
    "Стоимость, ₽",
]


EXPORT_FIELDS = (
    "id",
    "sent_at",
    "created_at",
    "sender",
    "text",
    "phone",
    "operator",
    "country",
    "status",
    "status_at",
    "reason",
    "parts",
    "price",
)


def _fetch(qs) -> list[tuple]:
    """The rows of ``qs`` (a ``values_list`` of ``EXPORT_FIELDS``).  On
    PostgreSQL the ORM's SQL runs on a plain cursor: psycopg already returns
    aware datetimes and Decimals, and skipping the ORM's per-row work reads
    ~2.3× faster (34,000 vs 15,000 rows/s on the 10 M bench)."""
    if connection.vendor != "postgresql":
        return list(qs)
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def message_rows(
    *, account_id: int, campaign_id: int, statuses: tuple = ()
) -> Iterator[list]:
    """Rows of the messages sheet, newest first, read in keyset chunks."""
    labels = {k: str(v) for k, v in STATUS_LABELS.items()}
    last = None
    while True:
        qs = selectors.campaign_messages(
            account_id=account_id, campaign_id=campaign_id, statuses=statuses
        )
        if last is not None:
            qs = qs.filter(id__lt=last)
        chunk = _fetch(qs.order_by("-id").values_list(*EXPORT_FIELDS)[:CHUNK])
        for (
            _id,
            sent_at,
            created_at,
            sender,
            text,
            phone,
            operator,
            country,
            status,
            status_at,
            reason,
            parts,
            price,
        ) in chunk:
            yield [
                sent_at,
                created_at,
                sender,
                text,
                phone,
                operator,
                country,
                labels.get(status, status),
                status_at,
                reason,
                parts,
                price,
            ]
        if len(chunk) < CHUNK:
            return
        last = chunk[-1][0]


def all_message_rows(*, account_id: int, filters: ReportFilters) -> Iterator[list]:
    """Rows of the "Все сообщения" tab with its filters: the campaign's id first,
    then the columns of a campaign's messages; read in keyset pages of the
    tab's own order (newest first)."""
    labels = {k: str(v) for k, v in STATUS_LABELS.items()}
    cursor = ""
    while True:
        page = selectors.messages_page(
            account_id=account_id, filters=filters, cursor=cursor, size=CHUNK
        )
        for m in page.items:
            yield [
                m.campaign_id,
                m.sent_at,
                m.created_at,
                m.sender,
                m.text,
                m.phone,
                m.operator,
                m.country,
                labels.get(m.status, m.status),
                m.status_at,
                m.reason,
                m.parts,
                m.price,
            ]
        if not page.next_cursor:
            return
        cursor = page.next_cursor


def messages_response(
    *, account_id: int, filters: ReportFilters, kind
) -> StreamingHttpResponse:
    return xlsx_response(
        filename=f"messages-{kind.code}-{timezone.localdate():%Y%m%d}.xlsx",
        title="Сообщения",
        header=["Рассылка", *MESSAGE_HEADER],
        rows=all_message_rows(account_id=account_id, filters=filters),
    )


def campaign_messages_response(
    *, account_id: int, campaign: Campaign, statuses: tuple = ()
) -> StreamingHttpResponse:
    return xlsx_response(
        filename=f"campaign-{campaign.pk}-messages.xlsx",
        title="Сообщения",
        header=MESSAGE_HEADER,
        rows=message_rows(
            account_id=account_id, campaign_id=campaign.pk, statuses=statuses
        ),
    )


def campaigns_response(
    *, account_id: int, filters: ReportFilters, kind=None, deferred: bool = False
) -> StreamingHttpResponse:
    header, rows = campaign_rows(
        account_id=account_id, filters=filters, kind=kind, deferred=deferred
    )
    name = (
        f"campaigns-{kind.code if kind else 'all'}-{timezone.localdate():%Y%m%d}.xlsx"
    )
    return xlsx_response(filename=name, title="Рассылки", header=header, rows=rows)


def recipients_response(
    *, account_id: int, campaign: Campaign, which: str
) -> StreamingHttpResponse:
    """R6 "Выгрузить в Excel": the campaign's delivered / not delivered numbers."""
    label = "Доставлено" if which == "delivered" else "Не доставлено"

    def rows():
        qs = selectors.recipient_phones(
            account_id=account_id, campaign_id=campaign.pk, which=which
        )
        for phone in qs.iterator(chunk_size=CHUNK):
            yield [phone, label]

    return xlsx_response(
        filename=f"campaign-{campaign.pk}-{which}.xlsx",
        title="Абоненты",
        header=["Номер телефона", "Статус"],
        rows=rows(),
    )
