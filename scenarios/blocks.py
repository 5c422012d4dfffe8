"""A scenario's blocks: what the palette offers (every registered channel —
VK/OK appear when their app registers them), ready-made chains, and the
validation of a chain.  A block is checked by the same policy as the channel's
own send (``messaging.planning.policy_for``: sender, content, text rules,
options), plus the scenario's own rules: a decision time in range, a message
lifetime no longer than the decision time, nothing but SMS after CallPassword."""

from dataclasses import dataclass, fields

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from messaging import registry
from messaging.models import Source
from messaging.planning import LaunchError, policy_for
from messaging.timing import MAX_TTL_SECONDS

MIN_DECISION = 60
MAX_DECISION = 48 * 3600
DEFAULT_DECISION = 600
MAX_BLOCKS = 10
# Channels after which only SMS may follow (the code call: a recipient who did
# not get it needs the code by SMS, not another kind of call or message).
SMS_ONLY_AFTER = frozenset({"callpassword"})
# Share of recipients a channel reaches, for the expected cost before launch
# (the chain's later steps are paid only for the rest).
EXPECTED_SUCCESS = {
    "viber": 0.7,
    "vk": 0.5,
    "ok": 0.4,
    "callpassword": 0.85,
    "voice": 0.6,
    "sms": 0.95,
}
DEFAULT_SUCCESS = 0.5
# Labels of the channels' content fields in the builder (else the field's
# description from the channel's ``Content``).
FIELD_LABELS = {
    "image": gettext_lazy("Изображение: id загрузки (раздел «Рассылка Viber»)"),
    "button_text": gettext_lazy("Текст кнопки"),
    "button_url": gettext_lazy("Ссылка кнопки"),
    "code": gettext_lazy("Код (четыре цифры)"),
    "audio_id": gettext_lazy("Аудиозапись (id)"),
    "ivr": gettext_lazy("Меню IVR (JSON)"),
}
# Content fields the service fills itself (never asked in a form).
_SERVICE_FILLED = "Заполняется сервисом"


class BlockError(Exception):
    """A chain that cannot be saved or launched; ``step`` is the block's index
    (None for the chain itself), ``field`` the block's field."""

    def __init__(self, message: str, *, step: int | None = None, field: str = ""):
        super().__init__(message)
        self.message = message
        self.step = step
        self.field = field

    def as_text(self) -> str:
        if self.step is None:
            return self.message
        return _("Блок %(n)s: %(message)s") % {
            "n": self.step + 1,
            "message": self.message,
        }


@dataclass(frozen=True)
class ContentField:
    name: str
    label: str
    kind: str  # "text", "number" or "json"


def content_fields(kind) -> list[ContentField]:
    """The channel's content beyond the text, as form fields (from its
    ``Content`` dataclass: one description for the API and the builder)."""
    out = []
    for f in fields(kind.content):
        description = str(f.metadata.get("description", ""))
        if _SERVICE_FILLED.lower() in description.lower():
            continue
        name = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", "")
        out.append(
            ContentField(
                f.name,
                str(FIELD_LABELS.get(f.name) or description or f.name),
                {"int": "number", "dict": "json"}.get(name, "text"),
            )
        )
    return out


def palette() -> list:
    """Every registered channel a block can be (the registry's order)."""
    return registry.all_channels()


TEMPLATES = (
    ("viber-sms", gettext_lazy("Viber → SMS"), ("viber", "sms")),
    ("vk-sms", gettext_lazy("VK → SMS"), ("vk", "sms")),
    ("viber-vk-sms", gettext_lazy("Viber → VK → SMS"), ("viber", "vk", "sms")),
    ("callpassword-sms", gettext_lazy("CallPassword → SMS"), ("callpassword", "sms")),
    ("voice-sms", gettext_lazy("Голосовая рассылка → SMS"), ("voice", "sms")),
    ("ok-sms", gettext_lazy("OK → SMS"), ("ok", "sms")),
)


def templates() -> list[tuple[str, str, tuple[str, ...]]]:
    """Ready-made chains whose channels are all registered."""
    known = {k.code for k in registry.all_channels()}
    return [t for t in TEMPLATES if set(t[2]) <= known]


