"""The carrier links' state, one rule for ``/healthz`` (``settings.HEALTH_CHECKS``)
and the staff console's page «Связь с операторами» (``carrier_links``): each
link-based gateway publishes it to the cache from the worker that holds the
link (``SmppGateway.publish_health``); fake gateways publish none."""

import time
from datetime import UTC, datetime

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext_lazy as _

from .selectors import messages_waiting

STALE_SECONDS = 120
NO_WORKER = "no worker holds the carrier link"

# SMPP command statuses a carrier answers a bind with, in words for staff.
BIND_STATUSES = {
    0x0E: _("неверный пароль"),
    0x0F: _("неверный system_id (логин)"),
    0x0D: _("оператор отказал в привязке"),
    0x05: _("уже привязано: оператор не даёт ещё одно подключение"),
    0x04: _("неверное состояние привязки"),
    0x08: _("системная ошибка оператора"),
    0x53: _("неверный system_type"),
    0x58: _("слишком много запросов (оператор ограничивает скорость)"),
}


def _published(channel: str) -> dict | None:
    """The channel's published link state with its overall ``check``
    (``"ok"`` or ``"<status>: <detail>"``, as ``/healthz`` says it), None
    when the channel's gateway publishes none."""
    state = cache.get(f"messaging:gateway:{channel}")
    if not state:
        return None
    if time.time() - state.get("at", 0) > STALE_SECONDS:
        check = f"error: {NO_WORKER}"
    elif state["status"] == "ok":
        check = "ok"
    else:
        check = f"{state['status']}: {state['detail']}".strip()
    return {**state, "check": check}


def gateways() -> dict[str, str]:
    """``{"<channel>_gateway": "ok" | "error: …"}`` for every gateway whose link
    state was published (``/healthz``)."""
    checks = {}
    for channel in sorted(settings.MESSAGING_GATEWAYS):
        state = _published(channel)
        if state:
            checks[f"{channel}_gateway"] = state["check"]
    return checks


def bind_status_words(code: int | None) -> str:
    """A refused bind's SMPP status in Russian words (``""`` without one)."""
    if not code:
        return ""
    return f"{BIND_STATUSES.get(code, _('ошибка SMPP'))} (0x{code:02X})"


def _at(ts: float | None):
    if not ts:
        return None
    return datetime.fromtimestamp(ts, tz=UTC)


LINK_STATES = {
    "bound": _("подключено"),
    "connecting": _("подключение…"),
    "refused": _("привязка отклонена"),
    "down": _("нет связи"),
}
BIND_MODES = {
    "bind_transceiver": _("приём и передача"),
    "bind_transmitter": _("передача"),
    "bind_receiver": _("приём"),
}


def carrier_links() -> list[dict]:
    """Every carrier link for the staff console: the channel, its overall
    check (the same as ``/healthz``), the messages waiting for it (due now),
    and each bind — state in words, the refused bind's status in words, the
    last error and since when."""
    rows = []
    for channel in sorted(settings.MESSAGING_GATEWAYS):
        state = _published(channel)
        if not state:
            continue
        stale = state["check"] == f"error: {NO_WORKER}"
        waiting = messages_waiting(channel=channel)
        links = []
        for link in state.get("links", []):
            links.append(
                {
                    "bind": str(BIND_MODES.get(link["bind"], link["bind"])),
                    "index": link.get("index", 0) + 1,
                    "state": link["state"],
                    "state_text": str(LINK_STATES.get(link["state"], link["state"])),
                    "refusal": bind_status_words(link.get("code")),
                    "detail": link.get("detail", ""),
                    "since": _at(link.get("since")),
                    "last_error": link.get("last_error", ""),
                    "last_error_at": _at(link.get("last_error_at")),
                }
            )
        down = [x for x in links if x["state"] != "bound"]
        if state["check"] == "ok":
            summary = _("работает")
        elif stale:
            summary = _("ни один обработчик не держит связь с оператором")
        elif len(down) < len(links):
            summary = _("работает не на всех привязках")
        else:
            summary = _("нет связи с оператором")
        if down and not stale:
            first = down[0]
            summary = f"{summary}: {first['state_text']}" + (
                f" — {first['refusal']}" if first["refusal"] else ""
            )
        rows.append(
            {
                "channel": channel,
                "summary": str(summary),
                "name": f"{channel}_gateway",
                "ok": state["check"] == "ok",
                "check": state["check"],
                "stale": stale,
                "carrier": state.get("carrier", ""),
                "system_id": state.get("system_id", ""),
                "worker": state.get("worker", ""),
                "published_at": _at(state.get("at")),
                "waiting": waiting,
                "links": links,
            }
        )
    return rows
