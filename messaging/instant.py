"""One message, one round trip: the hot path of API sends on PostgreSQL.

``campaign_launch`` is the one way to send, and it stays the reference.  For the
commonest API call — one message to one number, sent now — it costs about 13
statements and most of a millisecond of ORM work per statement; an integrator
sending a code per request pays that on every request.  ``instant_send`` writes
the rows ``campaign_launch`` writes for such a call (the campaign, the message,
the charge in the ledger and the balance — and of the counters only the
non-zero one, a missing counter row being zero) in **two** prepared statements
sent in one pipeline: one round trip and one atomic transaction.  The first
(data-modifying CTEs) decides and writes the campaign and the message; the
second takes the account row and charges through the ledger's entry point, so
the row stays locked only for the charge and the commit, and the wait for a
concurrent charge re-checks a few lines rather than the whole send (PostgreSQL's
EvalPlanQual re-initialises every sub-plan of the statement that waited).
Everything the reference path decides inside the database is decided here
from fresh rows:

* the token is not revoked and the account is not blocked;
* the account skips moderation (trusted, or enough finished campaigns);
* the sender is the shared default or one of the account's approved names;
* the number is not on the stop-list, in a stop-list group or unsubscribed;
* the price is the account's tariff (tier by balance or staff's override,
  operator over country, tier over base) — ``billing.selectors.PriceList``'s
  rules;
* the balance covers it (``balance - price >= -credit_limit``), checked and
  moved under the account's row lock, which is held only to the commit;
* a replay (the caller's ``client_key`` digest already used by the account)
  answers the message already sent.

When any of these says no, nothing is written and no row comes back, and
the caller hands the request to the reference path, which gives the precise
answer (an error, moderation, a repeat).  A concurrent replay (same
``client_key``) makes the send fail on the unique index: nothing is
written and the reference path answers "repeated".
``tests/integrations/test_fastlane.py`` proves the rows are the same as
``campaign_launch``'s, field by field.
"""

import itertools
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection
from django.utils import translation
from django.utils.dateparse import parse_datetime

from billing.models import LedgerEntry, LedgerKind
from billing.selectors import (
    FALLBACK_PRICES,
    account_tier_sql,
    unit_price_sql,
)
from billing.services import ledger_announce, ledger_charge_sql
from contacts.selectors import blocked_phone_sql

from . import prepare
from .models import Campaign, MessageStatus, Source
from .moderation import trusted_sql
from .planning import Recipient
from .senders import sender_allowed_sql

S = MessageStatus

# Names the campaign the send statement wrote, for the charge statement; local
# to the transaction.
CHARGE_SETTING = "cabinet.instant_campaign"


