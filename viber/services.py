"""Viber writes: own sender names and their prepaid monthly packages (manual
5.4), the carrier's callbacks (delivered, seen, clicked through our short
links, replied, unsubscribed, spam), replies and unsubscribes.

Campaigns themselves are launched by the core (``messaging.services``); this
module never prices or sends a message."""

from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from billing.models import LedgerKind
from billing.selectors import PriceList
from billing.services import InsufficientFunds, ledger_post
from cabinet.models import Account, Notification
from cabinet.services import notification_create
from contacts.services import unsubscribe_add
from messaging import links, senders
from messaging.gateways.base import Receipt
from messaging.models import STATUS_RANK, Campaign, CampaignLink, Message, SenderName
from messaging.models import MessageStatus as S
from messaging.signals import replies_received
from messaging.statuses import receipts_apply

from .models import Reply, SenderPackage
from .periods import month_end, next_month_start, today

CHANNEL = "viber"
PACKAGE_VARIANT = "own:package"
# The manual's price of an own name's monthly package; staff change it with a
# tariff row (channel viber, variant own:package, Russia).
DEFAULT_PACKAGE_PRICE = Decimal("35000")
SENDERS_URL = "/viber/senders/"


class PackageError(ValueError):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _d(day: date) -> str:
    return date_format(day, "d.m.Y")


# --- own sender names and packages (5.4) ----------------------------------------


def package_price(*, account) -> Decimal:
    """The monthly package of an own name, from the tariff (tier of the
    account like every price)."""
    table = PriceList(account=account, channel=CHANNEL, variant=PACKAGE_VARIANT).table()
    return table.get(("RU", ""), DEFAULT_PACKAGE_PRICE)


def sender_name_request(*, account, name: str, start: str) -> SenderName:
    """An own name goes to staff; its first package (from approval to the end
    of that month, or the whole next month) is charged when they approve it.
    ``senders.InvalidSenderName`` for a name that breaks the rules."""
    if start not in SenderPackage.Start.values:
        raise senders.InvalidSenderName(_("Выберите, когда начнёт действовать пакет."))
    with transaction.atomic():
        row = senders.sender_request(account=account, name=name, channel=CHANNEL)
        SenderPackage.objects.create(
            account_id=account.pk, sender_name=row, start=start
        )
    return row


def sender_name_withdraw(*, account, sender_name_id: int) -> None:
    """``SenderName.DoesNotExist`` for another account's or another channel's id."""
    SenderName.objects.get(account_id=account.pk, channel=CHANNEL, pk=sender_name_id)
    senders.sender_withdraw(account=account, sender_name_id=sender_name_id)


def name_approved(*, sender_name: SenderName) -> SenderPackage | None:
    """Staff put the name to work: charge its first package (once — a repeated
    call finds it bought).  Called after the decision commits
    (``cabinet.moderation.decided``)."""
    with transaction.atomic():
        packages = list(
            SenderPackage.objects.select_for_update().filter(sender_name=sender_name)
        )
        waiting = [p for p in packages if p.status == SenderPackage.Status.WAITING]
        if waiting:
            package = waiting[0]
        elif packages:
            # Bought already, or left unpaid at approval: the client pays it.
            return None
        else:  # approved without a request of ours (staff added it)
            package = SenderPackage.objects.create(
                account_id=sender_name.account_id, sender_name=sender_name
            )
        return _buy(package, _first_period(package))


def _first_period(package: SenderPackage) -> tuple[date, date]:
    now = today()
    start = now
    if package.start == SenderPackage.Start.NEXT_MONTH:
        start = next_month_start(now)
    return start, month_end(start)


def _buy(package: SenderPackage, period: tuple[date, date]) -> SenderPackage:
    """Charge ``package`` for ``period``; without enough money it stays unpaid
    (the client pays it on the names page)."""
    account = Account.objects.get(pk=package.account_id)
    price = package_price(account=account)
    name = package.sender_name.name
    starts, ends = period
    try:
        with transaction.atomic():
            ledger_post(
                account_id=account.pk,
                amount=-price,
                kind=LedgerKind.CHARGE,
                reason=_(
                    "Рассылка Viber: пакет для имени «%(name)s» с %(start)s по %(end)s"
                )
                % {"name": name, "start": _d(starts), "end": _d(ends)},
                reference=f"viber-package:{package.pk}",
                service=CHANNEL,
            )
            package.status = SenderPackage.Status.PAID
            package.starts_on, package.ends_on = starts, ends
            package.price = price
            package.paid_at = timezone.now()
            package.reason = ""
            package.save()
    except InsufficientFunds as exc:
        package.status = SenderPackage.Status.UNPAID
        package.reason = _(
            "Недостаточно средств: стоимость пакета %(price)s ₽, "
            "доступно %(available)s ₽."
        ) % {"price": price, "available": exc.available}
        package.save(update_fields=["status", "reason"])
        notification_create(
            account_id=account.pk,
            kind=Notification.Kind.SENDER,
            title=_("Пакет для имени Viber «%(name)s» не оплачен") % {"name": name},
            body=package.reason
            + " "
            + _("Пополните баланс и оплатите пакет в разделе «Имена отправителя»."),
            url=SENDERS_URL,
        )
        return package
    notification_create(
        account_id=account.pk,
        kind=Notification.Kind.SENDER,
        title=_("Пакет для имени Viber «%(name)s» оплачен") % {"name": name},
        body=_("Списано %(price)s ₽. Пакет действует с %(start)s по %(end)s.")
        % {"price": price, "start": _d(starts), "end": _d(ends)},
        url=SENDERS_URL,
    )
    return package


