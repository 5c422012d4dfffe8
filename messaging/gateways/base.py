from dataclasses import dataclass, field
from datetime import datetime


class GatewayError(Exception):
    """The one error a gateway raises.  ``permanent`` errors fail the message
    for good (and refund it); others are retried by the core.  ``wait``: the
    message never left (the carrier link is down): it waits in the queue
    without using up an attempt."""

    def __init__(self, message: str, *, permanent: bool = False, wait: bool = False):
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.wait = wait


@dataclass(frozen=True)
class OutgoingMessage:
    id: int  # our message id: the gateway's idempotency key
    phone: str
    sender: str
    text: str
    # The channel's content (``messaging.registry.Content`` subclass: Viber's
    # image and button, a call's audio…), shared by a campaign's messages.
    content: object = None
    expires_at: datetime | None = None
    parts: int = 1
    # Which claim of the message this is (1 = first): a channel that tries
    # again after a failed attempt (a call's redial) counts with it.
    attempt: int = 1


@dataclass(frozen=True)
class SubmitResult:
    message_id: int
    gateway_id: str = ""
    error: GatewayError | None = None


@dataclass(frozen=True)
class Receipt:
    """A status report from a carrier, by our message id or the carrier's id,
    normalised like anymail's tracking events.  ``units`` is what the carrier
    measured (seconds of a call) for channels billed after the fact;
    ``extra`` carries channel facts stored on the message (``Message.extra``):
    ``seen_at``, ``clicked_at``, ``reply``, ``seconds``, ``digit``…  A receipt
    may carry extras without moving the status."""

    status: str
    message_id: int | None = None
    gateway_id: str = ""
    reason: str = ""
    at: datetime | None = None
    units: int | None = None
    extra: dict = field(default_factory=dict)
    retry_at: datetime | None = None


class BaseGateway:
    def __init__(self, *, channel: str, **options):
        self.channel = channel
        self.options = options

    @property
    def rate_per_second(self) -> int:
        """Submissions per second the carrier accepts (0 = unlimited)."""
        return int(self.options.get("rate_per_second") or 0)

    def submit(self, messages: list[OutgoingMessage]) -> list[SubmitResult]:
        """Hand a batch to the carrier.  Returns one result per message; raises
        ``GatewayError`` when the whole batch could not be handed over."""
        raise NotImplementedError

    def available(self) -> bool:
        """Whether the carrier can take messages now (a link-based carrier
        whose bind is down says no: dispatch claims nothing, messages wait)."""
        return True

    def recover_claims(self, ids: list[int]) -> set[int]:
        """Claims of a worker that died (ids still «sending»): the ones this
        carrier settles itself (handed over, or unknown) — the rest are queued
        again.  Carriers that de-duplicate by our id settle none."""
        return set()

    def drain_receipts(self) -> list["Receipt"]:
        """Receipts the carrier has ready to be pulled (for carriers polled by
        the core after each batch).  Push carriers report through a task or a
        webhook view instead and return nothing here."""
        return []
