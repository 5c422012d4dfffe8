"""What each cabinet role may do.  Views use ``cabinet_view``; the API uses
``HasCapability``.  A read-only user may look at everything they can open but
change nothing."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect

from .models import Role

SEND = "send"
CONTACTS = "contacts"
BILLING = "billing"
SETTINGS = "settings"
USERS = "users"
API_TOKENS = "api_tokens"
SUPPORT = "support"  # write to technical support
SECURITY = "security"  # sign-in restrictions of the whole account (IPs, session)

CAPABILITIES: dict[str, frozenset[str]] = {
    Role.OWNER: frozenset(
        {SEND, CONTACTS, BILLING, SETTINGS, USERS, API_TOKENS, SUPPORT, SECURITY}
    ),
    Role.ADMIN: frozenset({SEND, CONTACTS, BILLING, SETTINGS, API_TOKENS, SUPPORT}),
    Role.OPERATOR: frozenset({SEND, CONTACTS, SUPPORT}),
    Role.READONLY: frozenset(),
}


def can(user, capability: str | None) -> bool:
    if capability is None:
        return True
    return capability in CAPABILITIES.get(getattr(user, "role", ""), frozenset())


def cabinet_view(capability: str | None = None, *, write_methods_only: bool = True):
    """Require a signed-in cabinet user of an active account.  With a
    ``capability``, unsafe methods (POST…) need it; GETs are open to every role
    unless ``write_methods_only`` is False."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if getattr(request, "account", None) is None:
                if request.user.is_staff:
                    return redirect("admin:index")
                raise PermissionDenied
            needs = capability and (
                not write_methods_only
                or request.method not in ("GET", "HEAD", "OPTIONS")
            )
            if needs and not can(request.user, capability):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


class HasCapability:
    """DRF permission: ``permission_classes = [HasCapability.of(BILLING)]``.  Like
    ``cabinet_view``, only unsafe methods need the capability."""

    capability: str | None = None
    message = "Недостаточно прав."

    @classmethod
    def of(cls, capability: str, *, write_methods_only: bool = True):
        return type(
            f"Has_{capability}",
            (cls,),
            {"capability": capability, "write_only": write_methods_only},
        )

    write_only = True

    def has_permission(self, request, view):
        if self.write_only and request.method in ("GET", "HEAD", "OPTIONS"):
            return True
        return can(request.user, self.capability)

    def has_object_permission(self, request, view, obj):
        return True
