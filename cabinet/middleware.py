from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from .net import client_ip, ip_allowed

SESSION_IP = "session_ip"


@receiver(user_logged_in, dispatch_uid="cabinet.session_ip")
def _remember_session_ip(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_IP] = client_ip(request)


class AccountMiddleware:
    """Puts the signed-in user's account on ``request.account`` and signs out the
    users of a blocked account.  Enforces the account's security settings:
    cabinet access only from listed IPs, and (when set) ending a session whose
    IP changed since sign-in."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.account = None
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.account_id:
            account = user.account
            if account.is_blocked:
                logout(request)
                return redirect("cabinet:login")
            ip = client_ip(request)
            if account.allowed_ips and not ip_allowed(ip, account.allowed_ip_list()):
                logout(request)
                messages.error(
                    request,
                    _(
                        "Доступ к кабинету с IP-адреса %(ip)s запрещён "
                        "настройками безопасности."
                    )
                    % {"ip": ip},
                )
                return redirect("cabinet:login")
            session = getattr(request, "session", None)
            if account.bind_session_ip and session is not None:
                bound = session.get(SESSION_IP)
                if bound is None:
                    session[SESSION_IP] = ip
                elif bound != ip:
                    logout(request)
                    messages.error(
                        request,
                        _("Сессия завершена: изменился IP-адрес. Войдите снова."),
                    )
                    return redirect("cabinet:login")
            request.account = account
        return self.get_response(request)
