"""Moderation is one model (ARCHITECTURE.md, "Wave 2").

Everything staff approve or reject — sender names, moderation templates,
campaigns, and next audio files, VK/OK letters, withdrawals — keeps its decision
in the fields of ``Decidable`` and is decided by one service, ``decide``:

* under a row lock on the item, so two staff members (or a double click) cannot
  decide it twice: deciding an item that is no longer pending changes nothing;
* a rejection needs a reason: one of the item's ``Reason`` codes (when it has
  a list, e.g. the manual's reasons for sender names) or a text;
* the client is notified through ``cabinet.notifications.notify`` with
  the item's own wording (``Decidable.decision_notice``);
* ``decided`` is sent after the decision commits, for apps to react to.

Each app registers a queue per kind in its ``AppConfig.ready()``
(``register_queue``): a label, the queryset of items waiting for staff and the
admin page that decides them.  The staff console lists ``queues()``; ``decide``
refuses a model without a registered queue, so a kind cannot be decided without
the engine effects its queue registers (``apply``, e.g. a campaign's messages
becoming due).  Registering twice, or after start-up, is an error.

The admin behaviour every moderated model shares is in
``cabinet.moderation_admin.DecisionAdmin``.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models, transaction
from django.db.models import QuerySet
from django.dispatch import Signal
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import Notification
from .notifications import notify

MAX_TEXT = 300

# Sent after the transaction that decided an item commits (never for a repeated
# decision).  sender: the item's model; kwargs: item (the decided row),
# approved (bool), staff_user (or None).  Receivers must be fast.
decided = Signal()


class Decision(models.TextChoices):
    PENDING = "pending", gettext_lazy("На рассмотрении")
    APPROVED = "approved", gettext_lazy("Одобрено")
    REJECTED = "rejected", gettext_lazy("Отклонено")


# The fields a decision writes (and the admin shows read-only).
DECISION_FIELDS = (
    "status",
    "reason",
    "reason_text",
    "comment",
    "decided_at",
    "decided_by",
)


@dataclass(frozen=True)
class Notice:
    """What the client is told about a decision (a notification)."""

    title: str
    body: str = ""
    url: str = ""
    kind: str = Notification.Kind.MODERATION


class Decidable(models.Model):
    """The decision part of an item staff moderate.

    A subject model inherits it, has an ``account`` (whose notifications get the
    decision), may set ``Reason`` to a ``TextChoices`` of its rejection reasons
    (and then redeclare ``reason`` with those choices), and words its notice in
    ``decision_notice``.  ``status`` keeps the name (and column) the first
    moderated models had, so their rows and raw SQL readers stay as they are."""

    Status = Decision
    # The item's rejection reasons, or None: a rejection then needs a text.
    Reason: type[models.TextChoices] | None = None
    # The code of ``Reason`` whose meaning is in the text ("other").
    REASON_NEEDING_TEXT = "other"

    status = models.CharField(
        gettext_lazy("статус"),
        max_length=16,
        choices=Decision.choices,
        default=Decision.PENDING,
    )
    reason = models.CharField(gettext_lazy("причина отказа"), max_length=32, blank=True)
    reason_text = models.CharField(
        gettext_lazy("причина отказа (текст)"), max_length=MAX_TEXT, blank=True
    )
    comment = models.CharField(
        gettext_lazy("комментарий модератора"), max_length=MAX_TEXT, blank=True
    )
    created_at = models.DateTimeField(gettext_lazy("поступило"), default=timezone.now)
    decided_at = models.DateTimeField(
        gettext_lazy("решение принято"), null=True, blank=True
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=gettext_lazy("модератор"),
    )

    class Meta:
        abstract = True

    @property
    def is_pending(self) -> bool:
        return self.status == Decision.PENDING

    @property
    def reason_display(self) -> str:
        """The reason as the client reads it: the code's wording and/or the
        text ("" when there is none)."""
        parts = []
        if self.reason and self.Reason is not None:
            if self.reason != self.REASON_NEEDING_TEXT or not self.reason_text:
                parts.append(str(self.Reason(self.reason).label))
        elif self.reason:
            parts.append(self.reason)
        if self.reason_text:
            parts.append(self.reason_text)
        return ". ".join(parts)

    def decision_notice(self) -> Notice | None:
        """The client's notification about this decision, in the item's words.
        Subjects override it; None notifies nobody."""
        verdict = _("одобрено") if self.status == Decision.APPROVED else _("отклонено")
        body = self.reason_display if self.status == Decision.REJECTED else ""
        return Notice(
            title=f"{self._meta.verbose_name.capitalize()} «{self}»: {verdict}",
            body="\n".join(p for p in (body, self.comment) if p),
        )

    def reopen(self) -> list[str]:
        """Send the item back to staff (e.g. the client changed it); returns the
        fields to save."""
        self.status = Decision.PENDING
        self.reason = self.reason_text = self.comment = ""
        self.decided_at = self.decided_by = None
        return list(DECISION_FIELDS)


class DecisionError(ValueError):
    """A decision that cannot be made; ``message`` is for the staff member."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# --- queues ---------------------------------------------------------------------