def template_blocks(slug: str) -> list[dict]:
    for key, _title, chain in templates():
        if key == slug:
            return [empty_block(code) for code in chain]
    return []


def empty_block(channel: str) -> dict:
    return {
        "channel": channel,
        "sender": "",
        "text": "",
        "content": {},
        "options": {},
        "decision": DEFAULT_DECISION,
    }


def _decision(raw) -> int:
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise BlockError(
            _("Время принятия решения задано неверно."), field="decision"
        ) from None
    if not MIN_DECISION <= value <= MAX_DECISION:
        raise BlockError(
            _("Время принятия решения — от 1 минуты до 48 часов."), field="decision"
        )
    return value


def _ttl(options: dict, decision: int) -> int:
    """The message lifetime: at most the decision time (so a first channel
    cannot deliver after the fallback went); the decision time when not
    given (at most the 12 hours any message may live)."""
    raw = options.get("ttl")
    if raw in (None, "", 0):
        return min(decision, MAX_TTL_SECONDS)
    try:
        ttl = int(raw)
    except (TypeError, ValueError):
        raise BlockError(
            _("Время жизни сообщения задано неверно."), field="ttl"
        ) from None
    if ttl > decision:
        raise BlockError(
            _(
                "Время жизни сообщения (%(ttl)s мин) больше времени принятия решения "
                "(%(decision)s мин): сообщение могло бы прийти после того, как "
                "сценарий перешёл к следующему блоку. Уменьшите время жизни или "
                "увеличьте время принятия решения."
            )
            % {"ttl": ttl // 60, "decision": decision // 60},
            field="ttl",
        )
    return ttl


def block_clean(account, raw, *, step: int) -> dict:
    """One block checked as its channel's own send would be; the block as
    stored (ttl filled in).  Raises ``BlockError``."""
    try:
        if not isinstance(raw, dict):
            raise BlockError(_("Блок задан неверно."))
        code = str(raw.get("channel") or "")
        try:
            kind = registry.get_channel(code)
        except LookupError:
            raise BlockError(
                _("Канал «%(code)s» недоступен.") % {"code": code}, field="channel"
            ) from None
        decision = _decision(raw.get("decision", DEFAULT_DECISION))
        options = raw.get("options") or {}
        content = raw.get("content") or {}
        if not isinstance(options, dict) or not isinstance(content, dict):
            raise BlockError(_("Блок задан неверно."))
        options = {**options, "ttl": _ttl(options, decision)}
        text = str(raw.get("text") or "")
        sender = str(raw.get("sender") or "")
        try:
            policy = policy_for(
                account=account,
                channel=code,
                text=text,
                sender=sender,
                content=content,
                options=options,
                source=Source.SCENARIO,
            )
        except LaunchError as exc:
            raise BlockError(exc.message, field=exc.field or "text") from exc
        if not text.strip() and not policy.content.as_dict():
            raise BlockError(_("Введите текст сообщения."), field="text")
        return {
            "channel": code,
            "sender": policy.sender,
            "text": text,
            "content": content,
            "options": options,
            "decision": decision,
            "label": str(kind.label),
        }
    except BlockError as exc:
        exc.step = step
        raise


def chain_clean(account, blocks) -> list[dict]:
    """A whole chain checked (see ``block_clean``)."""
    if not isinstance(blocks, list) or not blocks:
        raise BlockError(_("Добавьте в сценарий хотя бы один блок."))
    if len(blocks) > MAX_BLOCKS:
        raise BlockError(_("В сценарии не более %(n)s блоков.") % {"n": MAX_BLOCKS})
    cleaned = [block_clean(account, b, step=i) for i, b in enumerate(blocks)]
    seen_call = False
    for i, block in enumerate(cleaned):
        if seen_call and block["channel"] != "sms":
            raise BlockError(
                _("После блока CallPassword могут идти только блоки SMS."),
                step=i,
                field="channel",
            )
        seen_call = seen_call or block["channel"] in SMS_ONLY_AFTER
    return cleaned
