"""Scenarios: save, copy, delete; the cost before a launch (worst case,
expected case, SMS only); launch a run.  The engine (``engine.py``) does the
sending."""

import json
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cabinet.formats import money_ru
from contacts.phones import InvalidPhone, normalize_phone
from contacts.selectors import audience_iter, groups_owned
from messaging.models import Source
from messaging.planning import LaunchError, normalise_phones
from messaging.services import campaign_quote

from .blocks import (
    DEFAULT_SUCCESS,
    EXPECTED_SUCCESS,
    BlockError,
    chain_clean,
)
from .models import Hop, Run, Scenario

CENT = Decimal("0.01")
MAX_RECIPIENTS = 1_000_000


def _name(name) -> str:
    name = str(name or "").strip()
    if not name:
        raise BlockError(_("Введите название сценария."))
    if len(name) > 100:
        raise BlockError(_("Название сценария — не длиннее 100 символов."))
    return name


def scenario_save(
    *, account, name, steps, scenario: Scenario | None = None
) -> Scenario:
    """Create or update a scenario; every block is checked as its channel's
    own send.  Raises ``BlockError`` (nothing saved)."""
    name = _name(name)
    cleaned = chain_clean(account, steps)
    if scenario is None:
        scenario = Scenario(account=account)
    scenario.name = name
    scenario.steps = cleaned
    scenario.updated_at = timezone.now()
    scenario.save()
    return scenario


def scenario_copy(*, scenario: Scenario) -> Scenario:
    name = (_("Копия: %(name)s") % {"name": scenario.name})[:100]
    return Scenario.objects.create(
        account_id=scenario.account_id, name=name, steps=list(scenario.steps)
    )


def scenario_delete(*, scenario: Scenario) -> None:
    """Runs keep their own copy of the chain (and their reports)."""
    scenario.delete()


# --- audience and cost ------------------------------------------------------------


@dataclass
class Estimate:
    recipients: int
    steps: list  # [(label, Quote)]
    worst: Decimal
    expected: Decimal
    sms_only: Decimal

    @property
    def saved(self) -> Decimal:
        return max(self.sms_only - self.expected, Decimal("0"))


def _audience_kwargs(group_ids, filters, phones) -> dict:
    return {
        "group_ids": [int(g) for g in group_ids or []],
        "filters": filters or None,
        "phones": list(phones or []),
    }


def _sms_text(steps: list[dict]) -> tuple[str, str]:
    for block in steps:
        if block["channel"] == "sms":
            return block["text"], block.get("sender") or ""
    return steps[0].get("text") or "—", ""


def estimate(*, account, steps: list[dict], group_ids=None, filters=None, phones=None):
    """The cost before launch: each step quoted over the whole audience by the
    planner (stop-lists, unsubscribes, duplicates out), the worst case (every
    step to everyone), the expected case (later steps only for the share the
    earlier ones are expected to miss) and SMS alone."""
    audience = _audience_kwargs(group_ids, filters, phones)
    quotes = []
    worst = expected = Decimal("0")
    miss = 1.0
    try:
        for block in steps:
            quote = campaign_quote(
                account=account,
                channel=block["channel"],
                text=block.get("text") or "",
                sender=block.get("sender") or "",
                content=block.get("content") or {},
                options=block.get("options") or {},
                **audience,
            )
            quotes.append((block.get("label") or block["channel"], quote))
            worst += quote.total
            expected += quote.total * Decimal(str(miss))
            miss *= 1 - EXPECTED_SUCCESS.get(block["channel"], DEFAULT_SUCCESS)
        text, sender = _sms_text(steps)
        sms = campaign_quote(account=account, channel="sms", text=text, **audience)
    except LaunchError as exc:
        raise BlockError(exc.message) from exc
    recipients = max((q.messages for _l, q in quotes), default=0)
    return Estimate(
        recipients=recipients,
        steps=quotes,
        worst=worst.quantize(CENT),
        expected=expected.quantize(CENT),
        sms_only=sms.total.quantize(CENT),
    )


def _recipients(account, *, group_ids, filters, phones, direct=None) -> list[dict]:
    """The run's recipients, one per number: given directly (a phone with,
    maybe, its own text and the integrator's id), pasted numbers, then
    groups."""
    good, bad = normalise_phones(phones or [])
    seen: dict[str, dict] = {}
    for r in direct or []:
        known = {k: v for k, v in r.items() if k in ("text", "client_ref") and v}
        try:
            seen.setdefault(normalize_phone(r["phone"]), known)
        except InvalidPhone as exc:
            bad.append((r["phone"], exc.reason))
    for phone in good:
        seen.setdefault(phone, {})
    if group_ids:
        for chunk in audience_iter(
            account_id=account.pk, group_ids=group_ids, filters=filters or None
        ):
            for c in chunk:
                if c["phone"] not in seen:
                    seen[c["phone"]] = {
                        k: c.get(k)
                        for k in (
                            "country",
                            "operator",
                            "region",
                            "timezone",
                            "contact_id",
                        )
                        if c.get(k)
                    }
    if not seen:
        detail = "; ".join(f"{raw}: {why}" for raw, why in bad[:5])
        raise LaunchError(
            "Нет получателей" + (f" ({detail})" if detail else "") + ".",
            code="no_recipients",
            field="phones",
        )
    if len(seen) > MAX_RECIPIENTS:
        raise LaunchError(
            f"Слишком много получателей: не более {MAX_RECIPIENTS}.", code="too_many"
        )
    return [{"phone": p, **known} for p, known in seen.items()]


