"""The real voice path: calls over SIP through a trunk (``VOICE_SIP_TRUNK``).

Signalling is aiosipua (an asyncio SIP user agent: INVITE, CANCEL, BYE,
dialogs and transactions per RFC 3261, no runtime dependencies, maintained);
media is its companion aiortp (RTP with G.711 and RFC 2833 telephone events).
Chosen over PJSUA2 (a C library whose Python wheels are unofficial and pull a
sound device) and pyVoIP (registers as a phone; no release since 2024).

A campaign call: INVITE from a federal number (or the client's own approved
number, ``voice.calls.Callers``) with a G.711 µ-law offer →
ringing → answer (or busy / no answer / rejected) → the audio is played over
RTP in real time, 20 ms a packet; digits arrive as RFC 2833 events and act on
the menu (repeat the message, request a URL, unsubscribe, end); the call ends
when the audio ends (we send BYE) or the recipient hangs up (their BYE).  What
was heard — seconds connected, the furthest point of the audio reached, the
digit — becomes the message's receipt (``voice.calls``).

A CallPassword call rings and is cancelled: the code is in the caller's
number, nobody needs to answer.

Modes: ``inline`` places a dispatch batch's calls concurrently inside
``submit`` and hands the results back through ``drain_receipts`` (tests, a
small installation); ``async`` (default) places them in a Celery task
(``voice.tasks.place_calls``) that applies the results when the calls end, so
dispatch never waits for a conversation.
"""

import asyncio
import logging
import math
import socket
import time
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from messaging.gateways.base import BaseGateway, OutgoingMessage, Receipt, SubmitResult
from messaging.statuses import receipts_apply

from . import audio as audio_lib
from . import calls
from .calls import CallOutcome

log = logging.getLogger(__name__)

FRAME_SAMPLES = 160  # 20 ms at 8 kHz
FRAME_BYTES = FRAME_SAMPLES * 2
FRAME_SECONDS = 0.02
MAX_REPEATS = 3
BUSY_CODES = {486, 600}
NO_ANSWER_CODES = {408, 480, 487}
REJECTED_CODES = {403, 603}


@dataclass
class CallSpec:
    """One call to place (JSON-able for the async task)."""

    message_id: int
    attempt: int
    phone: str
    caller: str
    audio: str = ""  # relative path of the telephone WAV; "" for CallPassword
    duration: int = 0
    ivr: dict = field(default_factory=dict)
    redial_count: int = 0
    redial_interval: int = 0
    code: str = ""

    def outgoing(self) -> OutgoingMessage:
        """The message as ``voice.calls.receipt_for`` reads it."""
        from .channels import CallPasswordContent, VoiceContent

        content = (
            CallPasswordContent(code=self.code)
            if self.code
            else VoiceContent(
                ivr=self.ivr,
                redial_count=self.redial_count,
                redial_interval=self.redial_interval,
                duration=self.duration,
                audio=self.audio,
            )
        )
        return OutgoingMessage(
            id=self.message_id,
            phone=self.phone,
            sender=self.caller,
            text="",
            content=content,
            attempt=self.attempt,
        )


def _udp_transport_class():
    """aiosipua's UDP transport, bound without its check that the asyncio
    transport subclasses ``DatagramTransport`` (true from Python 3.12 only:
    on 3.11 the check fails in a callback and only litters the log)."""
    from aiosipua.transport import UdpSipTransport, _UdpProtocol

    class Protocol(_UdpProtocol):
        def connection_made(self, transport):
            self._owner._udp_transport = transport

    class Transport(UdpSipTransport):
        async def start(self) -> None:
            loop = asyncio.get_running_loop()
            transport, _protocol = await loop.create_datagram_endpoint(
                lambda: Protocol(self), local_addr=self.local_addr
            )
            self._udp_transport = transport

    return Transport


def free_udp_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _digits(number: str) -> str:
    return "".join(ch for ch in number if ch.isdigit())


def _ack_failures(uac, transport, invite) -> None:
    """Acknowledge a failure answer to the INVITE (busy, 487 after a CANCEL…)
    as the INVITE client transaction must (RFC 3261 §17.1.1.3): aiosipua
    acknowledges only 2xx answers, and a trunk retransmits the failure
    until it gets the ACK."""
    from aiosipua.message import SipRequest

    handle = uac.handle_response

    def handle_response(response, addr):
        cseq = response.cseq
        if response.status_code >= 300 and cseq and cseq.method.upper() == "INVITE":
            ack = SipRequest(method="ACK", uri=invite.uri)
            ack.headers.append("Via", invite.headers.get_first("Via") or "")
            for name in ("From", "Call-ID"):
                ack.headers.set_single(name, invite.headers.get_first(name) or "")
            ack.headers.set_single("To", response.headers.get_first("To") or "")
            ack.headers.set_single("CSeq", f"{cseq.seq} ACK")
            ack.headers.set_single("Max-Forwards", "70")
            transport.send(ack, addr)
        handle(response, addr)

    uac.handle_response = handle_response


