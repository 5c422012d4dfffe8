"""What the phonebook knows about deliveries: nothing of its own.

The base cleanup "contacts whose last N messages were not delivered" (C10a)
needs the messages, which live in the messaging app above the phonebook.
Instead of reading them, the phonebook asks the provider the messaging app
registers in its ``AppConfig.ready()``.  Without one (no messaging app),
nothing was ever sent, so no number qualifies.
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import ImproperlyConfigured
from django.db.models import QuerySet

# (account_id, phones: a values("phone") queryset, last_n) → the phones among
# them whose last ``last_n`` messages all failed to be delivered.
UndeliveredProvider = Callable[..., list[str]]

_provider: UndeliveredProvider | None = None


def register(provider: UndeliveredProvider) -> None:
    """Set the delivery-history provider; a second, different one is a
    configuration error at start-up (two apps cannot both own the history)."""
    global _provider
    if _provider is not None and _provider is not provider:
        raise ImproperlyConfigured(
            f"contacts delivery history: {provider!r} registered over {_provider!r}"
        )
    _provider = provider


def unregister() -> None:
    """Forget the provider (tests)."""
    global _provider
    _provider = None


def provider() -> UndeliveredProvider | None:
    return _provider


def phones_undelivered(*, account_id: int, phones: QuerySet, last_n: int) -> list[str]:
    if _provider is None:
        return []
    return _provider(account_id=account_id, phones=phones, last_n=last_n)
