"""Channel kinds register here at start-up (``channels.py`` modules found by
``autodiscover_modules``, like the admin).  A channel is its registry entry: the
core asks the registry for a channel's statuses and which of them are success,
its report columns, its content type, how it counts and bills units, its
default sender, its retry policy, its service code for billing documents and
partner rewards, and its gateway.  Registering a code twice is an error at
start-up (like NetBox's registries refuse duplicate entries)."""

import contextlib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from billing import catalog
from billing.selectors import PriceList


@dataclass(frozen=True)
class StatusColumn:
    """One column of a report: an abbreviation, its tooltip, the statuses it sums."""

    code: str
    abbr: str
    title: str
    statuses: tuple[str, ...]


class ContentError(ValueError):
    """Content that does not validate; ``message`` is for the user, ``field``
    names the form field it belongs to."""

    def __init__(self, message: str, *, field: str = "content"):
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class Content:
    """A channel's content beyond the text (SMS has none).  Channels subclass it
    with their own fields.  ``parse`` validates what a user or an integrator
    sent (raises ``ContentError``); ``load`` rebuilds stored content without
    re-validating it (dispatch); ``as_dict`` is what ``Campaign.content``
    stores.  The instance is what reaches the gateway in
    ``OutgoingMessage.content``."""

    @classmethod
    def parse(cls, data: dict | None, *, account_id: int | None = None) -> "Content":
        data = dict(data or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ContentError(f"Неизвестные поля содержимого: {', '.join(unknown)}.")
        return cls(**data)

    @classmethod
    def load(cls, data: dict | None) -> "Content":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in (data or {}).items() if k in known})

    def as_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v not in (None, "", [], {})}

    def links(self) -> list[str]:
        """Addresses a recipient can click besides links in the text (a
        button's URL): a carrier reports clicks only where there is one."""
        return []

    @classmethod
    def json_schema(cls) -> dict:
        """The content as an OpenAPI object, from the dataclass fields (a field's
        ``metadata`` may give ``description`` and ``example``): the REST API
        documents every registered channel's content without a second copy."""
        kinds = {"str": "string", "int": "integer", "bool": "boolean", "dict": "object"}
        properties = {}
        for f in fields(cls):
            # (a union such as ``int | None`` has no name: documented as a string)
            name = (
                f.type if isinstance(f.type, str) else getattr(f.type, "__name__", "")
            )
            prop = {"type": kinds.get(name, "string")}
            prop.update(
                {k: v for k, v in f.metadata.items() if k in ("description", "example")}
            )
            properties[f.name] = prop
        # ``parse`` refuses unknown fields: so does the schema (and one
        # channel's content is then never valid as another's).
        schema = {
            "type": "object",
            "properties": properties,
            "additionalProperties": False,
        }
        if cls.__doc__:
            schema["description"] = " ".join(cls.__doc__.split())
        return schema


class Unit:
    """What a channel bills by."""

    PARTS = "parts"  # SMS parts, known before sending
    MESSAGE = "message"  # one per message
    SECONDS = "seconds"  # held as an estimate, settled by the receipt after a call


@dataclass(frozen=True)
class RetryPolicy:
    """How often the core re-submits a message the carrier refused temporarily
    (``GatewayError(permanent=False)``) before failing it for good."""

    attempts: int = 5
    interval: timedelta = timedelta(seconds=30)


def _one_unit(text: str, content: Content) -> int:
    return 1


@dataclass(frozen=True)
class LaunchCharge:
    """What a launch charges beside its messages, once: the core posts it in
    the launch's transaction with the campaign's hold (so every way of
    launching — the form, REST, scenarios, events — charges it), and a
    ``reference`` already in the ledger is not charged again."""

    amount: Decimal
    reason: str
    reference: str