def package_pay(*, account, sender_name_id: int) -> SenderPackage:
    """«Оплатить» / «Продлить»: pay the name's unpaid package, or buy the next
    calendar month after the last paid one (the current month from today when
    the last one has ended).  ``SenderName.DoesNotExist`` for a name that is
    not the account's approved Viber name; ``PackageError`` when there is
    nothing to buy yet or the money is short (nothing charged)."""
    name = SenderName.objects.get(
        account_id=account.pk,
        channel=CHANNEL,
        pk=sender_name_id,
        status=SenderName.Status.APPROVED,
    )
    now = today()
    with transaction.atomic():
        open_package = (
            SenderPackage.objects.select_for_update()
            .filter(
                sender_name=name,
                status__in=[SenderPackage.Status.WAITING, SenderPackage.Status.UNPAID],
            )
            .first()
        )
        if open_package is not None:
            period = _first_period(open_package)
            package = open_package
        else:
            last = (
                SenderPackage.objects.filter(
                    sender_name=name, status=SenderPackage.Status.PAID
                )
                .order_by("-ends_on")
                .first()
            )
            if last is not None and last.ends_on >= now:
                if last.ends_on > month_end(now):
                    raise PackageError(
                        _("Пакет уже оплачен по %(date)s.") % {"date": _d(last.ends_on)}
                    )
                start = last.ends_on + timedelta(days=1)
            else:
                start = now
            period = (start, month_end(start))
            package = SenderPackage.objects.create(
                account_id=account.pk,
                sender_name=name,
                start=SenderPackage.Start.NOW
                if start == now
                else SenderPackage.Start.NEXT_MONTH,
            )
        package = _buy(package, period)
        if package.status != SenderPackage.Status.PAID:
            # Raised inside the block: the name's packages stay as they were.
            raise PackageError(package.reason)
    return package


def package_check(*, account, sender: str) -> None:
    """``ChannelKind.check_sender``: an own approved name sends only within a
    paid package.  Raises ``messaging.senders.SenderNotAllowed``."""
    now = today()
    periods = list(
        SenderPackage.objects.filter(
            account_id=account.pk,
            sender_name__channel=CHANNEL,
            sender_name__name=sender,
            sender_name__status=SenderName.Status.APPROVED,
            status=SenderPackage.Status.PAID,
        ).values_list("starts_on", "ends_on")
    )
    if any(s <= now <= e for s, e in periods):
        return
    future = sorted(s for s, _e in periods if s > now)
    if future:
        raise senders.SenderNotAllowed(
            _("Пакет для имени «%(name)s» начнёт действовать %(date)s.")
            % {"name": sender, "date": _d(future[0])}
        )
    if periods:
        ended = max(e for _s, e in periods)
        raise senders.SenderNotAllowed(
            _(
                "Пакет сообщений для имени «%(name)s» закончился %(date)s: продлите "
                "его в разделе «Имена отправителя»."
            )
            % {"name": sender, "date": _d(ended)}
        )
    raise senders.SenderNotAllowed(
        _(
            "Пакет сообщений для имени «%(name)s» не оплачен: оплатите его в "
            "разделе «Имена отправителя»."
        )
        % {"name": sender}
    )


# --- the carrier's callbacks ------------------------------------------------------

STATUS_EVENTS = {
    "delivered": S.DELIVERED,
    "seen": S.VIEWED,
    "undelivered": S.UNDELIVERED,
    "unsubscribed": S.UNSUBSCRIBED,
    "spam": S.SPAM,
}


def _at(value) -> datetime:
    if isinstance(value, datetime):
        return value
    parsed = parse_datetime(value) if isinstance(value, str) else None
    return parsed or timezone.now()


