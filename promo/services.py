"""Writes of the promo app: actions, managers, code issuing (for the SMS
engine), the code check/redeem shared by the check page and the API, and the
reminder rounds."""

import logging
from dataclasses import dataclass
from datetime import datetime
from operator import itemgetter

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Value
from django.db.models.functions import Replace
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from cabinet import ratelimit
from contacts.phones import lookup
from messaging.models import Campaign, Message
from messaging.rendering import COMMAND, COUPON
from messaging.services import LaunchError, Recipient, campaign_launch

from . import codes as codegen
from .models import (
    CODE_LENGTH_MAX,
    CODE_LENGTH_MIN,
    PromoAction,
    PromoCode,
    PromoManager,
)
from .selectors import action_get

log = logging.getLogger(__name__)


class PromoError(LaunchError):
    """A promo operation that cannot be done; ``message`` is for the user.

    A subclass of ``messaging.services.LaunchError`` so a campaign launch that
    fails on its promo codes reports like any other launch error."""


class PromoThrottled(PromoError):
    def __init__(self, message: str, *, retry_after: int):
        super().__init__(message, code="throttled")
        self.retry_after = retry_after


# --- actions ------------------------------------------------------------------

ACTION_FIELDS = (
    "name",
    "starts_at",
    "valid_days",
    "code_length",
    "instruction",
    "reminders_enabled",
    "reminder_after_days",
    "reminder_every_days",
    "reminder_count",
    "reminder_text",
    "reminder_sender",
)


def _clean_action(data: dict) -> dict:
    values = {k: data[k] for k in ACTION_FIELDS if k in data}
    if "name" in values:
        values["name"] = (values["name"] or "").strip()
        if not values["name"]:
            raise PromoError(_("Введите название акции."), field="name")
    length = values.get("code_length")
    if length is not None and not CODE_LENGTH_MIN <= int(length) <= CODE_LENGTH_MAX:
        raise PromoError(_("Длина кода — число от 4 до 15."), field="code_length")
    if (
        values.get("reminders_enabled")
        and not (values.get("reminder_text") or "").strip()
    ):
        raise PromoError(_("Введите текст напоминания."), field="reminder_text")
    return values


def action_create(*, account_id: int, **data) -> PromoAction:
    values = _clean_action(data)
    return PromoAction.objects.create(account_id=account_id, **values)


def action_update(*, action: PromoAction, **data) -> PromoAction:
    """Edit an action.  The code length cannot change once codes were sent
    (they would no longer match the action)."""
    values = _clean_action(data)
    if (
        "code_length" in values
        # Compare with the stored value: a bound ModelForm already changed ours.
        and int(values["code_length"])
        != PromoAction.objects.values_list("code_length", flat=True).get(pk=action.pk)
        and PromoCode.objects.filter(action_id=action.pk).exists()
    ):
        raise PromoError(
            _("Длину кода нельзя изменить: коды этой акции уже отправлены."),
            field="code_length",
        )
    for key, value in values.items():
        setattr(action, key, value)
    action.save(update_fields=list(values))
    return action


def action_set_active(*, action: PromoAction, active: bool) -> None:
    PromoAction.objects.filter(pk=action.pk).update(is_active=active)
    action.is_active = active


# --- issuing codes -------------------------------------------------------------


