"""The Django side of the numbering plan (C13): the registry rows loaded by
``manage.py load_numbering_plan`` live in ``NumberingPlanRange``; every process
builds its in-memory :class:`contacts.phones.NumberingPlan` from them lazily
(the bundled CSV serves while the table is empty).

A reload bumps a version in the cache, so web and worker processes pick up a
new registry within ``_CHECK_EVERY`` seconds without a restart."""

from __future__ import annotations

import threading
import time

from django.core.cache import cache
from django.db import DatabaseError

from . import phones

_VERSION_KEY = "contacts:numbering-plan-version"
_CHECK_EVERY = 60.0
_lock = threading.Lock()
_state = {"version": None, "checked": 0.0}


def build_plan_from_db() -> phones.NumberingPlan | None:
    from .models import NumberingPlanRange

    rows = NumberingPlanRange.objects.values_list(
        "prefix", "start", "end", "operator", "region", "inn"
    )
    if not rows.exists():
        return None
    return phones.NumberingPlan(
        phones.NumberRange(*row) for row in rows.iterator(chunk_size=20000)
    )


def ensure_plan(force: bool = False) -> None:
    """Install the database plan in this process if it changed (cheap: one
    cache read per minute)."""
    now = time.monotonic()
    if not force and now - _state["checked"] < _CHECK_EVERY:
        return
    with _lock:
        _state["checked"] = now
        version = cache.get(_VERSION_KEY, 0)
        if not force and version == _state["version"]:
            return
        try:
            plan = build_plan_from_db()
        except DatabaseError:  # table not migrated yet
            return
        phones.set_plan(plan)
        _state["version"] = version


def plan_reloaded() -> None:
    """Called after the table changed: this process swaps now, others soon."""
    cache.set(_VERSION_KEY, time.time(), None)
    _state["checked"] = 0.0
    ensure_plan(force=True)


def reset() -> None:
    """Back to the bundled plan (tests)."""
    phones.set_plan(None)
    _state.update(version=None, checked=0.0)