# Each rule comes from the module that owns it, compiled beside its Python
# form: the tier and the price of the parts (billing.selectors), trust
# (messaging.moderation), the stop-list (contacts.selectors), the sender
# (messaging.senders) and the charge with its ledger entry (billing.services).
SQL = f"""
WITH tok AS (
    SELECT t.id FROM cabinet_apitoken t
    WHERE t.id = %(token)s AND t.account_id = %(account)s AND t.revoked_at IS NULL
), acct AS (
    SELECT a.id, a.balance, a.credit_limit, {account_tier_sql("a")} AS tier
    FROM cabinet_account a JOIN tok ON TRUE
    WHERE a.id = %(account)s AND NOT a.is_blocked
      AND {trusted_sql(account="a", trust_after="%(trust_after)s")}
), existing AS (
    SELECT m.id, m.phone, m.status, m.price, m.parts, m.campaign_id,
           c.status AS campaign_status
    FROM messaging_message m JOIN messaging_campaign c ON c.id = m.campaign_id
    WHERE %(client_key)s <> '' AND m.account_id = %(account)s
      AND m.client_key = %(client_key)s
      AND m.client_key <> ''  -- lets the generic plan use the partial unique index
), blocked AS ({
    blocked_phone_sql(
        account="%(account)s",
        channel="%(channel)s",
        sender="%(sender)s",
        phone="%(phone)s",
    )
}), sender_ok AS ({
    sender_allowed_sql(
        account="%(account)s",
        channel="%(channel)s",
        sender="%(sender)s",
        shared="%(shared_senders)s",
    )
}), priced AS MATERIALIZED (
    SELECT acct.id, acct.balance, acct.credit_limit, acct.tier,
           {
    unit_price_sql(
        channel="%(channel)s",
        country="%(country)s",
        operator="%(operator)s",
        tier="acct.tier",
        fallback="%(fallback_price)s",
        units="%(parts)s",
    )
} AS cost
    FROM acct
    WHERE NOT EXISTS (SELECT 1 FROM existing)
      AND NOT EXISTS (SELECT 1 FROM blocked)
      AND EXISTS (SELECT 1 FROM sender_ok)
), go AS MATERIALIZED (
    SELECT id, cost, tier FROM priced
    WHERE balance - round(cost, 2) >= -credit_limit
), camp AS (
    INSERT INTO messaging_campaign (
        account_id, channel, source, status, sender, text, content, options,
        audience, tags, description, created_by_id, created_at, send_at,
        started_at, finished_at, client_id, recipients, prepared, heartbeat_at,
        cost, moderation_note
    )
    SELECT go.id, %(channel)s, %(source)s, %(campaign_status)s, %(sender)s,
           %(text)s, '{{}}'::jsonb,
           %(options)s::jsonb
               || jsonb_build_object('held', go.cost::text, 'tier', go.tier),
           %(audience)s::jsonb, %(tags)s::jsonb, %(description)s, NULL, %(now)s,
           NULL, %(now)s, NULL, '', 1, 1, NULL, go.cost, ''
    FROM go
    RETURNING id
), counters AS (
    INSERT INTO messaging_campaigncounter (campaign_id, status, count)
    SELECT camp.id, %(message_status)s, 1 FROM camp
), msg AS (
    INSERT INTO messaging_message (
        account_id, campaign_id, channel, phone, sender, text, parts, price,
        status, reason, operator, country, region, timezone, contact_id,
        created_at, send_at, expires_at, sent_at, status_at, gateway_id,
        attempts, refunded, client_ref, client_key
    )
    SELECT go.id, camp.id, %(channel)s, %(phone)s, %(sender)s, %(text)s,
           %(parts)s, go.cost, %(message_status)s, '', %(operator)s,
           %(country)s, %(region)s, %(timezone)s, NULL, %(now)s, %(now)s,
           %(expires_at)s, NULL, NULL, '', 0, FALSE, %(client_ref)s,
           %(client_key)s
    FROM go, camp
    RETURNING id, campaign_id
), touched AS (
    UPDATE cabinet_apitoken t SET last_used_at = %(now)s
    FROM tok
    WHERE t.id = tok.id
      AND (t.last_used_at IS NULL OR t.last_used_at < %(now)s - interval '60 seconds')
)
SELECT FALSE, msg.id, msg.campaign_id, %(message_status)s, round(go.cost, 2),
       %(parts)s, %(phone)s, %(campaign_status)s,
       set_config('{CHARGE_SETTING}', msg.campaign_id || ':' || %(nonce)s, TRUE)
FROM msg CROSS JOIN go
UNION ALL
SELECT TRUE, e.id, e.campaign_id, e.status, e.price, e.parts, e.phone,
       e.campaign_status, NULL
FROM existing e, acct
"""

