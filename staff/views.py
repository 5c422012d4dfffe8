"""The staff console (/staff/): a queue per kind of item waiting for staff
(the ``cabinet.moderation`` registry), an account page, the partner reward
rates, the audit log and the carrier links' health.  Active staff only: anybody
else gets 403.  Within the console each part asks for its Django permission (a
superuser has all): a queue the «change» permission of its model
(``Queue.allowed``), the accounts ``cabinet.view_account`` (and per action:
``billing.add_ledgerentry`` to adjust the balance, ``cabinet.change_account`` for
the tier and blocking, ``cabinet.change_apitoken`` to revoke a token), the rates
``partners.change_rewardrate``; the audit log and the carrier links any staff
member."""

from datetime import datetime
from functools import wraps

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from billing.models import TariffTier
from cabinet import moderation
from cabinet.models import Account
from messaging import health as carrier_health
from partners.models import RewardRate

from . import selectors, services


def staff_view(view=None, *, perm: str = ""):
    """Active staff only (403 for anybody else signed in), holding ``perm``
    when one is given."""

    def decorate(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(
                    request.get_full_path(), reverse("admin:login")
                )
            if not (user.is_active and user.is_staff):
                raise PermissionDenied
            if perm and not user.has_perm(perm):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorate(view) if view is not None else decorate


# What each action of the account page needs.
ACCOUNT_ACTION_PERMS = {
    "adjust": "billing.add_ledgerentry",
    "tier": "cabinet.change_account",
    "block": "cabinet.change_account",
    "unblock": "cabinet.change_account",
    "revoke": "cabinet.change_apitoken",
}


def _queue_or_404(key, user):
    """The queue, 404 when there is none, 403 when this staff member may not
    work it."""
    q = selectors.queue(key)
    if q is None:
        raise Http404
    if not q.allowed(user):
        raise PermissionDenied
    return q


def _kind(q) -> str:
    if issubclass(q.model, moderation.Decidable):
        return "decision"
    return q.key  # billing.invoice, cabinet.ticket, messaging.advertisingrequest


@staff_view
def index(request):
    rows = [
        {"q": q, "count": q.count()}
        for q in moderation.queues()
        if q.allowed(request.user)
    ]
    return render(request, "staff/index.html", {"queues": rows})


@staff_view
def queue_view(request, key):
    q = _queue_or_404(key, request.user)
    items = selectors.pending(q)
    held = services.claims(queue=q, ids=[i.pk for i in items])
    rows = [{"item": i, "holder": held.get(i.pk)} for i in items]
    return render(
        request, "staff/queue.html", {"q": q, "rows": rows, "count": q.count()}
    )


@require_POST
@staff_view
def queue_next(request, key):
    q = _queue_or_404(key, request.user)
    item = services.claim_next(queue=q, staff=request.user)
    if item is None:
        messages.info(request, _("В очереди нет свободных записей."))
        return redirect("staff:queue", key=key)
    return redirect("staff:item", key=key, pk=item.pk)


def _details(q, item) -> list[tuple[str, object]]:
    """The item's fields as staff read them."""
    skip = {
        "id",
        "status",
        "reason",
        "reason_text",
        "comment",
        "decided_at",
        "decided_by",
        "path",
        "sha256",
        "payer",
        "content",
        "options",
        "audience",
        "heartbeat_at",
        "prepared",
        "client_id",
        "campaign",
        "account",
    }
    rows = []
    if q.key == "messaging.campaignmoderation":
        c = item.campaign
        rows += [
            (
                _("Рассылка"),
                f"#{c.pk} · {c.channel}",
            ),
            (_("Отправитель"), c.sender),
            (_("Текст"), c.text or c.content),
            (_("Размер аудитории"), c.recipients),
            (_("Время отправки"), c.send_at or c.created_at),
        ]
    for f in item._meta.concrete_fields:
        if f.name in skip:
            continue
        value = getattr(item, f.name)
        if f.choices:
            value = getattr(item, f"get_{f.name}_display")()
        rows.append((str(f.verbose_name).capitalize(), _shown(value)))
    return [(label, _shown(value)) for label, value in rows]


def _shown(value):
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%d.%m.%Y %H:%M:%S")
    if value is None:
        return "—"
    return value


def _audio_url(q, item) -> str:
    if q.key != "voice.audiofile":
        return ""
    try:
        return reverse("voice:audio_play", args=[item.pk])
    except NoReverseMatch:
        return ""


@staff_view
def item(request, key, pk):
    q = _queue_or_404(key, request.user)
    row = q.model._default_manager.filter(pk=pk).first()
    if row is None:
        raise Http404
    kind = _kind(q)
    if request.method == "POST":
        action = request.POST.get("action", "")
        p = request.POST
        try:
            if action == "release":
                services.release(queue=q, object_id=pk, staff=request.user)
                messages.success(request, _("Запись возвращена в очередь."))
                return redirect("staff:queue", key=key)
            if kind == "decision" and action in ("approve", "reject"):
                services.decide(
                    queue=q,
                    object_id=pk,
                    staff=request.user,
                    approve=action == "approve",
                    reason=p.get("reason", ""),
                    reason_text=p.get("reason_text", ""),
                    comment=p.get("comment", ""),
                )
                messages.success(
                    request,
                    _("Одобрено, клиент уведомлён.")
                    if action == "approve"
                    else _("Отклонено, клиент уведомлён."),
                )
            elif kind == "billing.invoice" and action == "paid":
                services.invoice_paid(queue=q, object_id=pk, staff=request.user)
                messages.success(request, _("Счёт оплачен, баланс пополнен."))
            elif kind == "cabinet.ticket" and action == "answer":
                services.ticket_answer(
                    queue=q, object_id=pk, staff=request.user, body=p.get("body", "")
                )
                messages.success(request, _("Ответ отправлен клиенту."))
            elif kind == "messaging.advertisingrequest" and action == "answer":
                services.advertising(
                    queue=q,
                    object_id=pk,
                    staff=request.user,
                    status=p.get("status", ""),
                    comment=p.get("comment", ""),
                )
                messages.success(request, _("Ответ сохранён, клиент уведомлён."))
            else:
                raise services.ConsoleError(_("Неизвестное действие."))
        except services.ConsoleError as exc:
            messages.error(request, str(exc))
            return redirect("staff:item", key=key, pk=pk)
        return redirect("staff:queue", key=key)
    holder = None
    pending = q.pending().filter(pk=pk).exists()
    if pending:
        try:
            services.claim(queue=q, object_id=pk, staff=request.user)
        except services.ConsoleError:
            holder = services.holder(queue=q, object_id=pk)
    ctx = {
        "q": q,
        "obj": row,
        "kind": kind,
        "pending": pending,
        "holder": holder,
        "details": _details(q, row),
        "audio_url": _audio_url(q, row),
        "reasons": q.model.Reason.choices
        if kind == "decision" and q.model.Reason is not None
        else [],
    }
    if kind == "cabinet.ticket":
        ctx["thread"] = list(row.messages.select_related("author"))
    if kind == "messaging.advertisingrequest":
        ctx["ad_statuses"] = type(row).Status.choices
    return render(request, "staff/item.html", ctx)


@staff_view(perm="cabinet.view_account")
def accounts(request):
    query = request.GET.get("q", "")
    return render(
        request,
        "staff/accounts.html",
        {"rows": selectors.accounts(query), "query": query[:100]},
    )


@staff_view(perm="cabinet.view_account")
def account(request, pk):
    acc = get_object_or_404(Account, pk=pk)
    if request.method == "POST":
        action = request.POST.get("action", "")
        p = request.POST
        needed = ACCOUNT_ACTION_PERMS.get(action)
        if needed and not request.user.has_perm(needed):
            raise PermissionDenied
        try:
            if action == "adjust":
                services.balance_adjust(
                    account=acc,
                    staff=request.user,
                    amount=p.get("amount", ""),
                    reason=p.get("reason", ""),
                )
                messages.success(request, _("Баланс скорректирован."))
            elif action == "tier":
                services.tier_set(account=acc, staff=request.user, tier=p.get("tier"))
                messages.success(request, _("Тарифная ступень сохранена."))
            elif action in ("block", "unblock"):
                services.block(
                    account=acc,
                    staff=request.user,
                    blocked=action == "block",
                    reason=p.get("reason", ""),
                )
                messages.success(
                    request,
                    _("Аккаунт заблокирован.")
                    if action == "block"
                    else _("Аккаунт разблокирован."),
                )
            elif action == "revoke":
                try:
                    token_id = int(p.get("token", ""))
                except ValueError as exc:
                    raise services.ConsoleError(_("Токен не найден.")) from exc
                services.token_revoke(
                    account=acc, staff=request.user, token_id=token_id
                )
                messages.success(request, _("Токен отозван."))
            else:
                raise services.ConsoleError(_("Неизвестное действие."))
        except services.ConsoleError as exc:
            messages.error(request, str(exc))
        return redirect("staff:account", pk=pk)
    acc.refresh_from_db()
    return render(
        request,
        "staff/account.html",
        {
            "acc": acc,
            "users": selectors.account_users(acc.pk),
            "tokens": selectors.account_tokens(acc.pk),
            "campaigns": selectors.account_campaigns(acc.pk),
            "tiers": list(TariffTier.objects.order_by("tier")),
            "audit": selectors.audit(account_id=acc.pk, limit=30),
            # The forms this member may use (the rule: ACCOUNT_ACTION_PERMS).
            "allowed": {
                action: request.user.has_perm(perm)
                for action, perm in ACCOUNT_ACTION_PERMS.items()
            },
        },
    )


@staff_view(perm="partners.change_rewardrate")
def rates(request):
    if request.method == "POST":
        raw = request.POST.get("rate", "")
        rate = (
            RewardRate.objects.filter(pk=int(raw)).first()
            if raw.isdigit() and len(raw) < 10
            else None
        )
        if rate is None:
            messages.error(request, _("Такой ставки нет."))
        else:
            try:
                services.rate_change(
                    rate=rate,
                    staff=request.user,
                    percent=request.POST.get("percent", ""),
                    days=request.POST.get("days", ""),
                )
                messages.success(request, _("Ставка сохранена."))
            except services.ConsoleError as exc:
                messages.error(request, str(exc))
        return redirect("staff:rates")
    return render(request, "staff/rates.html", {"rates": RewardRate.objects.all()})


@staff_view
def audit_log(request):
    return render(request, "staff/audit.html", {"rows": selectors.audit()})


@staff_view
def health(request):
    """«Связь с операторами»: each carrier link and bind as ``/healthz``
    reads it (``messaging.health``) — state, a refused bind's status in words,
    the last error and since when, the messages waiting for it."""
    return render(
        request, "staff/health.html", {"gateways": carrier_health.carrier_links()}
    )
