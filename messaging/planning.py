"""One planner decides who gets what at what price, for every way of sending.

The cabinet form, the quote, REST v1, the JSON API (its one-message fast path
included, as a compiled form), the scheduler, greetings, promo reminders,
scenarios and events all build *entries* (a phone and, maybe, contact fields,
an own text, the integrator's id) and hand them to the same two objects:

* a **Policy** — what is fixed when the user is shown the price: the channel,
  the sender (approved or shared; the channel's own rule), the content
  (validated), the tariff tier and price line, whether the send goes to
  moderation, whether it is charged.  ``policy_for`` is the one place those
  rules are asked; each rule lives in its owner (``messaging.senders``,
  ``messaging.moderation``, ``billing.selectors.PriceList``,
  ``contacts.selectors.blocked_phones``).
* a **Planner** — entries → admitted recipients (normalised, not on the
  stop-list or unsubscribed from this sender on this channel, not repeated,
  operator looked up) → planned messages (text, units, price, status, send
  time, expiry), with the excluded counted by reason.

``Preparer`` (prepare.py) writes a campaign's planned messages chunk by chunk;
``services.campaign_launch`` writes small sends at once; ``campaign_quote``
only sums.  The set-based forms for a group audience with one text for
everyone (``priced_audience_sql``) and the one-message statement
(``messaging.instant``) are compiled forms of the same policy: they read the
same price table, stop-list and tier.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import connection

from billing.selectors import PriceList, account_tier
from contacts.phones import InvalidPhone, lookup, normalize_phone
from contacts.selectors import blocked_phones, contacts_in_groups

from . import registry
from .models import MessageStatus, Source
from .moderation import needs_moderation
from .registry import ChannelKind, Content, ContentError
from .senders import SenderNotAllowed, sender_validate
from .timing import (
    MAX_TTL_SECONDS,
    SendPlanner,
    TimingError,
    parse_smooth,
    parse_ttl,
    parse_window,
)

S = MessageStatus

# Beyond this many numbers a send asks for the account's whole stop-list once
# instead of the numbers one by one.
WHOLE_STOP_LIST_FROM = 5000


class LaunchError(Exception):
    """A send that cannot go ahead; ``message`` is for the user.  Nothing was
    changed."""

    def __init__(self, message: str, *, code: str = "invalid", field: str = ""):
        super().__init__(message)
        self.message = message
        self.code = code
        self.field = field


def excluded_message(excluded: dict) -> str:
    """«Нет получателей (…)» with the reasons recipients were excluded."""
    parts = []
    if excluded.get("blocked"):
        parts.append("номер в стоп-листе или отписался")
    if excluded.get("invalid"):
        parts.append("неверный номер")
    if excluded.get("duplicates"):
        parts.append("повторяющийся номер")
    return "Нет получателей" + (f" ({', '.join(parts)})" if parts else "") + "."


def validated_options(options: dict, *, max_ttl: int = MAX_TTL_SECONDS) -> dict:
    try:
        parse_smooth(options.get("smooth"))
        parse_window(options.get("window"))
        parse_ttl(options.get("ttl"), max_ttl)
    except TimingError as exc:
        raise LaunchError(str(exc), field="options") from exc
    return options


@dataclass
class Recipient:
    """One recipient given directly (API, scenarios, events): a phone and,
    optionally, what is known of it, its own text, the integrator's id and the
    caller's replay digest (``Message.client_key``: unique per account, so a
    replay is written once)."""

    phone: str
    country: str = ""
    operator: str = ""
    region: str = ""
    timezone: str = ""
    contact_id: int | None = None
    text: str | None = None
    client_ref: str = ""
    client_key: str = ""


@dataclass
class Policy:
    """The rules of one send, fixed when its price is shown (see the module)."""

    account: object
    kind: ChannelKind
    sender: str
    text: str
    content: Content
    options: dict
    tier: int
    moderation: bool
    charge: bool
    prices: PriceList = field(repr=False)
    _stop_list: set[str] | None = field(default=None, repr=False)
    _prices: dict = field(default_factory=dict, repr=False)
    _units: dict = field(default_factory=dict, repr=False)

    @property
    def channel(self) -> str:
        return self.kind.code

    @property
    def allow_duplicates(self) -> bool:
        return bool(self.options.get("allow_duplicates"))

    def stop_list(self) -> set[str]:
        """Every number this send must not reach (loaded once): the stop-list,
        and the numbers the channel itself refuses now (``ChannelKind.refused``:
        VK/OK's daily limit per recipient)."""
        if self._stop_list is None:
            self._stop_list = blocked_phones(
                account_id=self.account.pk, channel=self.channel, sender=self.sender
            ) | self._refused(None)
        return self._stop_list

    def blocked(self, phones: list[str]) -> set[str]:
        """The numbers among ``phones`` this send must not reach."""
        if self._stop_list is None and len(phones) < WHOLE_STOP_LIST_FROM:
            return blocked_phones(
                account_id=self.account.pk,
                channel=self.channel,
                sender=self.sender,
                phones=phones,
            ) | self._refused(phones)
        return self.stop_list() & set(phones)

    def _refused(self, phones: list[str] | None) -> set[str]:
        if self.kind.refused is None:
            return set()
        return set(self.kind.refused(self.account.pk, self.sender, phones))

    def price(self, country: str, operator: str, units: int) -> Decimal:
        """What a message of ``units`` costs to this number's country and
        operator (``billing.selectors.Rate.cost``: per unit, or a first block
        whole and each unit after it)."""
        if not self.charge:
            return Decimal("0")
        key = (country or "RU", operator or "", units)
        price = self._prices.get(key)
        if price is None:
            price = self.prices.cost(units, key[0], key[1])
            if len(self._prices) < 10000:
                self._prices[key] = price
        return price

    def message_text(self, text: str) -> str:
        """What each message carries of the send's text (``ChannelKind.
        message_text``; the text itself for most channels)."""
        if self.kind.message_text is None:
            return text
        return self.kind.message_text(text, self.content)

    def units(self, text: str) -> int:
        units = self._units.get(text)
        if units is None:
            units = self.kind.count_units(text, self.content)
            if len(self._units) < 10000:
                self._units[text] = units
        return units


def policy_for(
    *,
    account,
    channel: str,
    text: str,
    sender: str = "",
    content: dict | Content | None = None,
    options: dict | None = None,
    source: str = Source.CABINET,
    charge: bool = True,
    tier: int | None = None,
    moderation: bool | None = None,
    validate: bool = True,
) -> Policy:
    """Ask every rule of a send once.  Raises ``LaunchError`` (nothing changed)
    for a blocked account, bad options or content, or a sender the account may
    not use.  ``tier`` fixes the tariff tier (a campaign prepared after its
    launch pays the tier it was shown); ``validate=False`` rebuilds the policy
    of a launched campaign without asking its sender and content again."""
    kind = registry.get_channel(channel)
    options = dict(options or {})
    if validate:
        if account.is_blocked:
            raise LaunchError(
                "Аккаунт заблокирован: отправка недоступна.", code="blocked"
            )
        validated_options(options, max_ttl=kind.max_ttl_seconds)
        try:
            parsed = (
                content
                if isinstance(content, Content)
                else kind.parse_content(content, account_id=account.pk)
            )
            # What the channel cannot send whatever the content alone says
            # (Viber: a text over 1000 characters, an image and a text without
            # a button).
            kind.check(text, parsed)
        except ContentError as exc:
            raise LaunchError(
                exc.message, code="invalid_content", field=exc.field
            ) from exc
        if source == Source.SYSTEM:
            sender = sender or kind.default_sender()
        else:
            try:
                sender = sender_validate(
                    account=account, channel=channel, sender=sender
                )
            except SenderNotAllowed as exc:
                raise LaunchError(
                    exc.message, code="sender_not_allowed", field="sender"
                ) from exc
    else:
        parsed = content if isinstance(content, Content) else kind.content.load(content)
        sender = sender or kind.default_sender()
    if moderation is None:
        moderation = source != Source.SYSTEM and (
            kind.moderate(account, text, parsed)
            if kind.moderate is not None
            else needs_moderation(account=account, channel=channel, text=text)
        )
    if tier is None:
        tier = account_tier(account)
    prices = kind.prices(
        account, sender=sender, text=text, content=parsed, tier=tier
    )
    return Policy(
        account=account,
        kind=kind,
        sender=sender,
        text=text,
        content=parsed,
        options=options,
        tier=tier,
        moderation=moderation,
        charge=charge,
        prices=prices,
    )


def normalise_phones(phones: Iterable) -> tuple[list[str], list[tuple[str, str]]]:
    """(E.164 numbers, [(raw, reason)] of the invalid ones)."""
    good, bad = [], []
    for raw in phones:
        try:
            good.append(normalize_phone(raw))
        except InvalidPhone as exc:
            bad.append((str(raw), exc.reason))
    return good, bad


def with_lookup(entry: dict, phone: str) -> dict:
    """The entry with its number's country, operator, region and time zone
    (kept when the entry already has them, e.g. a phonebook contact)."""
    if entry.get("country"):
        return {**entry, "phone": phone}
    info = lookup(phone)
    return {
        **entry,
        "phone": phone,
        "country": info.country,
        "operator": entry.get("operator") or info.operator,
        "region": entry.get("region") or info.region,
        "timezone": entry.get("timezone") or info.timezone,
    }


@dataclass
class Planned:
    """Totals of what a planner planned so far."""

    messages: int = 0
    units: int = 0
    total: Decimal = Decimal("0")
    statuses: dict = field(default_factory=dict)


class Planner:
    """Entries → planned messages under one policy.  ``timing`` plans send
    times (None for quotes); ``seen`` are numbers already written (a resumed
    preparation); ``index`` is the position of the next recipient (smooth
    sending spreads by position)."""

    def __init__(
        self,
        policy: Policy,
        *,
        renderer,
        timing: SendPlanner | None = None,
        initial_status: str | None = None,
        seen: Iterable[str] = (),
        index: int = 0,
    ):
        self.policy = policy
        self.renderer = renderer
        self.timing = timing
        self.ttl = parse_ttl(policy.options.get("ttl"), policy.kind.max_ttl_seconds)
        self.initial_status = initial_status or (
            S.MODERATION if policy.moderation else None
        )
        self.seen: set[str] = set(seen)
        self.index = index
        self._static_text: str | None = None
        self.excluded = {"invalid": 0, "blocked": 0, "duplicates": 0}
        self.planned = Planned()
        # (entry, reason) of every excluded entry, when a caller answers per
        # entry (a quote with lines); off for campaigns of any size.
        self.rejected: list[tuple[dict, str]] | None = None

    # --- who -------------------------------------------------------------------

    def admit(self, entries: list[dict]) -> list[dict]:
        """The entries that may receive this send, normalised and looked up, in
        order; the rest counted in ``excluded`` by reason."""
        normalised = []
        for entry in entries:
            phone = entry.get("phone") or ""
            if not (phone.startswith("+") and entry.get("country")):
                try:
                    phone = normalize_phone(phone)
                except InvalidPhone:
                    self._exclude(entry, "invalid")
                    continue
            normalised.append((entry, phone))
        blocked = self.policy.blocked([phone for _e, phone in normalised])
        allow_duplicates = self.policy.allow_duplicates
        admitted = []
        for entry, phone in normalised:
            if phone in blocked:
                self._exclude(entry, "blocked")
                continue
            if phone in self.seen and not allow_duplicates:
                self._exclude(entry, "duplicates")
                continue
            self.seen.add(phone)
            admitted.append(with_lookup(entry, phone))
        return admitted

    def _exclude(self, entry: dict, reason: str) -> None:
        self.excluded[reason] += 1
        if self.rejected is not None:
            self.rejected.append((entry, reason))

    # --- what, at what price, when ------------------------------------------------

    def text_for(self, recipient: dict, message_id: int | None) -> str:
        if recipient.get("text") is not None:  # given with its own text
            return recipient["text"]
        if self.renderer.static:
            if self._static_text is None:
                self._static_text = self.policy.message_text(
                    self.renderer.render({}, None)
                )
            return self._static_text
        return self.policy.message_text(
            self.renderer.render({**recipient, "message_id": message_id}, message_id)
        )

    def plan(
        self,
        recipients: list[dict],
        *,
        now: datetime,
        ids: list[int] | None = None,
    ) -> list[tuple]:
        """Planned messages ``(id, text, units, price, status, send_at,
        expires_at, recipient)`` — the rows ``prepare.write_messages`` writes."""
        policy = self.policy
        out = []
        planned = self.planned
        for i, r in enumerate(recipients):
            message_id = ids[i] if ids else None
            text = self.text_for(r, message_id)
            units = policy.units(text)
            price = policy.price(r.get("country"), r.get("operator"), units)
            if self.timing is not None:
                send_at = self.timing.send_at(self.index, r.get("timezone") or "")
                status = self.initial_status or (
                    S.QUEUED if send_at <= now else S.DEFERRED
                )
            else:
                send_at, status = now, S.QUEUED
            self.index += 1
            expires = send_at + timedelta(seconds=self.ttl) if self.ttl else None
            planned.messages += 1
            planned.units += units
            planned.total += price
            planned.statuses[status] = planned.statuses.get(status, 0) + 1
            out.append((message_id, text, units, price, status, send_at, expires, r))
        return out


# --- the compiled form for a group audience with one text ----------------------


def priced_audience_sql(
    policy: Policy, *, group_ids: list[int], filters: dict | None, units: int
) -> tuple[str, list]:
    """The audience of groups, priced and marked, as one SQL query of ``(id,
    phone, operator, country, region, timezone, price, blocked, admitted)``
    for one text of ``units`` units: the planner's rules compiled — the same
    prices (``PriceList.costs``: operator over country over Russia, the
    policy's tier and price line, ``Rate.cost`` of the units), the same
    stop-list, and only the first contact of each number admitted (unless
    duplicates are allowed).  PostgreSQL only."""
    contacts = contacts_in_groups(
        account_id=policy.account.pk, group_ids=group_ids, filters=filters or None
    ).values("id", "phone", "operator", "country", "region", "timezone")
    inner_sql, inner_params = contacts.query.sql_with_params()
    table = sorted(policy.prices.costs(units).items())
    fallback = policy.price("RU", "", units)
    price = (
        "COALESCE(po.price, pc.price, pr.price, %s)" if policy.charge else "%s::numeric"
    )
    first = (
        "TRUE"
        if policy.allow_duplicates
        else "row_number() OVER (PARTITION BY a.phone ORDER BY a.id) = 1"
    )
    sql = f"""
        WITH audience AS ({inner_sql}),
        prices AS (
            SELECT * FROM unnest(%s::text[], %s::text[], %s::numeric[])
                AS t(country, operator, price)
        ),
        marked AS (
            SELECT a.*, COALESCE(NULLIF(a.country, ''), 'RU') AS cc,
                   a.phone = ANY(%s::text[]) AS blocked, {first} AS first
            FROM audience a
        )
        SELECT f.id, f.phone, f.operator, f.country, f.region, f.timezone,
               {price} AS price, f.blocked,
               (NOT f.blocked AND f.first) AS admitted
        FROM marked f
        LEFT JOIN prices po ON po.country = f.cc
            AND po.operator = f.operator AND f.operator <> ''
        LEFT JOIN prices pc ON pc.country = f.cc AND pc.operator = ''
        LEFT JOIN prices pr ON pr.country = 'RU' AND pr.operator = ''
    """
    params = [
        *inner_params,
        [c for (c, _o), _p in table],
        [o for (_c, o), _p in table],
        [p for _k, p in table],
        list(policy.stop_list()),
        fallback,
    ]
    return sql, params


def set_based(renderer, audience: dict) -> bool:
    """Can the audience be priced (and written) in SQL?  One text for everyone,
    groups only, PostgreSQL."""
    return (
        connection.vendor == "postgresql"
        and renderer.static
        and bool(audience.get("group_ids"))
        and not audience.get("phones")
        and not audience.get("recipients")
    )


def audience_totals_sql(
    policy: Policy, *, group_ids: list[int], filters: dict | None, units: int
) -> tuple[Planned, dict]:
    """What the planner would plan for a group audience with one text of
    ``units`` units, in one aggregate query: (totals, excluded by reason)."""
    sql, params = priced_audience_sql(
        policy, group_ids=group_ids, filters=filters, units=units
    )
    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(*) FILTER (WHERE admitted), "
            "COALESCE(sum(price) FILTER (WHERE admitted), 0), "
            "count(*) FILTER (WHERE blocked), "
            "count(*) FILTER (WHERE NOT blocked AND NOT admitted) "
            f"FROM ({sql}) priced",
            params,
        )
        count, total, blocked, duplicates = cur.fetchone()
    planned = Planned(
        messages=count,
        units=count * units,
        total=Decimal(total).quantize(Decimal("0.01")),
    )
    return planned, {"invalid": 0, "blocked": blocked, "duplicates": duplicates}