@dataclass(frozen=True)
class ChannelKind:
    code: str
    label: str
    columns: tuple[StatusColumn, ...]
    # Statuses that end a message well: a cascade stops at them.
    success: frozenset[str] = frozenset()
    content: type[Content] = Content
    unit: str = Unit.MESSAGE
    # text, content → billable units held at launch (SMS parts; 1 for most
    # channels; an estimate of seconds for calls).
    count_units: Callable[[str, Content], int] = _one_unit
    # measured units from a receipt → units billed (``Unit.SECONDS`` only).
    bill_units: Callable[[int], int] = field(default=lambda units: units)
    # () → the shared sender used when none is chosen.
    default_sender: Callable[[], str] = field(default=lambda: "")
    # () → every shared sender any account may choose (the default among them).
    shared_senders: Callable[[], tuple[str, ...]] | None = None
    # No shared sender: a send names one of the account's approved names
    # (VK/OK groups); without one it is refused, «заказать имя отправителя».
    own_sender_required: bool = False
    # (requested name) → the cleaned name, or raise
    # ``messaging.senders.InvalidSenderName``: the channel's own rule for the
    # senders an account requests (voice: its own phone number); None = the
    # SMS rule for names (``messaging.senders.name_check``).
    sender_name_rule: Callable[[str], str] | None = None
    # (sender name row) → the client's ``cabinet.moderation.Notice`` about
    # the decision on it, in the channel's words (voice: «Номер отправителя»);
    # None = the sender names' own wording.
    sender_notice: Callable[[object], object] | None = None
    # (account, sender) → None, or raise ``messaging.senders.SenderNotAllowed``:
    # the channel's own rule on an approved name (Viber: a paid monthly package).
    check_sender: Callable[[object, str], None] | None = None
    # (account, sender, text, content) → the price line (``Tariff.variant``).
    tariff_variant: Callable[[object, str, str, "Content"], str] | None = None
    # (text, content) → None, or raise ``ContentError``: what the channel cannot
    # send whatever the content alone says (Viber: a text over 1000
    # characters, an image with a text but without a button).
    check_message: Callable[[str, "Content"], None] | None = None
    # The price differs by operator (SMS); else the report's cost breakdown
    # ("детализация") is by country only.
    priced_by_operator: bool = True
    retry: RetryPolicy = RetryPolicy()
    # How long the carrier may keep a message without a final report when the
    # message has no lifetime of its own (SMS centres keep trying for up to
    # two days).  Past it — or past the message's own lifetime — a message still
    # «Отпр» is final: «Истекло время жизни», refunded.
    receipt_timeout: timedelta = timedelta(hours=48)
    # The longest lifetime (TTL) a message of the channel may be given.
    max_ttl: timedelta = timedelta(hours=12)
    # Messages are charged by what their receipt reports (``Receipt.units``:
    # 1 delivered, 0 not), like calls by the second: the launch holds the
    # price and a receipt with fewer units refunds the difference, once —
    # VK/OK charge delivered messages only.  ``settle_reason`` words the
    # refund in the ledger.
    charge_by_receipt: bool = False
    settle_reason: str = "Перерасчёт по фактической длительности"
    # (account id, sender, phones or None for all) → the numbers the channel
    # refuses for a send now, beyond the stop-list (VK/OK: a recipient who got
    # the group's daily limit of messages today).  Counted as blocked.
    refused: Callable[[int, str, list[str] | None], set[str]] | None = None
    # (account, text, content) → whether a send waits for staff; None = the
    # text rules (``messaging.moderation.needs_moderation``).  Voice adds its
    # audio's decision to them; CallPassword (a code call) is never moderated.
    moderate: Callable[[object, str, "Content"], bool] | None = None
    # Reports: (campaign) → [(label, value)] facts the campaign page adds
    # (voice: «Средний процент прослушивания»); (campaign) → [(label,
    # messages, cost)] the cost breakdown («Детализация») by the channel's own
    # measure instead of country and operator (voice: by call duration);
    # (message extra) → a short line under a message's status (seconds
    # listened, digit pressed).
    report_facts: Callable[[object], list[tuple[str, str]]] | None = None
    report_breakdown: Callable[[object], list[tuple[str, int, object]]] | None = None
    message_facts: Callable[[dict], str] | None = None
    # (campaign text, content) → the text each message of the send carries,
    # when it is not the campaign's own (voice: a call plays its audio; the
    # spoken text — up to 2,000 characters — stays on the campaign and the
    # audio, and each call carries a short label, not a copy of it).
    message_text: Callable[[str, "Content"], str] | None = None
    # (account, content) → the ``LaunchCharge``s a launch of this content owes
    # beside its messages (voice: speaking the text, once per audio).
    launch_charges: Callable[[object, "Content"], list[LaunchCharge]] | None = None
    # Groups charges in billing documents and partner rewards (``billing.catalog``).
    service_code: str = ""
    # URL name of the channel's send page.
    compose_url: str = ""
    # The key in settings.MESSAGING_GATEWAYS (the channel's code when empty).
    gateway_key: str = ""
    # The channel app's URLconf and where it is mounted (cabinet/urls.py mounts
    # every registered channel's URLs; nothing to add there for a new channel).
    urls: str = ""
    url_prefix: str = ""
    # The channel's REST API URLconf, mounted under /api/v1/ (cabinet/urls.py).
    api_urls: str = ""
    # URL names of the channel's sender-names and moderation-templates pages
    # (decision notifications link there); messaging's SMS pages when empty.
    sender_names_url: str = ""
    moderation_templates_url: str = ""
    # A template the campaign report includes to show the content (image,
    # button…); it gets ``content`` (the channel's ``Content``) and ``campaign``.
    content_template: str = ""
    # account id → a queryset of the replies recipients sent on this channel
    # (``received_at``, ``phone``, ``text``, ``campaign_id``, ``sender``,
    # ``contact_name``): the report's «Ответы» tab.
    replies: Callable[[int], object] | None = None

    def shared(self) -> tuple[str, ...]:
        names = self.shared_senders() if self.shared_senders else ()
        default = self.default_sender()
        return tuple(names) if default in names or not default else (default, *names)

    def variant(self, account, sender: str, text: str, content: "Content") -> str:
        if self.tariff_variant is None:
            return ""
        return self.tariff_variant(account, sender, text, content)

    def prices(
        self, account, *, sender: str, text: str, content: "Content", tier
    ) -> PriceList:
        """The prices a send pays: the channel's price line for this sender
        and content, at ``tier`` (None: the account's tier now).  The launch
        holds at them and the settlement of measured units reads them again
        at the campaign's tier."""
        return PriceList(
            account=account,
            channel=self.code,
            tier=tier,
            variant=self.variant(account, sender, text, content),
        )

    @property
    def statuses(self) -> tuple[str, ...]:
        return tuple(s for col in self.columns for s in col.statuses)

    @property
    def service(self) -> str:
        return self.service_code or self.code

    @property
    def settles_after(self) -> bool:
        return self.unit == Unit.SECONDS or self.charge_by_receipt

    @property
    def max_ttl_seconds(self) -> int:
        return int(self.max_ttl.total_seconds())

    def parse_content(self, data: dict | None, *, account_id=None) -> Content:
        return self.content.parse(data, account_id=account_id)

    def check(self, text: str, content: "Content | dict | None") -> None:
        """Raise ``ContentError`` for a text and content this channel cannot
        send (``check_message``)."""
        if self.check_message is None:
            return
        if not isinstance(content, Content):
            content = self.content.load(content)
        self.check_message(text, content)


_channels: dict[str, ChannelKind] = {}
_gateways: dict[str, object] = {}


def register(kind: ChannelKind) -> ChannelKind:
    """Add a channel kind; a code registered twice is a configuration error."""
    if kind.code in _channels:
        raise ImproperlyConfigured(f"channel {kind.code!r} is registered twice")
    if not set(kind.success) <= set(kind.statuses):
        raise ImproperlyConfigured(
            f"channel {kind.code!r}: success statuses must be among its statuses"
        )
    _channels[kind.code] = kind
    catalog.register_service(kind.service, str(kind.label))
    return kind


@contextlib.contextmanager
def temporary(kind: ChannelKind):
    """Register ``kind`` for the duration of a block (tests)."""
    register(kind)
    try:
        yield kind
    finally:
        _channels.pop(kind.code, None)
        _gateways.pop(kind.code, None)
        catalog.unregister_service(kind.service)


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
