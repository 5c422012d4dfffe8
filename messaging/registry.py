"""Channel kinds register here at start-up (``channels.py`` modules found by
``autodiscover_modules``, like the admin).  The core asks the registry for a
channel's report columns, its unit counting and its gateway."""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class StatusColumn:
    """One column of a report: an abbreviation, its tooltip, the statuses it sums."""

    code: str
    abbr: str
    title: str
    statuses: tuple[str, ...]


@dataclass(frozen=True)
class ChannelKind:
    code: str
    label: str
    columns: tuple[StatusColumn, ...]
    # text, content → number of billable units (SMS parts; 1 for most channels)
    count_units: Callable[[str, dict], int] = field(default=lambda text, content: 1)
    # The key in settings.MESSAGING_GATEWAYS
    gateway_key: str = ""

    @property
    def statuses(self) -> tuple[str, ...]:
        return tuple(s for col in self.columns for s in col.statuses)


_channels: dict[str, ChannelKind] = {}
_gateways: dict[str, object] = {}


def register(kind: ChannelKind) -> ChannelKind:
    _channels[kind.code] = kind
    return kind


def get_channel(code: str) -> ChannelKind:
    try:
        return _channels[code]
    except KeyError:
        raise LookupError(f"unknown channel {code!r}") from None


def all_channels() -> list[ChannelKind]:
    return list(_channels.values())


def get_gateway(code: str):
    """The configured gateway instance for a channel, built lazily from
    ``settings.MESSAGING_GATEWAYS`` (BACKEND dotted path + OPTIONS)."""
    if code not in _gateways:
        kind = get_channel(code)
        conf = settings.MESSAGING_GATEWAYS[kind.gateway_key or code]
        backend = import_string(conf["BACKEND"])
        _gateways[code] = backend(channel=code, **conf.get("OPTIONS", {}))
    return _gateways[code]


def reset_gateways() -> None:
    """Forget built gateways (tests that change settings call this)."""
    _gateways.clear()
