"""Cabinet pages (Промо-акции, Менеджеры) and the separate promo-code check page.

The check page is its own small site: managers are not cabinet users, they sign
in with a ``PromoManager`` login kept under its own session key, and its pages
use their own phone-friendly layout (``promo/check/base.html``)."""

from django.contrib import messages as flash
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from cabinet.net import client_ip
from cabinet.permissions import SEND, SETTINGS, cabinet_view

from . import selectors, services
from .forms import CheckLoginForm, CodeForm, PromoActionForm, PromoManagerForm
from .models import PromoAction, PromoManager

# --- cabinet: promo actions -------------------------------------------------------


def _action_or_404(request, action_id) -> PromoAction:
    try:
        return selectors.action_get(account_id=request.account.pk, action_id=action_id)
    except PromoAction.DoesNotExist:
        raise Http404 from None


def _save_action(request, form, action=None):
    """Create or update through the service; its errors land on the form."""
    if not form.is_valid():
        return None
    data = {k: form.cleaned_data[k] for k in form.Meta.fields}
    try:
        if action is None:
            return services.action_create(account_id=request.account.pk, **data)
        return services.action_update(action=action, **data)
    except services.PromoError as exc:
        form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        return None


@cabinet_view(SEND)
def actions(request):
    """«Промо-акции»: the list with per-action results and «Создать акцию»."""
    form = PromoActionForm(request.POST or None)
    if request.method == "POST":
        action = _save_action(request, form)
        if action is not None:
            flash.success(
                request, _("Акция «%(name)s» создана.") % {"name": action.name}
            )
            return redirect("promo:actions")
    return render(
        request,
        "promo/actions.html",
        {
            "actions": selectors.actions_with_stats(account_id=request.account.pk),
            "form": form,
            "open_dialog": request.method == "POST" or request.GET.get("create") == "1",
        },
    )


@cabinet_view(SEND)
def action_detail(request, action_id):
    """One action: its report, settings (editable) and codes."""
    action = _action_or_404(request, action_id)
    form = PromoActionForm(request.POST or None, instance=action)
    if request.method == "POST":
        if _save_action(request, form, action) is not None:
            flash.success(request, _("Акция сохранена."))
            return redirect("promo:action_detail", action_id=action.pk)
        action.refresh_from_db()
    stats = selectors.action_stats(
        account_id=request.account.pk, action_ids=[action.pk]
    )
    page = Paginator(
        selectors.action_codes(account_id=request.account.pk, action_id=action.pk), 50
    ).get_page(request.GET.get("page"))
    template = "promo/action_detail.html"
    if request.htmx and not request.htmx.boosted:
        template += "#codes"
    return render(
        request,
        template,
        {
            "action": action,
            "form": form,
            "page": page,
            "stats": stats.get(action.pk, selectors.ActionStats()),
            "next_reminder": action.reminder_due_at(action.reminder_rounds_done + 1),
        },
    )


@require_POST
@cabinet_view(SEND)
def action_toggle(request, action_id):
    """«Завершить» / «Возобновить» an action (a finished one is not offered
    in the send form and its codes cannot be issued any more)."""
    action = _action_or_404(request, action_id)
    services.action_set_active(action=action, active=not action.is_active)
    if action.is_active:
        flash.success(request, _("Акция возобновлена."))
    else:
        flash.success(request, _("Акция завершена."))
    return redirect("promo:action_detail", action_id=action.pk)


# --- cabinet: managers -------------------------------------------------------------


@cabinet_view(SETTINGS)
def managers(request):
    """«Менеджеры»: logins for the check page."""
    form = PromoManagerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            manager = services.manager_create(
                account_id=request.account.pk, **form.cleaned_data
            )
        except services.PromoError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            flash.success(
                request,
                _("Менеджер %(name)s добавлен. Логин: %(login)s")
                % {"name": manager.name, "login": manager.login},
            )
            return redirect("promo:managers")
    return render(
        request,
        "promo/managers.html",
        {
            "managers": selectors.manager_list(account_id=request.account.pk),
            "form": form,
            "open_dialog": request.method == "POST",
            "check_url": request.build_absolute_uri("/promo/check/"),
        },
    )


