"""SMS over SMPP 3.4: a real carrier link.

Selected by configuration alone::

    SMS_GATEWAY=messaging.gateways.smpp.SmppGateway
    SMPP_URL=smpp://system_id:password@host:port

(the README's table lists the other options; each may also be given as a
query parameter of the URL, e.g. ``?bind=tx+rx&window=50&binds=2``).

PDUs are encoded and parsed by smpplib (``python-smpplib``: SMPP 3.4 PDUs and
bind, stable since 2005 and maintained, pure Python).  Its client reads and
writes one PDU at a time; the link here keeps a *window* of unanswered
``submit_sm`` per bind instead (a reader thread per connection matches
answers by sequence number), which is what makes a carrier's throughput
reachable.

One gateway instance per process holds ``binds`` links (a transceiver each, or
a transmitter and a receiver).  Each link binds, keeps itself alive with
``enquire_link``, and reconnects with exponential back-off after a refused
bind or a dropped connection; its state is published for ``/healthz``
(``messaging.health``).

Exactly once at the carrier: before a message's first PDU leaves, its
hand-over is recorded (``pending``), and as the carrier answers, the carrier's
id (``accepted``) or the refusal — in small batches while the window keeps
moving.  What a dead link or a dead worker leaves unanswered is *unknown* and
settled by ``messaging.handovers`` (docs/DECISIONS.md), never sent twice on
the spot.

Reports (``deliver_sm`` with esm_class 0x04) are acknowledged only once they
are applied (a report in flight when a worker dies is delivered again by the
carrier on the next bind); incoming messages are stored and announced.
"""

import hashlib
import logging
import os
import queue
import re
import select
import socket
import struct
import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import lru_cache
from itertools import islice
from urllib.parse import parse_qs, unquote, urlsplit

from smpplib import command as smpp_command
from smpplib import consts, exceptions
from smpplib import smpp as smpp_pdu
from smpplib.client import Client
from smpplib.ptypes import ostr

from messaging.sms_text import GSM7_BASIC, GSM7_EXTENSION, count_sms

from .base import BaseGateway, GatewayError, OutgoingMessage, Receipt, SubmitResult

log = logging.getLogger(__name__)

# --- options ------------------------------------------------------------------

DEFAULTS = {
    "system_type": "",
    "bind": "trx",  # "trx" (transceiver) or "tx+rx" (transmitter + receiver)
    "source_ton": "auto",
    "source_npi": "auto",
    "dest_ton": 1,
    "dest_npi": 1,
    "throughput": 0,  # submit_sm per second for the whole gateway, 0 = no limit
    "window": 50,  # unanswered submit_sm per bind
    "binds": 1,
    "long_texts": "udh",  # "udh" (concatenated parts) or "payload" (message_payload)
    "enquire_link_seconds": 30.0,
    "response_timeout": 20.0,
    "reconnect_max_seconds": 60.0,
    "unknown_resolve_seconds": 900.0,
    "unknown_rule": "resubmit",  # or "fail"
}


@dataclass(frozen=True)
class SmppConfig:
    host: str
    port: int
    system_id: str
    password: str
    system_type: str = ""
    bind: str = "trx"
    source_ton: str | int = "auto"
    source_npi: str | int = "auto"
    dest_ton: int = 1
    dest_npi: int = 1
    throughput: float = 0
    window: int = 50
    binds: int = 1
    long_texts: str = "udh"
    enquire_link_seconds: float = 30.0
    response_timeout: float = 20.0
    reconnect_max_seconds: float = 60.0
    unknown_resolve_seconds: float = 900.0
    unknown_rule: str = "resubmit"

    @classmethod
    def parse(cls, url: str, options: dict | None = None) -> "SmppConfig":
        """``smpp://system_id:password@host:port?option=value`` plus options
        (the URL's query wins)."""
        parts = urlsplit(url or "")
        if parts.scheme not in ("smpp", "smpps") or not parts.hostname:
            raise ValueError(
                "SMPP_URL must look like smpp://system_id:password@host:port"
            )
        values = {k: v for k, v in (options or {}).items() if k in DEFAULTS}
        values.update({k: v[-1] for k, v in parse_qs(parts.query).items()})
        unknown = set(values) - set(DEFAULTS)
        if unknown:
            raise ValueError(f"unknown SMPP options: {', '.join(sorted(unknown))}")
        conf = {**DEFAULTS, **{k: v for k, v in values.items() if v not in ("", None)}}
        if conf["bind"] not in ("trx", "tx+rx"):
            raise ValueError("SMPP bind must be trx or tx+rx")
        if conf["long_texts"] not in ("udh", "payload"):
            raise ValueError("SMPP long_texts must be udh or payload")
        if conf["unknown_rule"] not in ("resubmit", "fail"):
            raise ValueError("SMPP unknown_rule must be resubmit or fail")
        for key in ("source_ton", "source_npi"):
            if conf[key] != "auto":
                conf[key] = int(conf[key])
        return cls(
            host=parts.hostname,
            port=parts.port or 2775,
            system_id=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
            system_type=str(conf["system_type"]),
            bind=conf["bind"],
            source_ton=conf["source_ton"],
            source_npi=conf["source_npi"],
            dest_ton=int(conf["dest_ton"]),
            dest_npi=int(conf["dest_npi"]),
            throughput=float(conf["throughput"]),
            window=max(1, int(conf["window"])),
            binds=max(1, int(conf["binds"])),
            long_texts=conf["long_texts"],
            enquire_link_seconds=float(conf["enquire_link_seconds"]),
            response_timeout=float(conf["response_timeout"]),
            reconnect_max_seconds=float(conf["reconnect_max_seconds"]),
            unknown_resolve_seconds=float(conf["unknown_resolve_seconds"]),
            unknown_rule=conf["unknown_rule"],
        )


