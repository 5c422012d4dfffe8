"""The dashboard («Главная») is assembled from widgets the apps register.

The cabinet shows what it owns itself (balance, notifications); everything
else — the messaging app's quick send and latest campaigns, later the channel
apps' tiles — is a ``Widget`` registered from that app's ``AppConfig.ready()``,
so the cabinet reads no other app's data (NetBox's dashboard widgets are the
model).  A widget is a template and a function that gives it its data; the
page includes each template with that data as ``data``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest

AREAS = ("stats", "cards")  # the row of tiles; the cards below it


@dataclass(frozen=True)
class Widget:
    key: str
    template: str
    data: Callable[[HttpRequest], dict] | None = None
    area: str = "cards"
    order: int = 100


@dataclass(frozen=True)
class Placed:
    """A widget with its data for one request."""

    template: str
    data: dict


_WIDGETS: dict[str, Widget] = {}


def register(widget: Widget) -> Widget:
    """Add a widget (call from ``AppConfig.ready()``); a second widget with the
    same key, or an unknown area, is a configuration error at start-up."""
    if widget.area not in AREAS:
        raise ImproperlyConfigured(
            f"dashboard widget {widget.key!r}: area must be one of {AREAS}"
        )
    present = _WIDGETS.get(widget.key)
    if present is not None and present != widget:
        raise ImproperlyConfigured(f"dashboard widget {widget.key!r} registered twice")
    _WIDGETS[widget.key] = widget
    return widget


def unregister(key: str) -> None:
    _WIDGETS.pop(key, None)


def widgets() -> list[Widget]:
    return sorted(_WIDGETS.values(), key=lambda w: (w.order, w.key))


def place(request: HttpRequest) -> dict[str, list[Placed]]:
    """Every registered widget with its data, by area, in order."""
    placed: dict[str, list[Placed]] = {area: [] for area in AREAS}
    for widget in widgets():
        data = widget.data(request) if widget.data else {}
        placed[widget.area].append(Placed(widget.template, data))
    return placed