class PromoCodeIssuer:
    """Issues one unique code per recipient of a campaign and writes them in bulk.

    The engine calls ``issue`` while rendering each ``[couponCode]`` and
    ``flush`` in the transaction that writes the message rows, *after* writing
    them (on a rare clash with a code stored meanwhile, ``flush`` gives the
    message a fresh code and rewrites that code in the message's text).

    Raises ``PromoError`` (a ``LaunchError``) for a foreign or missing action
    (code ``not_found``), an inactive one, or when the account would hold more
    codes of this length than is safe against guessing (``promo.codes.SAFETY``).
    """

    POOL = 10000  # codes generated (and checked against the database) at a time

    def __init__(
        self,
        *,
        account_id: int,
        action_id: int,
        campaign_id: int | None,
        expected: int | None = None,
    ):
        try:
            self.action = action_get(account_id=account_id, action_id=action_id)
        except PromoAction.DoesNotExist:
            # A LaunchError, so a campaign naming a foreign action is refused
            # (not_found) like any other bad launch.
            raise PromoError(
                _("Промо-акция не найдена."), code="not_found", field="promo_action"
            ) from None
        if not self.action.is_active:
            raise PromoError(
                _("Промо-акция «%(name)s» завершена.") % {"name": self.action.name},
                code="promo_inactive",
                field="promo_action",
            )
        self.account_id = account_id
        self.campaign_id = campaign_id
        self.length = self.action.code_length
        self.now = timezone.now()
        # Codes of this length the account already holds (all actions).
        self.existing = PromoCode.objects.filter(
            account_id=account_id, action__code_length=self.length
        ).count()
        self.capacity = codegen.capacity(self.length)
        self.issued = 0
        self._pool: list[str] = []
        self._seen: set[str] = set()
        self._rows: list[tuple[str, str, int | None]] = []
        self.replaced: dict[str, str] = {}
        if expected is None and campaign_id is not None:
            expected = _audience_estimate(campaign_id)
        if expected:
            self.check_capacity(expected)

    def check_capacity(self, count: int) -> None:
        total = self.existing + count
        if total > self.capacity:
            need = codegen.min_length_for(total)
            if need > CODE_LENGTH_MAX:
                message = _("Слишком много промокодов для одного аккаунта.")
            else:
                message = ngettext(
                    "Длина кода %(length)s слишком мала для %(total)s промокода: "
                    "такие коды можно подобрать перебором. Выберите в акции длину "
                    "кода не меньше %(need)s.",
                    "Длина кода %(length)s слишком мала для %(total)s промокодов: "
                    "такие коды можно подобрать перебором. Выберите в акции длину "
                    "кода не меньше %(need)s.",
                    total,
                ) % {"length": self.length, "total": total, "need": need}
            raise PromoError(message, code="promo_code_length", field="promo_action")

    def issue(self, *, phone: str, message_id: int | None) -> str:
        """A new code for this recipient (kept in memory until ``flush``)."""
        if not self._pool:
            self.check_capacity(self.issued + 1)
            self._refill()
        code = self._pool.pop()
        self._rows.append((code, phone, message_id))
        self.issued += 1
        return code

    def _refill(self) -> None:
        want = max(1, min(self.POOL, self.capacity - self.existing - self.issued))
        fresh: list[str] = []
        for code in codegen.random_codes(want, self.length):
            if code not in self._seen:
                self._seen.add(code)
                fresh.append(code)
        if self.existing:
            taken = _existing_codes(self.account_id, fresh)
            fresh = [c for c in fresh if c not in taken]
        # Issued in random order: sorting pools would tell a recipient that
        # the next recipient's code is a little above theirs.
        self._pool = fresh

    def flush(self) -> int:
        """Write the buffered codes (bound to their phones, messages and the
        campaign) in the caller's transaction.  Returns how many were written."""
        rows = self._rows
        if not rows:
            return 0
        # In code order the unique index (account, code) is filled left to
        # right instead of at random places: several times faster for big
        # batches (docs/PROMO.md).
        rows.sort(key=itemgetter(0))
        for _attempt in range(5):
            try:
                with transaction.atomic():
                    _write_codes(self, rows)
                break
            except IntegrityError:
                rows = self._regenerate_clashes(rows)
        else:  # pragma: no cover - five clashes in a row cannot happen by chance
            raise PromoError(_("Не удалось сгенерировать уникальные промокоды."))
        PromoAction.objects.filter(
            pk=self.action.pk, first_sent_at__isnull=True
        ).update(first_sent_at=self.now)
        self.existing += len(rows)
        self._rows = []
        if connection.vendor == "postgresql" and len(rows) >= ANALYZE_AFTER:
            # Fresh statistics keep the next issuer's duplicate check on the
            # unique index instead of scanning a table the planner thinks small.
            with connection.cursor() as cur:
                cur.execute("ANALYZE promo_promocode")
        return len(rows)

    def _regenerate_clashes(self, rows):
        """Codes stored by someone else since we drew ours: give those
        recipients fresh codes and fix the texts already written."""
        taken = _existing_codes(self.account_id, [r[0] for r in rows])
        out = []
        for code, phone, message_id in rows:
            if code in taken:
                new = self._fresh_one(taken)
                self.replaced[code] = new
                if message_id is not None:
                    Message.objects.filter(pk=message_id).update(
                        text=Replace("text", Value(code), Value(new))
                    )
                code = new
            out.append((code, phone, message_id))
        return out

    def _fresh_one(self, taken: set[str]) -> str:
        while True:
            code = codegen.random_codes(1, self.length)[0]
            if (
                code not in self._seen
                and code not in taken
                and not _existing_codes(self.account_id, [code])
            ):
                self._seen.add(code)
                return code