# --- text → PDUs --------------------------------------------------------------

# GSM 03.38 in code order: the counter's basic table lacks only ESC (0x1B).
GSM7_TABLE = GSM7_BASIC[:0x1B] + "\x1b" + GSM7_BASIC[0x1B:]
assert len(GSM7_TABLE) == 128
GSM7_CODES = {ch: bytes([i]) for i, ch in enumerate(GSM7_TABLE) if ch != "\x1b"}
GSM7_EXT_CODES = dict(
    zip(
        GSM7_EXTENSION,
        (0x0A, 0x14, 0x28, 0x29, 0x2F, 0x3C, 0x3D, 0x3E, 0x40, 0x65),
        strict=True,
    )
)
for _ch, _code in GSM7_EXT_CODES.items():
    GSM7_CODES[_ch] = bytes([0x1B, _code])
DC_DEFAULT = 0x00  # SMSC default alphabet (GSM 03.38), one septet per octet
DC_UCS2 = 0x08
ESM_UDHI = 0x40
ESM_DELIVERY_RECEIPT = 0x04


def _gsm7(text: str) -> bytes:
    return b"".join(GSM7_CODES[ch] for ch in text)


@lru_cache(maxsize=1024)  # a campaign's messages share their text
def split_text(text: str) -> tuple[str, tuple[bytes, ...]]:
    """(encoding, encoded parts) exactly as ``count_sms`` counts the text: one
    part up to 160 septets / 70 UTF-16 units, else parts of 153 / 67 that never
    split an ESC pair or a surrogate pair."""
    count = count_sms(text)
    if count.encoding == "gsm7":
        encoded = [GSM7_CODES[ch] for ch in text]
        limit = 160 if count.parts == 1 else 153
    else:
        encoded = [ch.encode("utf-16-be", "surrogatepass") for ch in text]
        limit = 140 if count.parts == 1 else 134
    parts, current, used = [], [], 0
    for piece in encoded:
        if used + len(piece) > limit:
            parts.append(b"".join(current))
            current, used = [], 0
        current.append(piece)
        used += len(piece)
    parts.append(b"".join(current))
    assert len(parts) == count.parts, (len(parts), count)
    return count.encoding, tuple(parts)


class _SubmitSM(smpp_command.SubmitSM):
    """submit_sm whose ``message_payload`` may hold a whole long text (SMPP 3.4
    allows up to 64 K octets; smpplib caps it at 260), encoding only the
    fields this gateway sets (smpplib walks every optional parameter of the
    command otherwise: three quarters of the time a PDU took)."""

    params_order = (
        *smpp_command.SubmitSM.params_order[
            : smpp_command.SubmitSM.params_order.index("short_message") + 1
        ],
        "message_payload",
    )

    params = {
        **smpp_command.SubmitSM.params,
        "message_payload": smpp_command.Param(type=ostr, max=65535),
    }


def _address_ton_npi(sender: str, conf: SmppConfig) -> tuple[int, int]:
    ton, npi = conf.source_ton, conf.source_npi
    digits = sender.lstrip("+")
    if ton == "auto":
        if digits.isdigit():
            ton = 1 if sender.startswith("+") or len(digits) > 8 else 3
        else:
            ton = 5  # alphanumeric
    if npi == "auto":
        npi = 0 if ton in (3, 5) else 1
    return int(ton), int(npi)


def validity(expires_at: datetime | None) -> str:
    """SMPP absolute time (UTC) for a message's lifetime, '' without one."""
    if not expires_at:
        return ""
    return expires_at.astimezone(UTC).strftime("%y%m%d%H%M%S") + "000+"


def pdu_fields(m: OutgoingMessage, conf: SmppConfig) -> list[dict]:
    """The submit_sm fields of a message's parts (one dict per PDU)."""
    encoding, parts = split_text(m.text or "")
    ton, npi = _address_ton_npi(m.sender or "", conf)
    base = {
        "service_type": "",
        "source_addr_ton": ton,
        "source_addr_npi": npi,
        "source_addr": (m.sender or "").lstrip("+")[:20],
        "dest_addr_ton": conf.dest_ton,
        "dest_addr_npi": conf.dest_npi,
        "destination_addr": m.phone.lstrip("+")[:20],
        "registered_delivery": 1,
        "data_coding": DC_DEFAULT if encoding == "gsm7" else DC_UCS2,
        "validity_period": validity(m.expires_at),
        "esm_class": 0,
    }
    if len(parts) == 1:
        return [{**base, "short_message": parts[0]}]
    if conf.long_texts == "payload":
        return [{**base, "message_payload": b"".join(parts)}]
    ref = m.id & 0xFF  # the same reference if this message is ever sent again
    return [
        {
            **base,
            "esm_class": ESM_UDHI,
            "short_message": bytes([5, 0, 3, ref, len(parts), i]) + part,
        }
        for i, part in enumerate(parts, start=1)
    ]


# --- command statuses ---------------------------------------------------------