class Call:
    """One outbound call, driven by ``run`` (inside an event loop)."""

    def __init__(
        self,
        spec: CallSpec,
        *,
        trunk: tuple[str, int],
        local_ip: str,
        domain: str,
        ring_seconds: float,
    ):
        self.spec = spec
        self.trunk = trunk
        self.local_ip = local_ip
        self.domain = domain or trunk[0]
        self.ring_seconds = ring_seconds
        self.digit = ""
        self.digits: asyncio.Queue = asyncio.Queue()
        self.ringing = asyncio.Event()
        self.remote_bye = asyncio.Event()

    async def run(self) -> CallOutcome:
        from aiosipua import SipUAC, SipUAS
        from aiosipua.sdp_negotiate import build_sdp

        transport = _udp_transport_class()(local_addr=(self.local_ip, 0))
        uac = SipUAC(transport)
        uas = SipUAS(transport, uac=uac)
        uas.on_bye = lambda call, request: self.remote_bye.set()
        await uas.start()
        transport.local_addr = transport._udp_transport.get_extra_info("sockname")[:2]
        rtp_port = free_udp_port(self.local_ip)
        offer = build_sdp(self.local_ip, rtp_port, 0, "PCMU", dtmf_payload_type=101)
        caller = _digits(self.spec.caller)
        call = uac.send_invite(
            f"sip:{caller}@{self.local_ip}",
            f"sip:{_digits(self.spec.phone)}@{self.domain}",
            self.trunk,
            offer,
            user_agent="cabinet-voice/1.0",
        )
        call.on_ringing = lambda c: self.ringing.set()
        _ack_failures(uac, transport, call.invite)
        try:
            if self.spec.code:
                return await self._ring_and_cancel(uac, call, caller)
            return await self._converse(uac, call, caller, rtp_port)
        finally:
            uac.remove_call(call.call_id)
            await uas.stop()

    async def _ring_and_cancel(self, uac, call, caller) -> CallOutcome:
        answered = asyncio.ensure_future(call.wait_answered(self.ring_seconds))
        ringing = asyncio.ensure_future(self.ringing.wait())
        done, _pending = await asyncio.wait(
            {answered, ringing},
            timeout=self.ring_seconds,
            return_when=asyncio.FIRST_COMPLETED,
        )
        if ringing in done:
            answered.cancel()
            call.cancel(uac)
            await asyncio.sleep(0.2)  # let the 487 arrive and be acknowledged
            return CallOutcome(calls.RANG, self.spec.caller)
        ringing.cancel()
        if answered in done:
            try:
                answered.result()
            except RuntimeError:
                return self._rejected(call)
            call.hangup(uac)
            return CallOutcome(calls.RANG, self.spec.caller)
        answered.cancel()
        call.cancel(uac)
        return CallOutcome(calls.NO_ANSWER, self.spec.caller)

    def _rejected(self, call) -> CallOutcome:
        code = call._reject_code
        if code in BUSY_CODES:
            result = calls.BUSY
        elif code in NO_ANSWER_CODES:
            result = calls.NO_ANSWER
        elif code in REJECTED_CODES:
            result = calls.REJECTED
        else:
            result = calls.FAILED
        detail = "" if result != calls.FAILED else f"SIP {code} {call._reject_reason}"
        return CallOutcome(result, self.spec.caller, detail=detail.strip())

    async def _converse(self, uac, call, caller, rtp_port) -> CallOutcome:
        import aiortp

        try:
            await call.wait_answered(self.ring_seconds)
        except TimeoutError:
            call.cancel(uac)
            await asyncio.sleep(0.2)
            return CallOutcome(calls.NO_ANSWER, self.spec.caller)
        except RuntimeError:
            return self._rejected(call)
        answered_at = timezone.now()
        started = time.monotonic()
        remote = call.sdp_answer.rtp_address if call.sdp_answer else None
        if remote is None:
            call.hangup(uac)
            return CallOutcome(
                calls.FAILED, self.spec.caller, detail="Нет SDP в ответе"
            )
        session = await aiortp.RTPSession.create(
            local_addr=(self.local_ip, rtp_port),
            remote_addr=remote,
            payload_type=0,
            dtmf_payload_type=101,
        )
        session.on_dtmf = lambda digit, duration: self.digits.put_nowait(digit)
        pcm = audio_lib.pcm_frames(self.spec.audio)
        try:
            furthest = await self._play(session, pcm)
        finally:
            await session.close()
        if not self.remote_bye.is_set():
            call.hangup(uac)
            await asyncio.sleep(0.05)
        seconds = max(1, math.ceil(time.monotonic() - started))
        return CallOutcome(
            calls.ANSWERED,
            self.spec.caller,
            answered_at=answered_at,
            seconds=seconds,
            listened_ms=furthest,
            digit=self.digit,
        )

    async def _play(self, session, pcm: bytes) -> int:
        """Play the audio in real time until it ends, the recipient hangs up or
        a digit ends the call.  Returns the furthest point heard (ms)."""
        loop = asyncio.get_running_loop()
        position = 0
        furthest = 0
        repeats = 0
        timestamp = 0
        next_tick = loop.time()
        while True:
            if self.remote_bye.is_set():
                break
            while not self.digits.empty():
                digit = self.digits.get_nowait()
                if not self.digit:
                    self.digit = digit
                action = (self.spec.ivr.get(digit) or {}).get("action")
                if action == "repeat" and repeats < MAX_REPEATS:
                    repeats += 1
                    position = 0
                elif action in ("unsubscribe", "end"):
                    return furthest
            if position >= len(pcm):
                # Give a digit pressed at the very end a moment to arrive.
                await asyncio.sleep(0.1)
                if self.digits.empty():
                    return furthest
                continue
            frame = pcm[position : position + FRAME_BYTES]
            if len(frame) < FRAME_BYTES:
                frame = frame + b"\0" * (FRAME_BYTES - len(frame))
            session.send_audio_pcm(frame, timestamp)
            timestamp = (timestamp + FRAME_SAMPLES) % 2**32
            position += FRAME_BYTES
            furthest = max(furthest, min(position, len(pcm)) * 1000 // (2 * 8000))
            next_tick += FRAME_SECONDS
            await asyncio.sleep(max(0.0, next_tick - loop.time()))
        return furthest


class SipVoiceGateway(BaseGateway):
    """Voice and CallPassword calls through a SIP trunk."""

    def __init__(self, *, channel: str, **options):
        super().__init__(channel=channel, **options)
        host, _, port = str(options.get("trunk") or "127.0.0.1:5060").rpartition(":")
        self.trunk = (host or "127.0.0.1", int(port or 5060))
        self.local_ip = options.get("local_ip") or "127.0.0.1"
        self.domain = options.get("domain") or ""
        self.ring_seconds = float(options.get("ring_seconds") or 30)
        self.max_calls = int(options.get("max_calls") or 20)
        self.mode = options.get("mode") if options.get("mode") == "inline" else "async"
        self.callers = calls.Callers()
        self.pending: list[Receipt] = []

    def spec_for(self, m: OutgoingMessage, caller: str) -> CallSpec:
        content = m.content
        return CallSpec(
            message_id=m.id,
            attempt=m.attempt,
            phone=m.phone,
            caller=caller,
            audio=getattr(content, "audio", ""),
            duration=getattr(content, "duration", 0),
            ivr=dict(getattr(content, "ivr", {}) or {}),
            redial_count=getattr(content, "redial_count", 0),
            redial_interval=getattr(content, "redial_interval", 0),
            code=getattr(content, "code", ""),
        )

    def submit(self, messages: list[OutgoingMessage]) -> list[SubmitResult]:
        callers = self.callers.for_batch(messages, calls.plans_for(messages))
        specs = [
            self.spec_for(m, caller)
            for m, caller in zip(messages, callers, strict=True)
        ]
        results = [
            SubmitResult(s.message_id, gateway_id=f"sip-{s.message_id}-{s.attempt}")
            for s in specs
        ]
        if self.mode == "inline":
            self.pending.extend(self.run(specs))
            return results
        from .tasks import place_calls

        payload = [s.__dict__ for s in specs]
        channel = self.channel
        transaction.on_commit(lambda: place_calls.delay(channel, payload))
        return results

    def drain_receipts(self) -> list[Receipt]:
        receipts, self.pending = self.pending, []
        return receipts

    def run(self, specs: list[CallSpec]) -> list[Receipt]:
        """Place the calls concurrently (at most ``max_calls`` at once) and
        return their receipts."""
        return asyncio.run(self._run_all(specs))

    async def _run_all(self, specs: list[CallSpec]) -> list[Receipt]:
        limit = asyncio.Semaphore(self.max_calls)

        async def one(spec: CallSpec) -> Receipt:
            async with limit:
                call = Call(
                    spec,
                    trunk=self.trunk,
                    local_ip=self.local_ip,
                    domain=self.domain,
                    ring_seconds=self.ring_seconds,
                )
                cap = self.ring_seconds + (spec.duration or 0) * (MAX_REPEATS + 1) + 10
                try:
                    outcome = await asyncio.wait_for(call.run(), timeout=cap)
                except (TimeoutError, OSError) as exc:
                    log.warning("call %s failed: %s", spec.message_id, exc)
                    outcome = CallOutcome(
                        calls.FAILED, spec.caller, detail="Сбой линии"
                    )
                return calls.receipt_for(spec.outgoing(), outcome)

        return list(await asyncio.gather(*(one(s) for s in specs)))

    def run_and_report(self, payload: list[dict]) -> int:
        """The async task's work: dial the calls not dialled yet (a task
        redelivered after its worker died dials none twice), then apply
        their results."""
        specs = [CallSpec(**d) for d in payload]
        mine = calls.calls_claim([(s.message_id, s.attempt) for s in specs])
        receipts = self.run([s for s in specs if (s.message_id, s.attempt) in mine])
        return receipts_apply(channel=self.channel, receipts=receipts)


__all__ = ["SipVoiceGateway", "CallSpec", "Call"]