@dataclass(frozen=True)
class Queue:
    """One kind of item waiting for staff."""

    key: str
    label: str
    model: type[models.Model]
    pending: Callable[[], QuerySet]
    admin_url: Callable[[], str]
    # Engine effects of a decision, run by ``decide`` inside its transaction,
    # under the item's lock, after the decision fields are saved; may raise
    # ``DecisionError`` to refuse (nothing is then changed).
    apply: Callable[[models.Model], None] | None = None

    def count(self) -> int:
        return self.pending().count()

    def url(self) -> str:
        return self.admin_url()

    def allowed(self, user) -> bool:
        """Whether this staff member works the queue: an active superuser, or
        active staff holding the model's «change» permission (given per user
        or group in the admin) — a support agent need not mark invoices paid."""
        opts = self.model._meta
        return bool(user.is_active and user.is_staff) and user.has_perm(
            f"{opts.app_label}.change_{opts.model_name}"
        )


_queues: dict[str, Queue] = {}


def _default_admin_url(model) -> Callable[[], str]:
    def url() -> str:
        opts = model._meta
        base = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        return f"{base}?status__exact={Decision.PENDING}"

    return url


def register_queue(
    *,
    model: type[models.Model],
    label: str,
    pending: Callable[[], QuerySet] | None = None,
    admin_url: Callable[[], str] | None = None,
    apply: Callable[[models.Model], None] | None = None,
    key: str | None = None,
) -> Queue:
    """Register a staff queue; call from ``AppConfig.ready()``.

    ``pending`` defaults to the model's pending decisions, ``admin_url`` to its
    admin list filtered to them, ``key`` to the model's label
    (``messaging.sendername``)."""
    if apps.ready:
        raise ImproperlyConfigured(
            f"moderation queue for {model._meta.label} registered after start-up: "
            "register it in AppConfig.ready()"
        )
    key = key or model._meta.label_lower
    if key in _queues:
        raise ImproperlyConfigured(f"moderation queue {key!r} is registered twice")
    decidable = issubclass(model, Decidable)
    if any(q.model is model for q in _queues.values()) and decidable:
        raise ImproperlyConfigured(
            f"{model._meta.label} already has a moderation queue: one per model"
        )
    if pending is None:
        if not decidable:
            raise ImproperlyConfigured(f"queue {key!r}: give the pending queryset")

        def pending():
            return model._default_manager.filter(status=Decision.PENDING)

    if apply is not None and not decidable:
        raise ImproperlyConfigured(f"queue {key!r}: {model} is not Decidable")
    queue = Queue(
        key=key,
        label=label,
        model=model,
        pending=pending,
        admin_url=admin_url or _default_admin_url(model),
        apply=apply,
    )
    _queues[key] = queue
    return queue


def queues() -> list[Queue]:
    """Every registered queue, in registration order."""
    return list(_queues.values())


def queue_for(model: type[models.Model]) -> Queue:
    for klass in model.__mro__:
        for queue in _queues.values():
            if queue.model is klass:
                return queue
    raise ImproperlyConfigured(
        f"{model._meta.label} has no moderation queue: register one in its "
        "AppConfig.ready() (cabinet.moderation.register_queue)"
    )


# --- the decision service ------------------------------------------------------------


def reason_check(
    model: type[Decidable], *, reason: str = "", reason_text: str = ""
) -> tuple[str, str]:
    """The cleaned (code, text) of a rejection, or ``DecisionError``: a
    rejection needs a known code or a text, and the "other" code a text."""
    reason = (reason or "").strip()
    reason_text = (reason_text or "").strip()[:MAX_TEXT]
    if reason:
        if model.Reason is None or reason not in model.Reason.values:
            raise DecisionError(
                _("Неизвестная причина отказа «%(r)s».") % {"r": reason}
            )
        if reason == model.REASON_NEEDING_TEXT and not reason_text:
            raise DecisionError(_("Опишите причину отказа."))
    elif not reason_text:
        raise DecisionError(_("Укажите причину отказа."))
    return reason, reason_text


@dataclass(frozen=True)
class Decided:
    item: Decidable
    # False when the item had already been decided: nothing changed.
    changed: bool


def decide(
    *,
    item: Decidable,
    approve: bool,
    reason: str = "",
    reason_text: str = "",
    comment: str = "",
    staff_user=None,
) -> Decided:
    """Approve or reject ``item`` (any registered ``Decidable``).  Deciding an
    item that is no longer pending changes nothing (``changed`` is False).
    ``staff_user`` is the deciding staff member (None: the system decides).
    ``DecisionError`` for a rejection without a reason, a decider who is not
    staff, or when the item's queue refuses the decision; nothing is changed
    then."""
    model = type(item)
    queue = queue_for(model)
    if staff_user is not None and not (staff_user.is_active and staff_user.is_staff):
        raise DecisionError(_("Решение может принять только сотрудник."))
    if approve:
        reason, reason_text = "", ""
    else:
        reason, reason_text = reason_check(
            model, reason=reason, reason_text=reason_text
        )
    with transaction.atomic():
        row = model._default_manager.select_for_update().get(pk=item.pk)
        if row.status != Decision.PENDING:
            return Decided(item=row, changed=False)
        row.status = Decision.APPROVED if approve else Decision.REJECTED
        row.reason = reason
        row.reason_text = reason_text
        row.comment = (comment or "").strip()[:MAX_TEXT]
        row.decided_at = timezone.now()
        row.decided_by = staff_user
        row.save(update_fields=list(DECISION_FIELDS))
        if queue.apply is not None:
            queue.apply(row)
        notice = row.decision_notice()
        if notice is not None:
            notify(
                account_id=row.account_id,
                title=notice.title,
                body=notice.body,
                kind=notice.kind,
                url=notice.url,
            )
        transaction.on_commit(
            partial(
                decided.send,
                sender=model,
                item=row,
                approved=approve,
                staff_user=staff_user,
            )
        )
    return Decided(item=row, changed=True)