THROTTLED = 0x58  # ESME_RTHROTTLED
# Worth another try later (the core retries): the carrier's queue, system,
# or an application-level temporary error.
TEMPORARY = {0x08, 0x14, 0x45, 0x64, 0xFE, 0x4D}
REFUSED_BIND = {0x0D, 0x0E, 0x0F, 0x05}
LOST = -1  # the link went down before the answer came


def status_text(status: int) -> str:
    name = consts.DESCRIPTIONS.get(status, "unknown error")
    return f"{name} (0x{status:02X})"


# --- reports ------------------------------------------------------------------

DLR_RE = re.compile(
    r"id:(?P<id>\S+).*?stat:(?P<stat>[A-Z]+)(?:.*?err:(?P<err>\w+))?", re.S
)
STATES = {
    "DELIVRD": ("delivered", ""),
    "UNDELIV": ("undelivered", "Не доставлено оператором"),
    "EXPIRED": ("undelivered", "Истёк срок доставки у оператора"),
    "REJECTD": ("undelivered", "Отклонено оператором"),
    "DELETED": ("undelivered", "Удалено оператором"),
}
MESSAGE_STATES = {2: "DELIVRD", 3: "EXPIRED", 4: "DELETED", 5: "UNDELIV", 8: "REJECTD"}


def _text(value) -> str:
    if isinstance(value, bytes):
        return value.decode("latin-1", "replace")
    return value or ""


def parse_report(pdu) -> tuple[str, str, str] | None:
    """(carrier id, our status, reason) of a delivery report; None when it
    cannot be read (logged by the caller).  An interim state (ENROUTE,
    ACCEPTD, UNKNOWN) gives status ''."""
    body = _text(getattr(pdu, "short_message", None)) or _text(
        getattr(pdu, "message_payload", None)
    )
    match = DLR_RE.search(body)
    gid = _text(getattr(pdu, "receipted_message_id", None)).strip("\x00 ")
    stat = match.group("stat") if match else ""
    if not gid and match:
        gid = match.group("id")
    if not stat:
        state = getattr(pdu, "message_state", None)
        stat = MESSAGE_STATES.get(state or 0, "")
    if not gid or not stat:
        return None
    status, reason = STATES.get(stat, ("", ""))
    if match and match.group("err") and status == "undelivered":
        reason = f"{reason} (код {match.group('err')})"
    return gid, status, reason


def decode_text(pdu) -> str:
    raw = getattr(pdu, "short_message", None) or getattr(pdu, "message_payload", None)
    raw = raw if isinstance(raw, bytes) else (raw or "").encode("latin-1", "replace")
    if (getattr(pdu, "esm_class", 0) or 0) & ESM_UDHI and raw:
        raw = raw[raw[0] + 1 :]
    coding = getattr(pdu, "data_coding", 0) or 0
    if coding == DC_UCS2:
        return raw.decode("utf-16-be", "replace")
    out, escape = [], False
    ext = {code: ch for ch, code in GSM7_EXT_CODES.items()}
    for b in raw:
        if escape:
            out.append(ext.get(b, "?"))
            escape = False
        elif b == 0x1B:
            escape = True
        else:
            out.append(GSM7_TABLE[b & 0x7F])
    return "".join(out)


# --- the link -----------------------------------------------------------------


@dataclass
class _Job:
    message: OutgoingMessage
    pdus: list[dict]
    address: str
    # part index → (0, carrier id): accepted, now or at an earlier attempt
    answers: dict = field(default_factory=dict)
    todo: list = field(default_factory=list)  # parts to send this time
    refused: dict = field(default_factory=dict)  # part index → command status
    lost: set = field(default_factory=set)  # parts whose answer the link lost
    error: GatewayError | None = None
    unknown: bool = False
    done: bool = False
    begun: bool = False  # its hand-over recorded, parts written this attempt

    def parts_record(self) -> dict | None:
        """The accepted parts of a long text for its hand-over (None for a
        one-PDU message: nothing to record)."""
        if len(self.pdus) < 2:
            return None
        return {str(p): cid for p, (_s, cid) in sorted(self.answers.items())}


@dataclass
class _InFlight:
    job: _Job
    part: int
    inbox: queue.Queue
    sent_at: float


class BindRefused(Exception):
    def __init__(self, message: str, code: int = 0):
        super().__init__(message)
        self.code = code


