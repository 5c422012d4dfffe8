import time

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import security, selectors, services, support
from .dashboard import place as dashboard_widgets
from .forms import (
    CabinetUserForm,
    EmailAuthenticationForm,
    LoginCodeForm,
    RegistrationForm,
    RoleForm,
    SecurityForm,
    ThresholdForm,
    TicketForm,
    TicketReplyForm,
)
from .menu import find_item
from .models import Role, User
from .net import client_ip
from .permissions import BILLING, SECURITY, SUPPORT, USERS, cabinet_view, can


@cabinet_view()
def dashboard(request):
    """Balance and notifications, then the widgets the other apps registered
    (``cabinet.dashboard``)."""
    return render(
        request, "cabinet/dashboard.html", {"widgets": dashboard_widgets(request)}
    )


@cabinet_view()
def in_development(request, slug):
    found = find_item(slug)
    if found is None:
        raise Http404
    section, item = found
    return render(
        request, "cabinet/in_development.html", {"section": section, "item": item}
    )


class LoginView(auth_views.LoginView):
    form_class = EmailAuthenticationForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form):
        """With two-step sign-in on, the password only earns an SMS code; the
        session is created after the code (``login_code``)."""
        user = form.get_user()
        if user.account_id and user.two_factor and user.phone:
            try:
                security.login_code_send(user=user, ip=client_ip(self.request))
            except security.CodeError as exc:
                form.add_error(None, str(exc))
                return self.form_invalid(form)
            session = self.request.session
            session[security.SESSION_PENDING_USER] = user.pk
            session[security.SESSION_PENDING_BACKEND] = user.backend
            session["two_factor_started"] = int(time.time())
            session["two_factor_next"] = self.get_success_url()
            return redirect("cabinet:login_code")
        return super().form_valid(form)

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.has_error(NON_FIELD_ERRORS, "throttled"):
            response.status_code = 429
        return response


PENDING_MAX_SECONDS = 900


def login_code(request):
    """Second step of sign-in: the code from the SMS."""
    session = request.session
    user_id = session.get(security.SESSION_PENDING_USER)
    started = session.get("two_factor_started", 0)
    if not user_id or time.time() - started > PENDING_MAX_SECONDS:
        session.pop(security.SESSION_PENDING_USER, None)
        messages.error(request, _("Войдите заново."))
        return redirect("cabinet:login")
    user = (
        User.objects.select_related("account")
        .filter(pk=user_id, is_active=True)
        .first()
    )
    if user is None or (user.account and user.account.is_blocked):
        session.pop(security.SESSION_PENDING_USER, None)
        return redirect("cabinet:login")
    form = LoginCodeForm(request.POST or None)
    throttled = False
    if request.method == "POST" and request.POST.get("resend"):
        form = LoginCodeForm()
        try:
            security.login_code_send(user=user, ip=client_ip(request))
            messages.success(request, _("Новый код отправлен."))
        except security.CodeError as exc:
            messages.error(request, str(exc))
    elif request.method == "POST" and form.is_valid():
        try:
            security.login_code_verify(
                user=user, code=form.cleaned_data["code"], ip=client_ip(request)
            )
        except security.CodeError as exc:
            form.add_error("code", str(exc))
            throttled = isinstance(exc, security.CodeThrottled)
        else:
            backend = session.get(
                security.SESSION_PENDING_BACKEND,
                "django.contrib.auth.backends.ModelBackend",
            )
            next_url = session.get("two_factor_next") or reverse("cabinet:dashboard")
            for key in (
                security.SESSION_PENDING_USER,
                security.SESSION_PENDING_BACKEND,
                "two_factor_started",
                "two_factor_next",
            ):
                session.pop(key, None)
            login(request, user, backend=backend)
            if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}):
                next_url = reverse("cabinet:dashboard")
            return redirect(next_url)
    phone = user.phone
    masked = f"{phone[:4]}•••{phone[-2:]}" if len(phone) > 6 else phone
    return render(
        request,
        "cabinet/login_code.html",
        {"form": form, "phone": masked},
        status=429 if throttled else 400 if form.errors else 200,
    )


