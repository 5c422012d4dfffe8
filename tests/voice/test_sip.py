"""The SIP gateway against Debian's sipp (package sip-tester) on loopback:
each scenario is a real callee on a free port, and each call ends in the right
status, seconds and price through the whole pipeline.  Bounded: sipp quits
after one call or 20 s, a call rings at most 2 s."""

import re
import shutil
import subprocess
import time
from decimal import Decimal
from pathlib import Path

import pytest

from messaging import registry
from messaging.dispatch import dispatch_batch
from messaging.models import MessageStatus as S
from voice import services
from voice.sip import free_udp_port

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        not shutil.which("sipp"), reason="Debian's sipp is not installed"
    ),
]
SCENARIOS = Path(__file__).parent / "sipp"


class Sipp:
    def __init__(self, scenario: str, tmp_path):
        self.port = free_udp_port("127.0.0.1")
        media = free_udp_port("127.0.0.1")
        self.dir = tmp_path
        self.proc = subprocess.Popen(
            [
                "sipp",
                "-sf",
                str(SCENARIOS / f"{scenario}.xml"),
                "-i",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-mi",
                "127.0.0.1",
                "-mp",
                str(media),
                "-m",
                "1",
                "-nostdin",
                "-timeout",
                "20s",
                "-timeout_error",
                "-trace_logs",
                "-trace_err",
            ],
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(0.3)  # bound and listening

    def finish(self) -> str:
        """sipp's exit (0: the scenario ran as written) and its log."""
        try:
            rc = self.proc.wait(timeout=25)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise
        errors = "".join(p.read_text() for p in self.dir.glob("*_errors.log"))
        assert rc == 0, errors
        return "".join(p.read_text() for p in self.dir.glob("*_logs.log"))


@pytest.fixture
def sipp(settings, tmp_path):
    started = []

    def start(scenario: str) -> Sipp:
        callee = Sipp(scenario, tmp_path)
        started.append(callee)
        settings.MESSAGING_GATEWAYS = {
            **settings.MESSAGING_GATEWAYS,
            "voice": {
                "BACKEND": "voice.sip.SipVoiceGateway",
                "OPTIONS": {
                    "mode": "inline",
                    "trunk": f"127.0.0.1:{callee.port}",
                    "local_ip": "127.0.0.1",
                    "ring_seconds": 2,
                },
            },
        }
        registry.reset_gateways()
        return callee

    yield start
    for callee in started:
        if callee.proc.poll() is None:
            callee.proc.kill()
    registry.reset_gateways()


@pytest.fixture(autouse=True)
def _no_eager_dispatch(monkeypatch):
    # Calls are placed by the test's dispatch_batch, once.
    monkeypatch.setattr("messaging.prepare.enqueue_dispatch", lambda channel: None)


def call(user, audio, **content):
    campaign = services.voice_launch(
        account=user.account,
        content=services.content_of(audio_id=audio.pk, **content),
        phones=["+79161234567"],
    )
    assert dispatch_batch(channel="voice") == 1
    return campaign, campaign.messages.get()


def test_answered_and_a_digit_pressed(user, approved, sipp):
    callee = sipp("answer_digit")
    campaign, message = call(user, approved, ivr={"1": {"action": "end"}})
    callee.finish()
    assert message.status == S.IVR
    assert message.extra["digit"] == "1"
    # The digit came after about a second of audio: the call ended then.
    assert 1 <= message.extra["seconds"] <= 3
    assert 0 < message.extra["percent"] < 100
    assert message.extra["answered_at"]
    assert message.price == Decimal("1.10")  # the first 20 seconds, their own price
    campaign.refresh_from_db()
    assert campaign.cost == message.price


def test_busy(user, approved, sipp):
    callee = sipp("busy")
    campaign, message = call(user, approved)
    callee.finish()
    assert (message.status, message.reason) == (S.UNDELIVERED, "Занято")
    assert message.price == 0 and "seconds" not in message.extra


def test_no_answer_is_cancelled_and_redialled_later(user, approved, sipp):
    callee = sipp("no_answer")
    campaign, message = call(user, approved, redial_count=1, redial_interval=5)
    callee.finish()
    assert message.status == S.DEFERRED
    assert message.extra["call_1"]["result"] == "no_answer"
    assert message.reason.startswith("Абонент не ответил; перезвон")
    # Held until the redial: nothing settled yet.
    assert message.price == campaign.cost > 0


def test_early_hang_up_is_billed_on_what_was_heard(user, approved, sipp):
    callee = sipp("early_hangup")
    campaign, message = call(user, approved)
    callee.finish()
    assert message.status == S.SUCCESS
    assert 2 <= message.extra["seconds"] <= 4
    heard = message.extra["listened"]
    assert 1 <= heard <= 3 and message.extra["percent"] < 100
    assert message.price == Decimal("1.10")


def test_callpassword_rings_from_the_number_that_carries_the_code(user, sipp):
    callee = sipp("no_answer")
    result = services.callpassword_send(
        account=user.account, recipient="+79161234567", client_id="login-1"
    )
    assert dispatch_batch(channel="callpassword") == 1
    log = callee.finish()
    caller = re.search(r"caller=(\d+)@", log).group(1)
    assert caller.endswith(result.code) and len(result.code) == 4
    message = result.request.message
    message.refresh_from_db()
    assert message.status == S.SUCCESS
    assert message.price == Decimal("0.45")


def test_a_redelivered_call_task_dials_nobody_twice(
    user,
    approved,
    sipp,
    settings,
    monkeypatch,
    django_capture_on_commit_callbacks,
    caplog,
):
    """Async mode: dispatch hands the calls to ``place_calls``; a task
    redelivered after its worker died (Redis re-delivers unacknowledged
    tasks) must not ring the recipient again."""
    from voice import tasks

    caplog.set_level("INFO", logger="aiosipua")
    callee = sipp("answer_digit")
    settings.MESSAGING_GATEWAYS["voice"]["OPTIONS"]["mode"] = "async"
    registry.reset_gateways()
    handed = []
    monkeypatch.setattr(
        tasks.place_calls, "delay", lambda ch, calls: handed.append(calls)
    )
    campaign = services.voice_launch(
        account=user.account,
        content=services.content_of(audio_id=approved.pk, ivr={"1": {"action": "end"}}),
        phones=["+79161234567"],
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert dispatch_batch(channel="voice") == 1
    [payload] = handed
    gateway = registry.get_gateway("voice")
    assert gateway.run_and_report(payload) == 1
    callee.finish()
    message = campaign.messages.get()
    assert message.status == S.IVR
    # The same task again (its worker died before acknowledging it): the call
    # is marked placed, so nothing is dialled and nothing changes.
    assert gateway.run_and_report(payload) == 0
    invites = [r for r in caplog.records if r.getMessage().startswith("Sent INVITE")]
    assert len(invites) == 1
    message.refresh_from_db()
    assert message.status == S.IVR and message.extra["placed_1"]