def callbacks_apply(*, events: list[dict]) -> int:
    """Apply Viber's callbacks, as a webhook receives them: ``{"event":
    "delivered"|"seen"|"undelivered"|"unsubscribed"|"spam", "message_id",
    "reason", "at"}``, ``{"event": "clicked", "url"}`` (the button's short
    link the recipient followed), ``{"event": "replied", "message_id",
    "text", "reply_id", "at"}``; a click on a plain link Viber saw is
    ``{"event": "clicked", "message_id"}``.  Idempotent: repeated callbacks
    change nothing (a second press of a short link is a second click).
    Returns status changes.

    One batch is one transaction and one ``receipts_apply``: a message's
    callbacks collapse to its furthest status (delivered → seen → clicked in
    one batch is one status change, not three), its facts merged."""
    receipts, clicked, replied = [], [], []
    for e in events:
        kind = e.get("event")
        if kind in STATUS_EVENTS and e.get("message_id"):
            extra = {}
            if kind == "seen":
                extra["seen_at"] = _at(e.get("at")).isoformat()
            receipts.append(
                Receipt(
                    STATUS_EVENTS[kind],
                    message_id=int(e["message_id"]),
                    reason=(e.get("reason") or "")[:200],
                    extra=extra,
                )
            )
        elif kind == "clicked" and e.get("url"):
            clicked.append(e["url"])
        elif kind == "clicked" and e.get("message_id"):
            receipts.append(
                Receipt(
                    S.CLICKED,
                    message_id=int(e["message_id"]),
                    extra={"clicked_at": _at(e.get("at")).isoformat()},
                )
            )
        elif kind == "replied" and e.get("message_id") and e.get("text"):
            replied.append(e)
    clicks, click_receipts = _clicks(clicked)
    replies, reply_receipts = _replies(replied)
    return _apply(receipts + click_receipts + reply_receipts, clicks, replies)


def _apply(receipts: list[Receipt], clicks: Counter, replies: list[Reply]) -> int:
    with transaction.atomic():
        for link, n in sorted(clicks.items()):
            CampaignLink.objects.filter(pk=link).update(clicks=F("clicks") + n)
        if replies:
            Reply.objects.bulk_create(replies, ignore_conflicts=True)
            announced = [_announced(r) for r in replies]
            transaction.on_commit(
                lambda: replies_received.send(
                    sender=Reply, channel=CHANNEL, replies=announced
                )
            )
        if not receipts:
            return 0
        return receipts_apply(channel=CHANNEL, receipts=_collapse(receipts))


def _announced(reply: Reply) -> dict:
    return {
        "account_id": reply.account_id,
        "campaign_id": reply.campaign_id,
        "message_id": reply.message_id,
        "phone": reply.phone,
        "contact_id": reply.contact_id,
        "sender": reply.sender,
        "text": reply.text,
        "external_id": reply.external_id,
        "received_at": reply.received_at,
    }


# The fact a status's own time (``Message.status_at``) already tells.
OWN_TIME = {S.VIEWED: "seen_at", S.CLICKED: "clicked_at"}


def _collapse(receipts: list[Receipt]) -> list[Receipt]:
    """One receipt per message: its furthest status, and the facts that status
    would hide (when a clicked message was seen, a reply).  A message's
    ``status_at`` is the time of its status, so a seen message does not repeat
    it as ``seen_at`` — which keeps the extras' writes to the few messages
    that need them."""
    best: dict[int, Receipt] = {}
    facts: dict[int, dict] = {}
    for r in receipts:
        if r.extra:
            facts.setdefault(r.message_id, {}).update(r.extra)
        current = best.get(r.message_id)
        if current is None or STATUS_RANK.get(r.status, 0) > STATUS_RANK.get(
            current.status, 0
        ):
            best[r.message_id] = r
    out = []
    for mid, r in best.items():
        extra = facts.get(mid)
        if extra:
            extra.pop(OWN_TIME.get(r.status, ""), None)
        if (extra or {}) != r.extra:
            r = Receipt(r.status, message_id=mid, reason=r.reason, extra=extra or {})
        out.append(r)
    return out


def button_clicks(*, urls: list[str]) -> int:
    """Recipients followed their messages' short links (a button or a link in
    the text): count each on its link and mark the message clicked (Кл) — the
    bulk form of ``messaging.links.link_click``, in a few queries per batch.
    Forged or foreign tokens are ignored."""
    clicks, receipts = _clicks(urls)
    return _apply(receipts, clicks, [])