# The charge, the second statement of the same transaction: the campaign the
# first one wrote — named by a transaction-local setting with this request's
# nonce, so a request that wrote nothing charges nothing, even inside a caller's
# transaction — is charged through the ledger's entry point.
# Taking the account row in a statement of its own keeps the wait for a
# concurrent charge — and PostgreSQL's re-check of the row after it
# (EvalPlanQual re-initialises every sub-plan of the waiting statement) — to
# these few lines; the last column divides by zero when the funds are gone
# under the row lock, which aborts the whole transaction.
CHARGE_SQL = f"""
WITH camp AS (
    SELECT c.id, c.account_id, c.cost FROM messaging_campaign c
    WHERE c.id = (
        SELECT CASE WHEN split_part(named.v, ':', 2) = %(nonce)s
                    THEN split_part(named.v, ':', 1)::bigint END
        FROM (SELECT current_setting('{CHARGE_SETTING}', TRUE) AS v) named
    )
), go AS (
    SELECT camp.account_id AS id, camp.cost FROM camp
), {
    ledger_charge_sql(
        requires="camp",
        reason="%(reason_head)s || camp.id || %(reason_tail)s",
        reference="'campaign:' || camp.id",
        service="%(service)s",
        now="%(now)s",
    )
}
SELECT charged.new_balance, charged.low_balance_threshold,
       1 / (charged.id IS NOT NULL)::int AS funds_still_there,
       ledger.id, ledger.reason, ledger.created_at
FROM go LEFT JOIN charged ON TRUE LEFT JOIN ledger ON TRUE
"""


# The statement's parameters and their types, for PREPARE.
TYPES = {
    "token": "bigint",
    "account": "bigint",
    "trust_after": "integer",
    "client_key": "text",
    "client_ref": "text",
    "phone": "text",
    "channel": "text",
    "sender": "text",
    "shared_senders": "text[]",
    "service": "text",
    "country": "text",
    "operator": "text",
    "fallback_price": "numeric",
    "parts": "integer",
    "source": "text",
    "campaign_status": "text",
    "message_status": "text",
    "text": "text",
    "options": "text",
    "audience": "text",
    "tags": "text",
    "description": "text",
    "now": "timestamptz",
    "region": "text",
    "timezone": "text",
    "expires_at": "timestamptz",
    "reason_head": "text",
    "reason_tail": "text",
    "nonce": "text",
}
STATEMENT = "messaging_instant_send_v7"
CHARGE_STATEMENT = "messaging_instant_charge_v1"
# The charge's last column divides by zero when it found too little money
# under the row lock: that aborts (and undoes) the whole transaction.
DIVISION_BY_ZERO = "22012"


def _compile(sql: str, name: str) -> tuple[list[str], str]:
    order: list[str] = []

    def number(match):
        name = match.group(1)
        if name not in order:
            order.append(name)
        return f"${order.index(name) + 1}"

    body = re.sub(r"%\((\w+)\)s", number, sql)
    types = ", ".join(TYPES[name] for name in order)
    return order, f"PREPARE {name} ({types}) AS {body}"


PARAMETERS, PREPARE = _compile(SQL, STATEMENT)
CHARGE_PARAMETERS, PREPARE_CHARGE = _compile(CHARGE_SQL, CHARGE_STATEMENT)


@dataclass
class InstantSend:
    """What ``instant_send`` wrote (or found already sent)."""

    repeated: bool
    message_id: int
    campaign_id: int
    status: str
    price: Decimal
    parts: int
    phone: str
    campaign_status: str
    new_balance: Decimal | None
    low_balance_threshold: Decimal | None
    ledger_entry: LedgerEntry | None = None
    channel: str = "sms"


def available() -> bool:
    """The one-round-trip path needs PostgreSQL (data-modifying CTEs, jsonb,
    libpq's pipeline mode)."""
    return connection.vendor == "postgresql" and settings.COMPAT_FAST_LANE


_reason_parts: dict[str, tuple[str, str]] = {}
# Names a request's campaign for its charge statement: unique per process, so
# unique on its connection (a caller's transaction may hold several sends).
_nonces = itertools.count(1)


def _reason(kind) -> tuple[str, str]:
    """The ledger reason ``campaign_launch`` writes, around the campaign id."""
    parts = _reason_parts.get(kind.code)
    if parts is None:
        with translation.override(settings.LANGUAGE_CODE):
            source = str(dict(Source.choices)[Source.COMPAT])
            parts = (f"{kind.label}: рассылка #", f" ({source})")
        _reason_parts[kind.code] = parts
    return parts