class _Link:
    """One SMPP connection: binds, reads in its own thread, writes under a
    lock; ``submit_sm`` answers go to the inbox of the call that sent them."""

    def __init__(self, gateway: "SmppGateway", index: int, mode: str):
        self.gateway = gateway
        self.conf = gateway.conf
        self.index = index
        self.mode = mode  # bind_transceiver | bind_transmitter | bind_receiver
        self.state = "connecting"
        self.detail = ""
        self.since = time.time()  # when it last bound, or lost its bind
        self.last_error = ""  # the last refusal or failure, kept once bound
        self.last_error_at = 0.0
        self.code: int | None = None  # the refused bind's command status
        self.client: Client | None = None
        self.sock: socket.socket | None = None
        self.lock = threading.Lock()
        self.inflight: dict[int, _InFlight] = {}
        self.inflight_lock = threading.Lock()
        self.outbox: list[bytes] = []  # PDUs written by submit, sent together
        self.first_attempt = threading.Event()
        self.last_seen = time.monotonic()
        self.enquire_sent_at = 0.0
        self.bound_since = 0.0
        self.stopping = False
        self.thread = threading.Thread(
            target=self._run, name=f"smpp-{mode}-{index}", daemon=True
        )

    @property
    def transmits(self) -> bool:
        return self.mode != "bind_receiver"

    @property
    def bound(self) -> bool:
        return self.state == "bound"

    def free(self) -> int:
        return self.conf.window - len(self.inflight) if self.bound else 0

    # thread
    def _run(self) -> None:
        delay = 0.5
        while not self.stopping:
            try:
                self._connect()
                delay = 0.5
                self._read_loop()
            except BindRefused as exc:
                self._set_state("refused", str(exc), code=exc.code)
            except (OSError, exceptions.ConnectionError, exceptions.PDUError) as exc:
                self._set_state("down", f"{exc.__class__.__name__}: {exc}")
            except Exception as exc:  # noqa: BLE001 - the link must survive anything
                log.exception("smpp link %s crashed", self.index)
                self._set_state("down", f"{exc.__class__.__name__}: {exc}")
            finally:
                self._close()
                self.first_attempt.set()
            if self.stopping:
                break
            time.sleep(delay)
            delay = min(delay * 2, self.conf.reconnect_max_seconds)

    def _set_state(self, state: str, detail: str = "", code: int | None = None) -> None:
        changed = (state, detail) != (self.state, self.detail)
        if (state == "bound") != (self.state == "bound"):
            self.since = time.time()  # bound since, or without a bind since
        if state in ("refused", "down"):
            self.last_error, self.last_error_at, self.code = detail, time.time(), code
        elif state == "bound":
            self.code = None
        self.state, self.detail = state, detail
        if changed:
            (log.info if state == "bound" else log.warning)(
                "smpp %s#%d %s %s", self.mode, self.index, state, detail
            )
            self.gateway.publish_health()

    def _connect(self) -> None:
        self._set_state("connecting", self.detail)
        client = Client(
            self.conf.host,
            self.conf.port,
            timeout=self.conf.response_timeout,
            allow_unknown_opt_params=True,
            logger_name="messaging.gateways.smpp.pdu",
        )
        client.connect()
        self.client = client
        self.sock = client._socket
        try:
            getattr(client, self.mode)(
                system_id=self.conf.system_id,
                password=self.conf.password,
                system_type=self.conf.system_type,
                interface_version=0x34,
            )
        except exceptions.PDUError as exc:
            code = exc.args[1] if len(exc.args) > 1 else 0
            raise BindRefused(f"bind refused: {status_text(code)}", code) from exc
        self.sock.settimeout(None)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.last_seen = time.monotonic()
        self.enquire_sent_at = 0.0
        self.bound_since = time.monotonic()
        self._set_state("bound")
        self.first_attempt.set()

    def _close(self) -> None:
        client, self.client, self.sock = self.client, None, None
        if client is not None:
            try:
                client.disconnect()
            except Exception:  # noqa: BLE001
                pass
            client.state = consts.SMPP_CLIENT_STATE_CLOSED
        with self.inflight_lock:
            lost, self.inflight = self.inflight, {}
        for entry in lost.values():
            entry.inbox.put((entry, LOST, ""))

    def send(self, pdu) -> None:
        data = pdu.generate()
        with self.lock:
            if self.sock is None:
                raise exceptions.ConnectionError("link is down")
            self.sock.sendall(data)

    def submit(self, job: _Job, part: int, inbox: queue.Queue) -> None:
        """Queue one submit_sm for ``flush`` (raises ConnectionError when the
        link is down)."""
        client = self.client
        if client is None or not self.bound:
            raise exceptions.ConnectionError("link is down")
        pdu = _SubmitSM("submit_sm", client=client, **job.pdus[part])
        entry = _InFlight(job, part, inbox, time.monotonic())
        with self.inflight_lock:
            self.inflight[pdu.sequence] = entry
        self.outbox.append(pdu.generate())

    def flush(self) -> None:
        """Send the queued submit_sm in one write.  When the link fails, they
        stay in flight and are answered LOST by the reader's close (they may
        have partly left)."""
        if not self.outbox:
            return
        data, self.outbox = b"".join(self.outbox), []
        try:
            with self.lock:
                if self.sock is None:
                    raise OSError("link is down")
                self.sock.sendall(data)
        except OSError as exc:
            log.warning("smpp: write failed: %s", exc)
            sock = self.sock
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def _read_loop(self) -> None:
        buf = b""
        sock = self.sock
        while not self.stopping:
            readable, _w, _x = select.select([sock], [], [], 0.5)
            now = time.monotonic()
            if readable:
                chunk = sock.recv(262144)
                if not chunk:
                    raise exceptions.ConnectionError("closed by the carrier")
                buf += chunk
                self.last_seen = now
                while len(buf) >= 4:
                    (length,) = struct.unpack(">L", buf[:4])
                    if length < 16 or length > 70000:
                        raise exceptions.PDUError(f"broken PDU length {length}")
                    if len(buf) < length:
                        break
                    raw, buf = buf[:length], buf[length:]
                    self._handle(raw)
            self._keepalive(now)

    def _keepalive(self, now: float) -> None:
        if (
            self.enquire_sent_at
            and now - self.enquire_sent_at > self.conf.response_timeout
        ):
            raise exceptions.ConnectionError("enquire_link unanswered")
        with self.inflight_lock:
            oldest = min((e.sent_at for e in self.inflight.values()), default=now)
        if now - oldest > self.conf.response_timeout:
            raise exceptions.ConnectionError("submit_sm unanswered")
        if (
            not self.enquire_sent_at
            and now - self.last_seen > self.conf.enquire_link_seconds
        ):
            self.enquire_sent_at = now
            self.send(smpp_pdu.make_pdu("enquire_link", client=self.client))

    def _handle(self, raw: bytes) -> None:
        try:
            pdu = smpp_pdu.parse_pdu(
                raw, client=self.client, allow_unknown_opt_params=True
            )
        except Exception as exc:  # noqa: BLE001 - a PDU we cannot read is logged
            (command_id,) = struct.unpack(">L", raw[4:8])
            (sequence,) = struct.unpack(">L", raw[12:16])
            log.warning("smpp: unreadable PDU 0x%08X: %s", command_id, exc)
            if command_id == 0x00000005:  # deliver_sm: acknowledged, not retried
                self.respond(sequence, "deliver_sm_resp")
            elif not command_id & 0x80000000:
                self.respond(sequence, "generic_nack", consts.SMPP_ESME_RINVCMDID)
            return
        command = pdu.command
        if command in ("submit_sm_resp", "generic_nack"):
            with self.inflight_lock:
                entry = self.inflight.pop(pdu.sequence, None)
            if entry is None:
                log.warning("smpp: answer to an unknown sequence %s", pdu.sequence)
                return
            status = int(pdu.status or 0)
            if command == "generic_nack" and not status:
                status = consts.SMPP_ESME_RUNKNOWNERR
            entry.inbox.put((entry, status, _text(getattr(pdu, "message_id", ""))))
        elif command == "deliver_sm":
            self.gateway.incoming.put((self, pdu))
        elif command == "enquire_link":
            self.respond(pdu.sequence, "enquire_link_resp")
        elif command == "enquire_link_resp":
            self.enquire_sent_at = 0.0
        elif command == "unbind":
            self.respond(pdu.sequence, "unbind_resp")
            raise exceptions.ConnectionError("unbound by the carrier")
        elif command == "data_sm":
            self.respond(pdu.sequence, "data_sm_resp")
        elif not command.endswith("_resp"):
            self.respond(pdu.sequence, "generic_nack", consts.SMPP_ESME_RINVCMDID)

    def respond(self, sequence: int, command: str, status: int = 0) -> None:
        client = self.client
        if client is None:
            return
        resp = smpp_pdu.make_pdu(command, client=client, status=status)
        resp.sequence = sequence
        try:
            self.send(resp)
        except (OSError, exceptions.ConnectionError):
            pass  # the carrier sends it again on the next bind

    def stop(self) -> None:
        self.stopping = True
        client = self.client
        if client is not None and self.bound:
            try:
                self.send(smpp_pdu.make_pdu("unbind", client=client))
            except Exception:  # noqa: BLE001
                pass
        sock = self.sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Rate:
    """Submits per second for the whole gateway (token bucket), slowed down
    for a while when the carrier answers ESME_RTHROTTLED."""

    def __init__(self, per_second: float):
        self.per_second = per_second
        self.tokens = per_second
        self.at = time.monotonic()
        self.paused_until = 0.0
        self.pause = 0.0

    def wait(self, before_sleep) -> None:
        now = time.monotonic()
        if now < self.paused_until:
            before_sleep()
            time.sleep(self.paused_until - now)
            now = time.monotonic()
        if not self.per_second:
            return
        self.tokens = min(
            self.per_second, self.tokens + (now - self.at) * self.per_second
        )
        self.at = now
        if self.tokens < 1:
            before_sleep()
            time.sleep((1 - self.tokens) / self.per_second)
            self.tokens, self.at = 1, time.monotonic()
        self.tokens -= 1

    def throttled(self) -> None:
        self.pause = min(max(self.pause * 2, 0.1), 5.0)
        self.paused_until = time.monotonic() + self.pause

    def fine(self) -> None:
        self.pause = max(0.0, self.pause / 2 - 0.01)