def _clicks(urls: list[str]) -> tuple[Counter, list[Receipt]]:
    pairs = []
    for url in urls:
        token = url.rstrip("/").rsplit("/", 1)[-1]
        try:
            pairs.append(links.token_read(token))
        except links.BadToken:
            continue
    if not pairs:
        return Counter(), []
    campaign_of = dict(
        CampaignLink.objects.filter(pk__in={link for link, _m in pairs}).values_list(
            "pk", "campaign_id"
        )
    )
    owner = dict(
        Message.objects.filter(
            id__any=sorted({m for _l, m in pairs}), channel=CHANNEL
        ).values_list("id", "campaign_id")
    )
    valid = [
        (link, mid)
        for link, mid in pairs
        if link in campaign_of and owner.get(mid) == campaign_of[link]
    ]
    now = timezone.now().isoformat()
    return (
        Counter(link for link, _m in valid),
        [
            Receipt(S.CLICKED, message_id=mid, extra={"clicked_at": now})
            for _l, mid in valid
        ],
    )


def replies_receive(*, events: list[dict]) -> int:
    """Store recipients' replies (per contact) — only for campaigns sent with
    «Получать ответ в Online-чат»; the others are dropped, as the manual
    warns.  A reply proves the message was seen."""
    replies, receipts = _replies(events)
    return _apply(receipts, Counter(), replies)


def _replies(events: list[dict]) -> tuple[list[Reply], list[Receipt]]:
    if not events:
        return [], []
    ids = sorted({int(e["message_id"]) for e in events})
    rows = {
        r["id"]: r
        for r in Message.objects.filter(id__any=ids, channel=CHANNEL).values(
            "id", "account_id", "campaign_id", "phone", "contact_id", "sender"
        )
    }
    wanted = set(
        Campaign.objects.filter(
            pk__in={r["campaign_id"] for r in rows.values()}, options__replies=True
        ).values_list("pk", flat=True)
    )
    replies, receipts = [], []
    for e in events:
        row = rows.get(int(e["message_id"]))
        if row is None:
            continue
        at = _at(e.get("at"))
        extra = {}
        if row["campaign_id"] in wanted:
            text = str(e["text"])[:1000]
            replies.append(
                Reply(
                    account_id=row["account_id"],
                    campaign_id=row["campaign_id"],
                    message_id=row["id"],
                    phone=row["phone"],
                    contact_id=row["contact_id"],
                    sender=row["sender"],
                    text=text,
                    external_id=str(e.get("reply_id") or at.isoformat())[:64],
                    received_at=at,
                )
            )
            extra = {"replied_at": at.isoformat(), "reply": text}
        receipts.append(Receipt(S.VIEWED, message_id=row["id"], extra=extra))
    return replies, receipts


def unsubscribes_record(*, message_ids: list[int]) -> int:
    """Recipients who unsubscribed in Viber stop getting messages from that
    sender on Viber (``contacts`` keeps the list; other senders still may)."""
    rows = Message.objects.filter(
        id__any=sorted(message_ids), channel=CHANNEL, status=S.UNSUBSCRIBED
    ).values_list("account_id", "phone", "sender")
    seen = defaultdict(set)
    for account_id, phone, sender in rows:
        if phone in seen[(account_id, sender)]:
            continue
        seen[(account_id, sender)].add(phone)
        unsubscribe_add(
            account_id=account_id, phone=phone, channel=CHANNEL, sender=sender
        )
    return sum(len(v) for v in seen.values())


# --- the button's short link --------------------------------------------------------


class ButtonLinks:
    """Each message's own address for its button: our short link
    (``/s/<token>``, one ``CampaignLink`` per campaign, none per message), so a
    press is counted and marks the message Кл.  A gateway builds one and asks
    it for every batch it submits: one small query per campaign in the batch
    (a batch's messages of one campaign share one content object)."""

    def __init__(self):
        self._makers: dict[int, links.LinkMaker] = {}

    def for_batch(self, messages) -> dict[int, str]:
        by_content: dict[int, list] = defaultdict(list)
        for m in messages:
            if m.content is not None and m.content.links():
                by_content[id(m.content)].append(m)
        result = {}
        for group in by_content.values():
            first = group[0]
            cid = (
                Message.objects.filter(pk=first.id)
                .values_list("campaign_id", flat=True)
                .first()
            )
            if cid is None:
                continue
            maker = self._makers.get(cid)
            if maker is None:
                url = first.content.links()[0]
                row = links.campaign_links(campaign=Campaign(pk=cid), urls=[url])[url]
                if len(self._makers) > 1000:
                    self._makers.clear()
                maker = self._makers[cid] = links.LinkMaker(row.pk)
            for m in group:
                result[m.id] = maker(m.id)
        return result