def _audience_estimate(campaign_id: int) -> int:
    """The engine's estimate of a campaign's audience (0 when unknown), so a
    code length too short for it is refused before any code is drawn."""
    options = (
        Campaign.objects.filter(pk=campaign_id)
        .values_list("options", flat=True)
        .first()
    )
    try:
        return int((options or {}).get("audience_estimate") or 0)
    except (TypeError, ValueError):
        return 0


def _existing_codes(account_id: int, candidates: list[str]) -> set[str]:
    """Which of ``candidates`` the account already holds."""
    found: set[str] = set()
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute(
                "SELECT code FROM promo_promocode WHERE account_id = %s "
                "AND code = ANY(%s)",
                [account_id, list(candidates)],
            )
            found.update(row[0] for row in cur.fetchall())
        return found
    for i in range(0, len(candidates), 900):
        found.update(
            PromoCode.objects.filter(
                account_id=account_id, code__in=candidates[i : i + 900]
            ).values_list("code", flat=True)
        )
    return found


COPY_THRESHOLD = 500
ANALYZE_AFTER = 50000
CODE_COLUMNS = (
    "account_id",
    "action_id",
    "code",
    "phone",
    "campaign_id",
    "message_id",
    "issued_at",
    "used_by_name",
    "reminders_sent",
)


def _copy_escape(value: str) -> str:
    """A value for COPY's text format (codes never need it; phones might)."""
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        value = (
            value.replace("\\", "\\\\")
            .replace("\t", "\\t")
            .replace("\n", "\\n")
            .replace("\r", "\\r")
        )
    return value


def _copy_text(rows, account_id, action_id, campaign_id, now, block=20000):
    """COPY text-format blocks of code rows: one f-string per row is several
    times faster than psycopg's per-row ``write_row``."""
    head = f"{account_id}\t{action_id}\t"
    null = "\\N"
    camp = null if campaign_id is None else str(campaign_id)
    tail = f"\t{now.isoformat()}\t\t0\n"
    for i in range(0, len(rows), block):
        yield "".join(
            f"{head}{code}\t{_copy_escape(phone)}\t{camp}\t"
            f"{null if mid is None else mid}{tail}"
            for code, phone, mid in rows[i : i + block]
        )


def _write_codes(issuer: PromoCodeIssuer, rows) -> None:
    a, act, camp, now = (
        issuer.account_id,
        issuer.action.pk,
        issuer.campaign_id,
        issuer.now,
    )
    if connection.vendor == "postgresql" and len(rows) >= COPY_THRESHOLD:
        # The raw psycopg cursor's errors become Django's (IntegrityError).
        with connection.cursor() as cur, connection.wrap_database_errors:
            sql = f"COPY promo_promocode ({', '.join(CODE_COLUMNS)}) FROM STDIN"
            with cur.cursor.copy(sql) as copy:
                for block in _copy_text(rows, a, act, camp, now):
                    copy.write(block)
        return
    PromoCode.objects.bulk_create(
        [
            PromoCode(
                account_id=a,
                action_id=act,
                code=code,
                phone=phone,
                campaign_id=camp,
                message_id=message_id,
                issued_at=now,
            )
            for code, phone, message_id in rows
        ],
        batch_size=2000,
    )


# --- managers -------------------------------------------------------------------