def register(request):
    if request.user.is_authenticated:
        return redirect("cabinet:dashboard")
    form = RegistrationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        user = services.account_create(
            email=d["email"],
            password=d["password1"],
            name=d["organisation"],
            full_name=d["full_name"],
            phone=d["phone"],
            request=request,
        )
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, _("Добро пожаловать! Аккаунт создан."))
        return redirect("cabinet:dashboard")
    return render(request, "registration/register.html", {"form": form})


def _htmx_fragment(request) -> bool:
    return bool(getattr(request, "htmx", False)) and not request.htmx.boosted


@cabinet_view()
def notifications(request):
    """The notification centre: the full list, or (htmx) the header dropdown."""
    qs = selectors.notifications(account_id=request.account.pk)
    if _htmx_fragment(request) and request.GET.get("dropdown"):
        return render(
            request,
            "cabinet/notifications.html#dropdown",
            {
                "latest": list(qs[:10]),
                "unread": selectors.unread_notifications_count(
                    account_id=request.account.pk
                ),
            },
        )
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    return render(request, "cabinet/notifications.html", {"page": page})


@require_POST
@cabinet_view()
def notifications_read(request):
    services.notifications_mark_read(account=request.account)
    if _htmx_fragment(request):
        return render(
            request,
            "cabinet/notifications.html#dropdown",
            {
                "latest": list(
                    selectors.notifications(account_id=request.account.pk)[:10]
                ),
                "unread": 0,
            },
        )
    return redirect("cabinet:notifications")


@require_POST
@cabinet_view()
def notification_open(request, pk):
    """Mark one notification read and go to what it is about."""
    item = selectors.notifications(account_id=request.account.pk).filter(pk=pk).first()
    if item is None:
        raise Http404
    services.notifications_mark_read(account=request.account, ids=[item.pk])
    target = (
        item.url
        if item.url and url_has_allowed_host_and_scheme(item.url, {request.get_host()})
        else reverse("cabinet:notifications")
    )
    return redirect(target)


@cabinet_view()
def login_history(request):
    page = Paginator(
        selectors.login_history(account_id=request.account.pk), 50
    ).get_page(request.GET.get("page"))
    return render(request, "cabinet/login_history.html", {"page": page})


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "cabinet/settings_password.html"
    success_url = reverse_lazy("cabinet:password_change_done")

    def dispatch(self, request, *args, **kwargs):
        if (
            request.user.is_authenticated
            and getattr(request, "account", None) is None
            and not request.user.is_staff
        ):
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "tab": "password"}


# --- settings (Настройки) -----------------------------------------------------


@cabinet_view(BILLING)
def settings_page(request):
    """Tab «Уведомления»: the critical balance threshold."""
    account = request.account
    form = ThresholdForm(
        request.POST or None,
        initial={"low_balance_threshold": account.low_balance_threshold},
    )
    if request.method == "POST" and form.is_valid():
        services.low_balance_threshold_set(
            account=account, threshold=form.cleaned_data["low_balance_threshold"]
        )
        messages.success(request, _("Настройки уведомлений сохранены."))
        return redirect("cabinet:settings")
    return render(
        request,
        "cabinet/settings_notifications.html",
        {"form": form, "tab": "notifications"},
        status=400 if form.errors else 200,
    )


@cabinet_view(USERS)
def users(request):
    """Tab «Пользователи кабинета»: the owner adds, removes and re-roles users."""
    account = request.account
    form = CabinetUserForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        security.cabinet_user_add(
            account=account,
            email=d["email"],
            password=d["password"],
            role=d["role"],
            full_name=d["full_name"],
        )
        messages.success(request, _("Пользователь %(e)s добавлен.") % {"e": d["email"]})
        return redirect("cabinet:users")
    return render(
        request,
        "cabinet/settings_users.html",
        {
            "form": form,
            "tab": "users",
            "roles": Role.choices,
            "people": User.objects.filter(account=account).order_by("email"),
            "may_manage": can(request.user, USERS),
        },
        status=400 if form.errors else 200,
    )


