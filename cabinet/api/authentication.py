from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from cabinet.models import Account
from cabinet.net import client_ip, ip_allowed
from cabinet.selectors import token_by_key


class TokenUser:
    """The caller of the API: an account acting through one of its tokens."""

    is_authenticated = True
    is_anonymous = False
    is_staff = False

    def __init__(self, token):
        self.token = token
        self.account: Account = token.account
        self.account_id = token.account_id
        self.pk = None
        self.role = "owner"

    def __str__(self):
        return f"token {self.token.prefix}…"


def authenticate_key(request, key: str):
    """Shared by the REST API (Authorization: Token) and the compatible API
    (X-Token): a revoked token, a blocked account or a disallowed IP is refused."""
    token = token_by_key(key)
    if token is None or not token.is_active:
        raise exceptions.AuthenticationFailed(_("Неверный или отозванный токен."))
    if token.account.is_blocked:
        raise exceptions.AuthenticationFailed(_("Аккаунт заблокирован."))
    if not ip_allowed(client_ip(request), token.allowed_ip_list()):
        raise exceptions.AuthenticationFailed(_("Доступ с этого IP-адреса запрещён."))
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        type(token).objects.filter(pk=token.pk).update(last_used_at=now)
    return TokenUser(token), token


class TokenAuthentication(authentication.BaseAuthentication):
    keyword = "Token"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                _("Неверный заголовок Authorization.")
            )
        try:
            key = header[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed(
                _("Неверный заголовок Authorization.")
            )
        return authenticate_key(request, key)

    def authenticate_header(self, request):
        return self.keyword


class TokenAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "cabinet.api.authentication.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <key>` — a key from the cabinet's API page.",
        }