def manager_create(
    *, account_id: int, name: str, login: str, password: str
) -> PromoManager:
    name, login = (name or "").strip(), (login or "").strip().lower()
    if not name:
        raise PromoError(_("Введите имя менеджера."), field="name")
    if not login:
        raise PromoError(_("Введите логин."), field="login")
    if len(password or "") < 6:
        raise PromoError(
            _("Пароль должен быть не короче 6 символов."), field="password"
        )
    manager = PromoManager(account_id=account_id, name=name, login=login)
    manager.set_password(password)
    try:
        with transaction.atomic():
            manager.save()
    except IntegrityError:
        raise PromoError(
            _("Логин «%(login)s» уже занят. Выберите другой.") % {"login": login},
            field="login",
        ) from None
    return manager


def manager_remove(*, manager: PromoManager) -> None:
    """Remove a manager login.  Codes they marked used keep the name."""
    manager.delete()


def manager_set_password(*, manager: PromoManager, password: str) -> None:
    if len(password or "") < 6:
        raise PromoError(
            _("Пароль должен быть не короче 6 символов."), field="password"
        )
    manager.set_password(password)
    manager.save(update_fields=["password"])


# --- throttling -------------------------------------------------------------------


def _limit(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def _window() -> int:
    return _limit("PROMO_THROTTLE_WINDOW", 900)


def _reserve(limits: list[ratelimit.Limit]) -> None:
    """Count this attempt against every limit at once (atomic: concurrent
    requests cannot get past a limit together), or raise ``PromoThrottled``."""
    wait = ratelimit.reserve(limits, _window())
    if wait is not None:
        raise PromoThrottled(
            _("Слишком много неудачных попыток. Повторите через %(minutes)s мин.")
            % {"minutes": ratelimit.minutes(wait)},
            retry_after=int(wait),
        )


def _check_limits(
    *, account_id: int, manager_id: int | None, ip: str
) -> list[ratelimit.Limit]:
    limits = []
    if manager_id:
        limits.append(
            ratelimit.Limit(
                f"promo:fail:manager:{manager_id}",
                _limit("PROMO_CHECK_FAILURES_PER_MANAGER", 10),
            )
        )
    else:  # the API: per account
        limits.append(
            ratelimit.Limit(
                f"promo:fail:account:{account_id}",
                _limit("PROMO_CHECK_FAILURES_PER_ACCOUNT", 30),
            )
        )
    if ip:
        limits.append(
            ratelimit.Limit(
                f"promo:fail:ip:{ip}", _limit("PROMO_CHECK_FAILURES_PER_IP", 30)
            )
        )
    return limits


def manager_authenticate(*, login: str, password: str, ip: str = "") -> PromoManager:
    """The check page's sign-in.  Raises ``PromoError`` (wrong login or
    password) or ``PromoThrottled`` (too many failures for this login or IP —
    then the password is not even checked, so the answer tells nothing about
    it).  Each lock of a login or IP lasts twice as long as the one before."""
    login = (login or "").strip().lower()
    limits = [
        ratelimit.Limit(
            f"promo:login:{login}", _limit("PROMO_LOGIN_FAILURES_PER_LOGIN", 5)
        )
    ]
    if ip:
        limits.append(
            ratelimit.Limit(
                f"promo:login-ip:{ip}", _limit("PROMO_LOGIN_FAILURES_PER_IP", 20)
            )
        )
    _reserve(limits)
    manager = (
        PromoManager.objects.select_related("account")
        .filter(login=login, is_active=True)
        .first()
    )
    if (
        manager is None
        or not manager.check_password(password or "")
        or manager.account.is_blocked
    ):
        if manager is None:  # same cost as a real check: no login enumeration
            PromoManager(password="").set_password(password or "")
        ratelimit.penalise(limits, _window())
        raise PromoError(_("Неверный логин или пароль."), code="invalid_credentials")
    # A right password is not a failure, and clears the login's failures.
    ratelimit.release(limits[1:])
    ratelimit.reset(limits[:1])
    PromoManager.objects.filter(pk=manager.pk).update(last_login_at=timezone.now())
    return manager


# --- check and redeem ---------------------------------------------------------------


class CodeStatus:
    VALID = "valid"
    USED = "used"
    EXPIRED = "expired"
    NOT_STARTED = "not_started"
    UNKNOWN = "unknown"


STATUS_LABELS = {
    CodeStatus.VALID: "Промокод действителен",
    CodeStatus.USED: "Промокод уже использован",
    CodeStatus.EXPIRED: "Срок действия промокода истёк",
    CodeStatus.NOT_STARTED: "Акция ещё не началась",
    CodeStatus.UNKNOWN: "Промокод не найден",
}


@dataclass
class CodeCheck:
    status: str
    code: str
    action_id: int | None = None
    action_name: str = ""
    instruction: str = ""
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    used_at: datetime | None = None
    used_by: str = ""
    redeemed: bool = False  # this call marked it used

    @property
    def label(self) -> str:
        return _(STATUS_LABELS[self.status])


def _status_of(code: PromoCode, now: datetime) -> CodeCheck:
    valid_from, valid_until = code.action.code_window(code.issued_at)
    if code.used_at:
        status = CodeStatus.USED
    elif now >= valid_until:
        status = CodeStatus.EXPIRED
    elif now < valid_from:
        status = CodeStatus.NOT_STARTED
    else:
        status = CodeStatus.VALID
    return CodeCheck(
        status=status,
        code=code.code,
        action_id=code.action_id,
        action_name=code.action.name,
        instruction=code.action.instruction,
        valid_from=valid_from,
        valid_until=valid_until,
        used_at=code.used_at,
        used_by=code.used_by_name,
    )


def promo_code_check(
    *, account_id: int, code: str, manager_id: int | None = None, ip: str = ""
) -> CodeCheck:
    """What a code of this account is: valid / used (when, by whom) / expired /
    not started / unknown, with the action's instruction.  Unknown codes count
    as failed guesses per manager (or API account) and per IP; past the limit
    ``PromoThrottled`` is raised before any lookup.  Every check reserves its
    place first (atomic) and gives it back when the code exists."""
    limits = _check_limits(account_id=account_id, manager_id=manager_id, ip=ip)
    _reserve(limits)
    normalized = codegen.normalize_code(code)
    from .selectors import code_find

    found = code_find(account_id=account_id, code=normalized)
    if found is None:
        return CodeCheck(
            status=CodeStatus.UNKNOWN, code=normalized or str(code or "")[:20]
        )
    ratelimit.release(limits)
    return _status_of(found, timezone.now())


def promo_code_redeem(
    *,
    account_id: int,
    code: str,
    manager: PromoManager | None = None,
    ip: str = "",
    by_name: str = "",
) -> CodeCheck:
    """Mark a valid code used, once: a conditional update, so two clerks
    redeeming the same code at once cannot both succeed.  Returns the check
    with ``redeemed=True`` on success; otherwise the reason (used / expired /
    not started / unknown) with ``redeemed=False``."""
    result = promo_code_check(
        account_id=account_id,
        code=code,
        manager_id=manager.pk if manager else None,
        ip=ip,
    )
    if result.status != CodeStatus.VALID:
        return result
    now = timezone.now()
    name = manager.name if manager else (by_name or "API")
    updated = PromoCode.objects.filter(
        account_id=account_id,
        code=result.code,
        used_at__isnull=True,
    ).update(used_at=now, used_by=manager, used_by_name=name[:100])
    if not updated:  # someone redeemed it between the check and now
        return promo_code_check(
            account_id=account_id,
            code=code,
            manager_id=manager.pk if manager else None,
            ip=ip,
        )
    result.status = CodeStatus.USED
    result.used_at = now
    result.used_by = name
    result.redeemed = True
    return result


# --- reminders ------------------------------------------------------------------------


def reminders_due(*, now: datetime | None = None) -> list[int]:
    """Ids of actions whose next reminder round is due."""
    now = now or timezone.now()
    due = []
    for action in PromoAction.objects.filter(
        reminders_enabled=True,
        is_active=True,
        first_sent_at__isnull=False,
        reminder_rounds_done__lt=F("reminder_count"),
    ).only(
        "id",
        "reminders_enabled",
        "first_sent_at",
        "reminder_after_days",
        "reminder_every_days",
        "reminder_count",
        "reminder_rounds_done",
    ):
        at = action.reminder_due_at(action.reminder_rounds_done + 1)
        if at is not None and at <= now:
            due.append(action.pk)
    return due


def reminder_round_send(*, action_id: int, now: datetime | None = None) -> int:
    """Send the action's next due reminder round to recipients who have not used
    their (still valid) code, through the SMS engine.  Exactly once per round:
    the action row is locked, the round number advances in the same
    transaction, and the campaign's ``client_id`` names the round.  Returns the
    number of reminders sent (0 when nothing was due or nobody needed one)."""
    now = now or timezone.now()
    with transaction.atomic():
        action = (
            PromoAction.objects.select_for_update()
            .select_related("account")
            .filter(pk=action_id)
            .first()
        )
        if action is None or not action.is_active:
            return 0
        round_no = action.reminder_rounds_done + 1
        at = action.reminder_due_at(round_no)
        if at is None or at > now:
            return 0
        # Codes that have been out at least ``reminder_after_days`` and are
        # still usable: validity ends (start or sending) + valid_days.
        codes = list(_reminder_candidates(action, now, at))
        count = 0
        if codes:
            count = _reminder_launch(action, round_no, codes)
            if count < 0:
                return 0
        PromoAction.objects.filter(pk=action.pk).update(
            reminder_rounds_done=round_no, reminder_error=""
        )
    return count


def _reminder_launch(action: PromoAction, round_no: int, codes: list[tuple]) -> int:
    """Launch one reminder campaign (each recipient's own code in its text) and
    count the reminder on every code it reached.  -1 when the launch failed
    (the error is kept on the action and the round is retried later)."""
    recipients = []
    for _id, code, phone in codes:
        info = lookup(phone)
        recipients.append(
            Recipient(
                phone=phone,
                country=info.country,
                operator=info.operator,
                region=info.region,
                timezone=info.timezone,
                text=_reminder_text(action, code),
            )
        )
    try:
        campaign = campaign_launch(
            account=action.account,
            channel="sms",
            text=action.reminder_text,
            sender=action.reminder_sender,
            recipients=recipients,
            source="scheduler",
            description=f"Напоминание по акции «{action.name}» ({round_no})"[:300],
            client_id=f"promo-reminder:{action.pk}:{round_no}",
        )
    except LaunchError as exc:
        PromoAction.objects.filter(pk=action.pk).update(
            reminder_error=exc.message[:300]
        )
        log.warning("promo reminder %s/%s failed: %s", action.pk, round_no, exc.message)
        return -1
    # Large rounds are prepared after commit: every candidate not excluded by
    # the stop-list counts as reminded.
    reached = (
        set(
            Message.objects.filter(campaign_id=campaign.pk).values_list(
                "phone", flat=True
            )
        )
        if campaign.recipients
        else {phone for _id, _code, phone in codes}
    )
    ids = [cid for cid, _code, phone in codes if phone in reached]
    for i in range(0, len(ids), 5000):
        PromoCode.objects.filter(pk__in=ids[i : i + 5000]).update(
            reminders_sent=F("reminders_sent") + 1
        )
    return len(ids)


def _reminder_candidates(action: PromoAction, now: datetime, due_at: datetime):
    from datetime import timedelta

    issued_before = due_at - timedelta(days=action.reminder_after_days)
    days = timedelta(days=action.valid_days)
    qs = PromoCode.objects.filter(
        action_id=action.pk, used_at__isnull=True, issued_at__lte=issued_before
    )
    # Still valid: max(start, issued) + days > now.
    if not (action.starts_at and action.starts_at + days > now):
        qs = qs.filter(issued_at__gt=now - days)
    return (
        qs.order_by("id").values_list("id", "code", "phone").iterator(chunk_size=5000)
    )


def _reminder_text(action: PromoAction, code: str) -> str:
    def sub(match):
        return code if match.group(1).strip().lower() == COUPON else match.group(0)

    return COMMAND.sub(sub, action.reminder_text)