def instant_send(
    *,
    kind,
    token_id: int,
    account_id: int,
    phone: str,
    country: str,
    operator: str,
    region: str,
    tz: str,
    text: str,
    parts: int,
    sender: str,
    client_ref: str,
    client_key: str,
    ttl: int | None,
    tags: list[str],
    now: datetime,
) -> InstantSend | None:
    """Send one SMS-like message now, in one round trip; ``None`` when the
    reference path must decide (see the module's docstring).  Raises the
    database's ``IntegrityError`` when a concurrent request wrote the same
    ``client_key`` (nothing written).  ``client_key`` is the caller's replay
    digest (``Message.client_key``), empty for a message nobody may replay."""
    params = statement_params(
        kind=kind,
        token_id=token_id,
        account_id=account_id,
        phone=phone,
        country=country,
        operator=operator,
        region=region,
        tz=tz,
        text=text,
        parts=parts,
        sender=sender,
        client_ref=client_ref,
        client_key=client_key,
        ttl=ttl,
        tags=tags,
        now=now,
    )
    rows = _execute(params)
    if rows is None:
        return None
    row, charge = rows
    repeated, mid, cid, status, price, parts, ph, cstatus = row[:8]
    balance = threshold = entry_id = None
    if charge is not None:
        balance, threshold, _funds, entry_id, reason, created_at = charge
    entry = None
    if entry_id is not None:
        charged = Decimal(price.decode())
        entry = LedgerEntry(
            pk=int(entry_id),
            account_id=account_id,
            amount=-charged,
            kind=LedgerKind.CHARGE,
            reason=reason.decode(),
            reference=f"campaign:{int(cid)}",
            service=kind.service,
            balance_after=_decimal(balance),
            created_at=parse_datetime(created_at.decode().replace(" ", "T")),
        )
    return InstantSend(
        repeated=repeated == b"t",
        message_id=int(mid),
        campaign_id=int(cid),
        status=status.decode(),
        price=Decimal(price.decode()),
        parts=int(parts),
        phone=ph.decode(),
        campaign_status=cstatus.decode(),
        new_balance=_decimal(balance),
        low_balance_threshold=_decimal(threshold),
        ledger_entry=entry,
        channel=kind.code,
    )


def instant_after_commit(sent: "InstantSend") -> None:
    """What follows a committed one-round-trip send: the ledger entry's side
    effects, exactly as ``ledger_post`` fires them, and a dispatch nudge."""
    if sent.repeated:
        return
    if sent.ledger_entry is not None:
        ledger_announce(
            entry=sent.ledger_entry,
            balance_before=sent.new_balance - sent.ledger_entry.amount,
            low_balance_threshold=sent.low_balance_threshold,
        )
    prepare.nudge_dispatch(sent.channel)  # by module: tests replace the nudge


def _execute(params: dict) -> tuple[list, list | None] | None:
    """Run the two prepared statements — the send, then the charge — on this
    thread's Django connection through libpq directly (text parameters, no
    query rewriting), pipelined: one round trip, one implicit transaction
    (everything up to the pipeline's sync), each statement with its own
    snapshot.  They are prepared once per connection — their plans cost more
    than running them.  Returns the send's row and the charge's (``None`` for
    a replay), or ``None`` when nothing was written."""
    from psycopg import errors, pq

    connection.ensure_connection()
    raw = connection.connection
    if getattr(raw, "_instant_prepared", None) != STATEMENT:
        with connection.cursor() as cursor:
            cursor.execute(PREPARE)
            cursor.execute(PREPARE_CHARGE)
        raw._instant_prepared = STATEMENT
    try:
        send, charge = _pipelined(
            raw.pgconn,
            (STATEMENT, [_text(params[name]) for name in PARAMETERS]),
            (CHARGE_STATEMENT, [_text(params[name]) for name in CHARGE_PARAMETERS]),
        )
    except BaseException:
        # The connection's state is unknown (a broken pipeline): never reuse it.
        connection.close()
        raise
    for result in (send, charge):
        if result.status in (pq.ExecStatus.TUPLES_OK, pq.ExecStatus.PIPELINE_ABORTED):
            continue
        state = (result.error_field(pq.DiagnosticField.SQLSTATE) or b"").decode()
        if state == DIVISION_BY_ZERO:
            # The balance was enough in the send's snapshot but not once the
            # row was locked (concurrent charges): everything rolled back.
            return None
        message = result.error_message.decode(errors="replace")
        error = errors.lookup(state) if state else errors.DatabaseError
        if issubclass(error, errors.IntegrityError):
            raise IntegrityError(message)
        raise DatabaseError(message)
    if send.ntuples == 0:
        return None
    row = [send.get_value(0, col) for col in range(send.nfields)]
    if charge.ntuples == 0:
        return row, None
    return row, [charge.get_value(0, col) for col in range(charge.nfields)]


