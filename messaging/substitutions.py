"""Substitution commands that apps above the messaging core add to texts.

The renderer knows the phonebook's fields itself (``rendering.py``); a command
whose value another app owns — ``[couponCode]``: a fresh promo code per
recipient, from the promo app — is a ``Substitution`` that app registers in
its ``AppConfig.ready()``.  The core never imports it.  A text naming a
command nobody registered keeps it as written, like any unknown "[word]".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured

# (fields of the recipient, message id) → the text put in place of the command
Piece = Callable[[dict, int | None], str]


@dataclass(frozen=True)
class Bound:
    """A substitution ready for one campaign: ``piece`` fills each recipient's
    text; ``on_flush`` (optional) persists what the pieces produced, inside the
    transaction that writes the messages."""

    piece: Piece
    on_flush: Callable[[], None] | None = None


@dataclass(frozen=True)
class Substitution:
    """``command``: lower-case, without brackets.  ``build(campaign,
    preview=...)`` returns a ``Bound`` — with ``preview`` it must write nothing
    and give a sample of the real length (the price and the preview before
    sending).  ``choices(account_id)``: what the send form offers as the
    command's parameter (promo actions), objects with ``pk`` and ``name``."""

    command: str
    build: Callable[..., Bound]
    choices: Callable[[int], list] | None = None


_REGISTRY: dict[str, Substitution] = {}


def register(substitution: Substitution) -> Substitution:
    """Add a command (call from ``AppConfig.ready()``).  A command registered
    twice by different providers is an error at start-up."""
    command = substitution.command
    if not command or command != command.strip().lower():
        raise ImproperlyConfigured(
            f"substitution command {command!r} must be lower-case, without spaces"
        )
    present = _REGISTRY.get(command)
    if present is not None and present != substitution:
        raise ImproperlyConfigured(f"substitution [{command}] registered twice")
    _REGISTRY[command] = substitution
    return substitution


def unregister(command: str) -> None:
    """Remove a command (tests)."""
    _REGISTRY.pop(command, None)


def get(command: str) -> Substitution | None:
    return _REGISTRY.get(command.strip().lower())


def registered() -> dict[str, Substitution]:
    return dict(_REGISTRY)
