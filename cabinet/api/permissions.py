"""Token scopes: a token of the "chat" scope alone cannot use REST v1."""

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission

REST_SCOPES = frozenset({"messaging", "cabinet"})


class HasRestScope(BasePermission):
    message = _(
        "Этот токен не даёт доступа к REST API: нужна область «Рассылка "
        "сообщений» или «Личный кабинет»."
    )

    def has_permission(self, request, view):
        user = request.user
        if not (user and getattr(user, "is_authenticated", False)):
            return False
        token = getattr(user, "token", None)
        if token is None:
            return True
        return bool(REST_SCOPES.intersection(token.scopes or []))