@require_POST
@cabinet_view(SETTINGS)
def manager_password(request, manager_id):
    """«Сменить пароль»: the manager's open sessions end."""
    try:
        manager = selectors.manager_get(
            account_id=request.account.pk, manager_id=manager_id
        )
    except PromoManager.DoesNotExist:
        raise Http404 from None
    try:
        services.manager_set_password(
            manager=manager, password=request.POST.get("password", "")
        )
    except services.PromoError as exc:
        flash.error(request, exc.message)
    else:
        flash.success(
            request, _("Пароль менеджера %(name)s изменён.") % {"name": manager.name}
        )
    return redirect("promo:managers")


@require_POST
@cabinet_view(SETTINGS)
def manager_remove(request, manager_id):
    try:
        manager = selectors.manager_get(
            account_id=request.account.pk, manager_id=manager_id
        )
    except PromoManager.DoesNotExist:
        raise Http404 from None
    services.manager_remove(manager=manager)
    flash.success(request, _("Менеджер %(name)s удалён.") % {"name": manager.name})
    return redirect("promo:managers")


# --- the check page ----------------------------------------------------------------

SESSION_KEY = "promo_manager"


def _session_hash(manager: PromoManager) -> str:
    # Changes when the password changes: old sessions end.
    return salted_hmac("promo.check.session", manager.password).hexdigest()


def _signed_in_manager(request) -> PromoManager | None:
    data = request.session.get(SESSION_KEY)
    if not isinstance(data, dict):
        return None
    manager = (
        PromoManager.objects.select_related("account")
        .filter(pk=data.get("id"), is_active=True)
        .first()
    )
    if (
        manager is None
        or manager.account.is_blocked
        or not constant_time_compare(str(data.get("hash", "")), _session_hash(manager))
    ):
        request.session.pop(SESSION_KEY, None)
        return None
    return manager


def _check_page(request, manager, *, form=None, result=None, error="", status=200):
    return render(
        request,
        "promo/check/check.html",
        {
            "manager": manager,
            "form": form or CodeForm(),
            "result": result,
            "error": error,
        },
        status=status,
    )


@never_cache
def check(request):
    """Sign-in (when needed) and the code form; POST checks a code."""
    manager = _signed_in_manager(request)
    if manager is None:
        return render(request, "promo/check/login.html", {"form": CheckLoginForm()})
    if request.method != "POST":
        return _check_page(request, manager)
    form = CodeForm(request.POST)
    if not form.is_valid():
        return _check_page(request, manager, form=form)
    try:
        result = services.promo_code_check(
            account_id=manager.account_id,
            code=form.cleaned_data["code"],
            manager_id=manager.pk,
            ip=client_ip(request) or "",
        )
    except services.PromoThrottled as exc:
        return _check_page(request, manager, form=form, error=exc.message, status=429)
    return _check_page(request, manager, form=CodeForm(), result=result)


@never_cache
@require_POST
def check_redeem(request):
    """«Отметить как использованный»."""
    manager = _signed_in_manager(request)
    if manager is None:
        return redirect("promo:check")
    form = CodeForm(request.POST)
    if not form.is_valid():
        return _check_page(request, manager, form=form)
    try:
        result = services.promo_code_redeem(
            account_id=manager.account_id,
            code=form.cleaned_data["code"],
            manager=manager,
            ip=client_ip(request) or "",
        )
    except services.PromoThrottled as exc:
        return _check_page(request, manager, error=exc.message, status=429)
    return _check_page(request, manager, result=result)


@never_cache
@require_POST
def check_login(request):
    form = CheckLoginForm(request.POST)
    error = ""
    status = 200
    if form.is_valid():
        try:
            manager = services.manager_authenticate(
                login=form.cleaned_data["login"],
                password=form.cleaned_data["password"],
                ip=client_ip(request) or "",
            )
        except services.PromoThrottled as exc:
            error, status = exc.message, 429
        except services.PromoError as exc:
            error, status = exc.message, 200
        else:
            request.session.cycle_key()
            request.session[SESSION_KEY] = {
                "id": manager.pk,
                "hash": _session_hash(manager),
            }
            return redirect("promo:check")
    return render(
        request, "promo/check/login.html", {"form": form, "error": error}, status=status
    )


@require_POST
def check_logout(request):
    # Only the check page's key: a cabinet user in the same browser stays in.
    request.session.pop(SESSION_KEY, None)
    return redirect("promo:check")