def run_launch(
    *,
    account,
    scenario: Scenario,
    group_ids=None,
    filters=None,
    phones=None,
    recipients=None,
    send_at=None,
    user=None,
    source: str = Source.CABINET,
    client_id: str = "",
) -> Run:
    """Start a scenario for an audience, now or at ``send_at``.  The chain is
    checked again (a sender may have been withdrawn since it was saved); the
    worst case must be payable.  Raises ``BlockError`` or ``LaunchError``
    (nothing sent)."""
    if account.is_blocked:
        raise LaunchError("Аккаунт заблокирован: отправка недоступна.", code="blocked")
    if client_id:
        existing = Run.objects.filter(account=account, client_id=client_id).first()
        if existing:
            return existing
    steps = chain_clean(account, scenario.steps)
    if group_ids:
        try:
            groups_owned(account_id=account.pk, group_ids=[int(g) for g in group_ids])
        except Exception as exc:  # a foreign, deleted or malformed group id
            raise LaunchError(
                "Группа не найдена.", code="not_found", field="group_ids"
            ) from exc
    given = recipients
    recipients = _recipients(
        account, group_ids=group_ids, filters=filters, phones=phones, direct=given
    )
    cost = estimate(
        account=account,
        steps=steps,
        group_ids=group_ids,
        filters=filters,
        phones=list(phones or []) + [r["phone"] for r in given or []],
    )
    account.refresh_from_db(fields=["balance", "credit_limit"])
    available = account.balance + account.credit_limit
    if cost.worst > available:
        raise LaunchError(
            f"Недостаточно средств: в худшем случае сценарий стоит "
            f"{money_ru(cost.worst)}, доступно {money_ru(available)}. "
            "Пополните баланс.",
            code="insufficient_funds",
        )
    now = timezone.now()
    if send_at is not None and timezone.is_naive(send_at):
        send_at = timezone.make_aware(send_at)
    later = send_at is not None and send_at > now
    with transaction.atomic():
        run = Run.objects.create(
            account=account,
            scenario=scenario,
            name=scenario.name,
            steps=steps,
            audience={
                "group_ids": [int(g) for g in group_ids or []],
                "filters": filters or {},
                "phones": len(phones or []) + len(given or []),
            },
            source=source,
            status=Run.Status.SCHEDULED if later else Run.Status.RUNNING,
            created_by=user,
            send_at=send_at,
            recipients=len(recipients),
            worst_cost=cost.worst,
            expected_cost=cost.expected,
            sms_only_cost=cost.sms_only,
            client_id=client_id,
        )
        due = send_at if later else now
        _write_first_hops(run, recipients, due)
        if not later:
            transaction.on_commit(_nudge)
    return run


def _write_first_hops(run: Run, recipients: list[dict], due) -> None:
    """Step 1's hops, one per recipient: set-based on PostgreSQL (one INSERT
    from arrays per 20,000; ``bulk_create`` took 26 s for 100,000)."""
    if connection.vendor != "postgresql":
        Hop.objects.bulk_create(
            [
                Hop(
                    run=run,
                    account_id=run.account_id,
                    step=0,
                    phone=r["phone"],
                    recipient={k: v for k, v in r.items() if k != "phone"},
                    state=Hop.State.PENDING,
                    decide_at=due,
                )
                for r in recipients
            ],
            batch_size=5000,
        )
        return
    table = Hop._meta.db_table
    with connection.cursor() as cur:
        for i in range(0, len(recipients), 20000):
            part = recipients[i : i + 20000]
            cur.execute(
                f"INSERT INTO {table} (run_id, account_id, step, phone, recipient, "
                "state, decide_at, late, reason) "
                "SELECT %s, %s, 0, r.phone, r.rec::jsonb, %s, %s, false, '' "
                "FROM unnest(%s::text[], %s::text[]) AS r(phone, rec)",
                [
                    run.pk,
                    run.account_id,
                    Hop.State.PENDING,
                    due,
                    [r["phone"] for r in part],
                    [
                        json.dumps(
                            {k: v for k, v in r.items() if k != "phone"},
                            ensure_ascii=False,
                        )
                        for r in part
                    ],
                ],
            )


def _nudge() -> None:
    from .tasks import sweep

    sweep.delay()


def run_cancel(*, run: Run) -> int:
    """Stop a run: recipients not yet sent a step get nothing more (messages
    already handed to the pipeline go on as campaigns of their own)."""
    with transaction.atomic():
        n = Hop.objects.filter(run=run, state=Hop.State.PENDING).update(
            state=Hop.State.FAILED,
            reason="Сценарий остановлен",
            decided_at=timezone.now(),
        )
        Hop.objects.filter(run=run, state=Hop.State.WAITING).update(
            state=Hop.State.FAILED,
            reason="Сценарий остановлен",
            decided_at=timezone.now(),
        )
        Run.objects.filter(
            pk=run.pk, status__in=[Run.Status.RUNNING, Run.Status.SCHEDULED]
        ).update(status=Run.Status.CANCELLED, finished_at=timezone.now())
    return n