# --- the gateway ----------------------------------------------------------------


class SmppGateway(BaseGateway):
    """``SMS_GATEWAY=messaging.gateways.smpp.SmppGateway``."""

    FLUSH_SECONDS = 0.05
    SECONDARY_IDS = 200_000  # carrier ids of later parts of long texts, remembered

    def __init__(self, *, channel: str, **options):
        super().__init__(channel=channel, **options)
        self.conf = SmppConfig.parse(options.get("url", ""), options)
        self.links: list[_Link] = []
        self.rate = _Rate(self.conf.throughput)
        self.incoming: queue.Queue = queue.Queue()
        self.started = False
        self.start_lock = threading.Lock()
        self.submit_lock = threading.Lock()
        self.secondary: OrderedDict[str, None] = OrderedDict()
        self.applier: threading.Thread | None = None
        self.stopping = False
        self._health_key = f"messaging:gateway:{channel}"

    @property
    def rate_per_second(self) -> int:
        return int(self.conf.throughput)

    # lifecycle
    def start(self, wait: float = 5.0) -> None:
        with self.start_lock:
            if self.started:
                return
            self.started = True
            modes = (
                ["bind_transceiver"]
                if self.conf.bind == "trx"
                else ["bind_transmitter", "bind_receiver"]
            )
            for i in range(self.conf.binds):
                for mode in modes:
                    self.links.append(_Link(self, i, mode))
            for link in self.links:
                link.thread.start()
            self.applier = threading.Thread(
                target=self._apply_loop, name="smpp-receipts", daemon=True
            )
            self.applier.start()
        deadline = time.monotonic() + wait
        for link in self.links:
            link.first_attempt.wait(max(0.0, deadline - time.monotonic()))

    def stop(self) -> None:
        self.stopping = True
        for link in self.links:
            link.stop()
        for link in self.links:
            link.thread.join(5)
        if self.applier:
            self.applier.join(5)

    def available(self) -> bool:
        """Whether a transmitting bind is up (dispatch claims nothing
        otherwise: messages wait, attempts untouched)."""
        self.start()
        return any(link.bound and link.transmits for link in self.links)

    def health(self) -> dict:
        links = [
            {
                "bind": link.mode,
                "index": link.index,
                "state": link.state,
                "detail": link.detail,
                "code": link.code,
                "since": link.since,
                "last_error": link.last_error,
                "last_error_at": link.last_error_at,
            }
            for link in self.links
        ]
        bound = [x for x in links if x["state"] == "bound"]
        refused = [x for x in links if x["state"] == "refused"]
        if links and len(bound) == len(links):
            status, detail = "ok", ""
        elif refused:
            status, detail = "error", refused[0]["detail"]
        elif bound:
            status, detail = (
                "degraded",
                next((x["detail"] for x in links if x["state"] != "bound"), ""),
            )
        else:
            status, detail = (
                "error",
                next((x["detail"] for x in links if x["detail"]), "connecting"),
            )
        return {
            "status": status,
            "detail": detail,
            "carrier": f"{self.conf.host}:{self.conf.port}",
            "system_id": self.conf.system_id,
            "links": links,
            "worker": f"{socket.gethostname()}:{os.getpid()}",
            "at": time.time(),
        }

    def publish_health(self) -> None:
        try:
            from django.core.cache import cache

            cache.set(self._health_key, self.health(), timeout=300)
        except Exception:  # noqa: BLE001 - health reporting never breaks the link
            log.debug("smpp health not published", exc_info=True)

    # submitting
    def submit(self, messages: list[OutgoingMessage]) -> list[SubmitResult]:
        self.start()
        with self.submit_lock:
            return self._submit(messages)

    def _submit(self, messages: list[OutgoingMessage]) -> list[SubmitResult]:
        from messaging import handovers

        jobs: list[_Job] = []
        results: dict[int, SubmitResult] = {}
        for m in messages:
            try:
                pdus = pdu_fields(m, self.conf)
            except (KeyError, AssertionError, ValueError) as exc:
                results[m.id] = SubmitResult(
                    m.id,
                    error=GatewayError(f"Текст не кодируется: {exc}", permanent=True),
                )
                continue
            jobs.append(
                _Job(m, pdus, pdus[0]["destination_addr"], todo=list(range(len(pdus))))
            )
        answers: list[tuple] = []
        self._skip_accepted_parts(jobs)
        for job in [j for j in jobs if not j.todo]:  # every part accepted already
            job.done = True
            answers.append(
                (job.message.id, "accepted", job.answers[0][1], job.parts_record())
            )
        fresh = deque(j for j in jobs if j.todo)  # not begun
        resend: deque[tuple[_Job, int]] = deque()  # throttled parts
        inbox: queue.Queue = queue.Queue()
        outstanding = 0
        last_flush = time.monotonic()
        links = [link for link in self.links if link.transmits]
        turn = 0

        def pick(any_bound: bool) -> _Link | None:
            nonlocal turn
            for _ in range(len(links)):
                link = links[turn % len(links)]
                turn += 1
                if link.free() > 0 or (any_bound and link.bound):
                    return link
            return None

        def flush() -> None:
            nonlocal answers, last_flush
            if answers:
                handovers.answer(answers)
                answers = []
            last_flush = time.monotonic()

        def send_all() -> None:
            for link in links:
                link.flush()

        def write(job: _Job, part: int) -> bool:
            """One PDU out; a long text's later parts may go past the window."""
            nonlocal outstanding
            while True:
                link = pick(any_bound=part != job.todo[0])
                if link is None:
                    return False
                self.rate.wait(send_all)
                try:
                    link.submit(job, part, inbox)
                except exceptions.ConnectionError:
                    continue
                outstanding += 1
                return True

        while fresh or resend or outstanding:
            capacity = sum(link.free() for link in links)
            if not capacity and not outstanding:
                if not any(link.bound for link in links):
                    break  # every link is down: what has not left waits
                time.sleep(0.01)
                continue
            # Parts the carrier throttled go first, then new messages — their
            # hand-over recorded before the first byte leaves.
            while resend and capacity > 0:
                job, part = resend[0]
                if not write(job, part):
                    break
                resend.popleft()
                capacity -= 1
            send_all()
            half = max(1, self.conf.window * len(links) // 2)
            if fresh and capacity >= min(
                half, sum(len(j.todo) for j in islice(fresh, half))
            ):
                take, room = [], capacity
                while fresh and room > 0:
                    job = fresh.popleft()
                    job.begun = True
                    take.append(job)
                    room -= len(job.todo)
                # The answers so far and these hand-overs: one round trip.
                handovers.begin(
                    self.channel,
                    [(j.message.id, j.address, j.message.attempt) for j in take],
                    answers=answers,
                )
                answers, last_flush = [], time.monotonic()
                self._write_all(take, write, fresh, answers)
                send_all()
            # Answers.
            try:
                timeout = 0.005 if (fresh or resend) and capacity else 0.05
                item = inbox.get(timeout=timeout)
            except queue.Empty:
                item = None
            while item is not None:
                outstanding -= 1
                self._answer(item, resend, answers)
                try:
                    item = inbox.get_nowait()
                except queue.Empty:
                    item = None
            if answers and (
                len(answers) >= self.conf.window * len(links)
                or time.monotonic() - last_flush > self.FLUSH_SECONDS
            ):
                flush()
        answers.extend(
            (j.message.id, "rejected", "", j.parts_record())
            for j in jobs
            if j.begun and not j.done and j.answers and j.error is None
        )
        flush()
        for job in jobs:
            m = job.message
            if job.error is not None:
                results[m.id] = SubmitResult(m.id, error=job.error)
            elif job.unknown:
                # May have reached the carrier: reported as handed over (no id):
                # never sent again by the core; settled by a report or the
                # rule (messaging.handovers).
                results[m.id] = SubmitResult(m.id, gateway_id="", error=None)
            elif job.done:
                results[m.id] = SubmitResult(m.id, gateway_id=job.answers[0][1])
            elif job.begun and job.answers:
                # Some parts of a long text are accepted, the others could not
                # be sent (every link went down while they were throttled):
                # another attempt sends only the others.
                results[m.id] = SubmitResult(
                    m.id,
                    error=GatewayError(
                        "Нет связи с оператором (SMPP): части сообщения ждут",
                        permanent=False,
                    ),
                )
            else:
                results[m.id] = SubmitResult(
                    m.id,
                    error=GatewayError(
                        "Нет связи с оператором (SMPP): сообщение ждёт",
                        permanent=False,
                        wait=True,
                    ),
                )
        unknown = [j.message.id for j in jobs if j.unknown and j.error is None]
        if unknown:
            self._unconfirmed(unknown)
        return [results[m.id] for m in messages]

    @staticmethod
    def _write_all(take, write, fresh, answers) -> None:
        """Write the PDUs of messages whose hand-over was just recorded.  When
        no link takes a PDU: a message with parts already out is unknown; the
        others did not leave — back to the queue, their hand-over undone."""
        for i, job in enumerate(take):
            for n, part in enumerate(job.todo):
                if write(job, part):
                    continue
                if n:
                    job.done = job.unknown = True
                    answers.append((job.message.id, "unknown", "", job.parts_record()))
                rest = take[i + (1 if n else 0) :]
                answers.extend((j.message.id, "rejected", "") for j in rest)
                for j in rest:
                    j.begun = False
                fresh.extendleft(reversed(rest))
                return

    def _unconfirmed(self, ids: list[int]) -> None:
        """The answers to these messages were lost with a link: they become
        «Отправлено», unconfirmed (``messaging.handovers``) — and are not
        sent by the core's mark_sent with an empty id."""
        from django.db import transaction
        from django.utils import timezone

        from messaging import handovers

        with transaction.atomic():
            handovers.answer([(mid, "unknown", "") for mid in ids])
            handovers.mark_unconfirmed(self.channel, ids, timezone.now())

    def _skip_accepted_parts(self, jobs: list[_Job]) -> None:
        """A long text sent again (a part was refused temporarily, or an
        unconfirmed hand-over queued again): the parts the carrier accepted
        at an earlier attempt are not sent again — only the others, with the
        same reference number, so the handset still joins them."""
        from messaging import handovers

        again = [j for j in jobs if len(j.pdus) > 1 and j.message.attempt > 1]
        if not again:
            return
        accepted = handovers.accepted_parts([j.message.id for j in again])
        for job in again:
            for part, carrier_id in accepted.get(job.message.id, {}).items():
                if part < len(job.pdus):
                    job.answers[part] = (0, carrier_id)
                    if part:
                        self._remember_secondary(carrier_id)
            job.todo = [p for p in range(len(job.pdus)) if p not in job.answers]

    def _answer(self, item, resend, answers) -> None:
        """One part's answer.  A message is settled once every part of this
        attempt is: accepted (all parts), unknown (an answer lost with a
        link), or refused — temporarily (sent again later: only the parts
        not accepted) or for good (failed and refunded by the core)."""
        entry, status, carrier_id = item
        job, part = entry.job, entry.part
        if job.done:
            return
        if status == 0:
            self.rate.fine()
            job.answers[part] = (0, carrier_id)
            if part:
                self._remember_secondary(carrier_id)
        elif status == THROTTLED:
            self.rate.throttled()
            resend.append((job, part))
            return
        elif status == LOST:
            job.lost.add(part)
        else:
            job.refused[part] = status
        if len(job.answers) + len(job.refused) + len(job.lost) < len(job.pdus):
            return  # parts still in flight
        job.done = True
        mid, parts = job.message.id, job.parts_record()
        if job.lost:
            job.unknown = True
            answers.append((mid, "unknown", "", parts))
        elif job.refused:
            permanent = sorted(
                p for p, st in job.refused.items() if st not in TEMPORARY
            )
            first = permanent[0] if permanent else min(job.refused)
            where = (
                f" (часть {first + 1} из {len(job.pdus)})" if len(job.pdus) > 1 else ""
            )
            job.error = GatewayError(
                f"Оператор не принял сообщение: {status_text(job.refused[first])}"
                + where,
                permanent=bool(permanent),
            )
            answers.append((mid, "rejected", "", parts))
        else:
            answers.append((mid, "accepted", job.answers[0][1], parts))

    def _remember_secondary(self, carrier_id: str) -> None:
        self.secondary[carrier_id] = None
        if len(self.secondary) > self.SECONDARY_IDS:
            self.secondary.popitem(last=False)

    def recover_claims(self, ids: list[int]) -> set[int]:
        from messaging import handovers

        return handovers.recover_claims(self.channel, ids)

    # reports and incoming messages
    def _apply_loop(self) -> None:
        from django.db import close_old_connections

        waiting: list = []  # unmatched reports, not acknowledged yet
        last_resolve = 0.0
        while not self.stopping:
            batch = []
            try:
                batch.append(self.incoming.get(timeout=0.1))
                deadline = time.monotonic() + 0.05
                while len(batch) < 5000 and time.monotonic() < deadline:
                    batch.append(self.incoming.get(timeout=0.01))
            except queue.Empty:
                pass
            try:
                close_old_connections()
                waiting = self._apply(batch, waiting)
                if time.monotonic() - last_resolve > 1.0:
                    last_resolve = time.monotonic()
                    from messaging import handovers

                    if self._reports_settled():
                        handovers.resolve_unknown(
                            self.channel,
                            older_than=self.conf.unknown_resolve_seconds,
                            rule=self.conf.unknown_rule,
                        )
                    self.publish_health()
            except Exception:  # noqa: BLE001 - tried again, never dropped
                log.exception("smpp: applying reports failed")
                for item in batch:
                    self.incoming.put(item)
                time.sleep(1)
        from django.db import connection

        connection.close()

    REPORT_GRACE = 1.0  # seconds a report waits for its answer to be recorded

    def _reports_settled(self) -> bool:
        """Whether reports the carrier held for us (those a dead worker left
        unacknowledged, handed out again on bind) have had time to arrive and
        settle unknown hand-overs: a receiving link bound for a while.  The
        rule for unknown hand-overs acts only then."""
        now = time.monotonic()
        return any(
            link.bound
            and link.mode != "bind_transmitter"
            and now - link.bound_since > 5 * self.REPORT_GRACE + 2
            for link in self.links
        )

    def _apply(self, batch, waiting):
        from django.utils import timezone

        from messaging import handovers

        now = time.monotonic()
        # (first seen, receipt, destination address, (link, sequence)): a
        # report is acknowledged only once applied (or given up), so one that
        # dies with this worker is delivered again by the carrier.
        receipts: list[tuple[float, Receipt, str, tuple]] = []
        incoming = []
        acks = []
        for link, pdu in batch:
            ack = (link, pdu.sequence)
            esm = getattr(pdu, "esm_class", 0) or 0
            if esm & ESM_DELIVERY_RECEIPT:
                parsed = parse_report(pdu)
                if parsed is None:
                    log.warning(
                        "smpp: malformed delivery report from %s ignored: %r",
                        _text(pdu.source_addr),
                        _text(getattr(pdu, "short_message", b""))[:200],
                    )
                    acks.append(ack)
                    continue
                gid, status, reason = parsed
                if not status:
                    acks.append(ack)
                    continue  # an interim state
                receipts.append(
                    (
                        now,
                        Receipt(
                            status, gateway_id=gid, reason=reason, at=timezone.now()
                        ),
                        _text(pdu.source_addr),
                        ack,
                    )
                )
            else:
                acks.append(ack)
                text = decode_text(pdu)
                minute = int(time.time() // 60)  # a repeat within it is one
                phone = _text(pdu.source_addr)
                recipient = _text(pdu.destination_addr)
                incoming.append(
                    {
                        "phone": phone,
                        "recipient": recipient,
                        "text": text,
                        "external_id": hashlib.sha1(
                            f"{phone}|{recipient}|{text}|{minute}".encode()
                        ).hexdigest(),
                        "received_at": timezone.now(),
                    }
                )
        pending = receipts + waiting
        mapping = handovers.ids_by_gateway(
            self.channel, [r.gateway_id for _t, r, _a, _k in pending]
        )
        # Reports nobody recorded an id for yet: an answer not flushed yet
        # (wait a moment), an unconfirmed hand-over (matched by address), a
        # later part of a long text, or a carrier id we never saw.
        late = [
            (r.gateway_id, a)
            for t, r, a, _k in pending
            if r.gateway_id not in mapping
            and r.gateway_id not in self.secondary
            and now - t >= self.REPORT_GRACE
        ]
        if late:
            mapping.update(handovers.settle_by_address(self.channel, late))
        ready, still = [], []
        for t, r, a, ack in pending:
            if r.gateway_id in mapping:
                ready.append(replace(r, message_id=mapping[r.gateway_id]))
                acks.append(ack)
            elif r.gateway_id in self.secondary:
                acks.append(ack)  # status follows the first part's report
            elif now - t > 60:
                log.warning(
                    "smpp: report for an unknown carrier id %s ignored", r.gateway_id
                )
                acks.append(ack)
            else:
                still.append((t, r, a, ack))
        handovers.apply_reports(self.channel, ready)
        if incoming:
            handovers.store_incoming(self.channel, incoming)
        for link, sequence in acks:
            link.respond(sequence, "deliver_sm_resp")
        return still