def _pipelined(pgconn, *statements):
    """Each ``(name, parameters)`` prepared statement's result, sent in one
    pipeline closed by one sync (libpq pipeline mode)."""
    import select

    from psycopg import pq

    pgconn.enter_pipeline_mode()
    try:
        for name, values in statements:
            pgconn.send_query_prepared(name.encode(), values)
        pgconn.pipeline_sync()
        while pgconn.flush():  # a non-blocking connection: wait to write
            select.select([pgconn.socket], [pgconn.socket], [])
            pgconn.consume_input()
        results = []
        for _ in statements:
            result = pgconn.get_result()
            while pgconn.get_result() is not None:  # one result per statement
                pass
            results.append(result)
        sync = pgconn.get_result()
        if sync is None or sync.status != pq.ExecStatus.PIPELINE_SYNC:
            raise DatabaseError("the send pipeline ended out of order")
    finally:
        pgconn.exit_pipeline_mode()
    return results


def _decimal(value: bytes | None) -> Decimal | None:
    return None if value is None else Decimal(value.decode())


def _text(value) -> bytes | None:
    """A parameter in PostgreSQL's text format (None, str, int, Decimal,
    aware datetime, a list of str as a text array)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat().encode()
    if isinstance(value, list | tuple):
        quoted = (
            '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"' for v in value
        )
        return ("{" + ",".join(quoted) + "}").encode()
    return str(value).encode()


def statement_params(
    *,
    kind,
    token_id,
    account_id,
    phone,
    country,
    operator,
    region,
    tz,
    text,
    parts,
    sender,
    client_ref,
    client_key,
    ttl,
    tags,
    now,
) -> list:
    """The statements' parameters by name (``PARAMETERS`` and
    ``CHARGE_PARAMETERS`` give each statement's order)."""
    options = {"audience_estimate": 1, "invalid_phones": 0}
    if ttl:
        options["ttl"] = ttl
    options["settled"] = True
    options["prepared_done"] = True
    recipient = Recipient(
        phone=phone,
        country=country,
        operator=operator,
        region=region,
        timezone=tz,
        text=text,
        client_ref=client_ref,
        client_key=client_key,
    )
    audience = {
        "group_ids": [],
        "filters": {},
        "phones": [],
        "recipients": [recipient.__dict__],
    }
    head, tail = _reason(kind)
    params = {
        "token": token_id,
        "account": account_id,
        "trust_after": getattr(settings, "MODERATION_TRUST_AFTER", 3),
        "client_ref": client_ref,
        "client_key": client_key,
        "phone": phone,
        "channel": kind.code,
        "sender": sender,
        "shared_senders": list(kind.shared()),
        "service": kind.service,
        "country": country or "RU",
        "operator": operator or "",
        "fallback_price": FALLBACK_PRICES.get(kind.code, Decimal("1.00")),
        "parts": parts,
        "source": Source.COMPAT,
        "campaign_status": Campaign.Status.RUNNING,
        "message_status": S.QUEUED,
        "text": text,
        "options": json.dumps(options),
        "audience": json.dumps(audience, ensure_ascii=False),
        "tags": json.dumps(list(tags), ensure_ascii=False),
        "description": "JSON API v1.0",
        "now": now,
        "region": region or "",
        "timezone": tz or "",
        "expires_at": now + timedelta(seconds=ttl) if ttl else None,
        "reason_head": head,
        "reason_tail": tail,
        "nonce": str(next(_nonces)),
    }
    return params