@require_POST
@cabinet_view(USERS)
def user_remove(request, pk):
    try:
        security.cabinet_user_remove(
            account=request.account, user_id=pk, by=request.user
        )
    except security.SettingsError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Пользователь удалён."))
    return redirect("cabinet:users")


@require_POST
@cabinet_view(USERS)
def user_role(request, pk):
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Неизвестная роль."))
        return redirect("cabinet:users")
    try:
        security.cabinet_user_role_set(
            account=request.account,
            user_id=pk,
            role=form.cleaned_data["role"],
            by=request.user,
        )
    except security.SettingsError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Роль изменена."))
    return redirect("cabinet:users")


@cabinet_view()
def security_page(request):
    """Tab «Безопасность»: two-step sign-in for oneself; the account's IP list and
    session binding for those with the SECURITY capability (the owner)."""
    account = request.account
    user = request.user
    may_edit_account = can(user, SECURITY)
    form = SecurityForm(
        request.POST or None,
        can_edit_account=may_edit_account,
        initial={
            "two_factor": user.two_factor,
            "phone": user.phone,
            "allowed_ips": account.allowed_ips,
            "bind_session_ip": account.bind_session_ip,
        },
    )
    if request.method == "POST" and user.role == Role.READONLY:
        raise PermissionDenied
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            security.security_save(
                user=user,
                two_factor=d["two_factor"],
                phone=d["phone"],
                allowed_ips=d.get("allowed_ips") if may_edit_account else None,
                bind_session_ip=d.get("bind_session_ip") if may_edit_account else None,
                current_ip=client_ip(request),
            )
        except security.SettingsError as exc:
            form.add_error("allowed_ips", str(exc))
        else:
            messages.success(request, _("Настройки безопасности сохранены."))
            return redirect("cabinet:security")
    return render(
        request,
        "cabinet/settings_security.html",
        {
            "form": form,
            "tab": "security",
            "current_ip": client_ip(request),
        },
        status=400 if form.errors else 200,
    )


# --- support (Техподдержка) ---------------------------------------------------


@cabinet_view(SUPPORT)
def support_list(request):
    form = TicketForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        ticket = support.ticket_create(
            account=request.account,
            author=request.user,
            subject=form.cleaned_data["subject"],
            body=form.cleaned_data["body"],
        )
        messages.success(request, _("Тикет создан. Ответ придёт сюда и на email."))
        return redirect("cabinet:support_ticket", pk=ticket.pk)
    page = Paginator(support.tickets(account_id=request.account.pk), 30).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "cabinet/support_list.html",
        {"form": form, "page": page},
        status=400 if form.errors else 200,
    )


@cabinet_view(SUPPORT)
def support_ticket(request, pk):
    ticket = support.ticket_get(account_id=request.account.pk, pk=pk)
    form = TicketReplyForm(request.POST or None)
    if request.method == "POST":
        if request.POST.get("close"):
            support.ticket_close(ticket=ticket)
            messages.success(request, _("Тикет закрыт."))
            return redirect("cabinet:support_ticket", pk=ticket.pk)
        if form.is_valid():
            support.ticket_reply(
                ticket=ticket, author=request.user, body=form.cleaned_data["body"]
            )
            return redirect("cabinet:support_ticket", pk=ticket.pk)
    return render(
        request,
        "cabinet/support_ticket.html",
        {
            "ticket": ticket,
            "thread": support.ticket_thread(ticket=ticket),
            "form": form,
        },
        status=400 if form.errors else 200,
    )
