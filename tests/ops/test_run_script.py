"""``make run`` (scripts/run.sh) stops within a few seconds on Ctrl-C or
SIGTERM, even while the worker is busy sending — it used to sit in the
worker's warm shutdown until the running dispatch finished (35 s and more)."""

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from messaging import services
from messaging.models import GatewaySubmission
from tests.ops.conftest import (
    broker,
    child_database_url,
    free_port,
    funded_account,
    make_group,
    needs_postgres,
    wait_for,
)

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    needs_postgres,
]
ROOT = Path(__file__).resolve().parents[2]
STOPPED_WITHIN = 8  # seconds: TERM, 2 s of grace, cold shutdown, slack for a busy CI


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
            return True
    except OSError:
        return False


def _children(pid: int) -> list[int]:
    out = subprocess.run(
        ["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True
    ).stdout
    return [int(x) for x in out.split()]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for our purpose.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
def test_make_run_stops_within_seconds_while_the_worker_is_busy(
    how, user, private_redis, tmp_path
):
    port = free_port()
    log_path = tmp_path / "run.log"
    env = {
        **os.environ,
        "DEVELOPMENT": "1",  # what make run sets
        "PY": sys.executable,
        "PORT": str(port),
        "VAR_DIR": str(tmp_path / "var"),
        "DATABASE_URL": child_database_url(),
        "REDIS_URL": private_redis.url(0),
        "FAKE_GATEWAY_MODE": "instant",
        "FAKE_GATEWAY_RATE": "100",  # a minute of sending: busy when stopped
        "MESSAGING_DISPATCH_BATCH": "50",
    }
    with open(log_path, "wb") as log:
        # A session of its own, like the terminal's foreground job.
        proc = subprocess.Popen(
            ["bash", "scripts/run.sh"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        services_ = []
        try:
            assert wait_for(lambda: _healthy(port), 90), log_path.read_text()[-3000:]
            assert wait_for(lambda: b"ready." in log_path.read_bytes(), 60)
            services_ = _children(proc.pid)
            assert len(services_) == 3, services_
            services_ += [p for pid in services_ for p in _children(pid)]  # pool

            account = funded_account(user)
            group = make_group(account, "busy", 6000, 0)
            with broker(private_redis.url(0), "celery"):
                services.campaign_launch(
                    account=account, channel="sms", text="Тест", group_ids=[group.pk]
                )
            assert wait_for(lambda: GatewaySubmission.objects.count() > 100, 90), (
                log_path.read_text()[-3000:]
            )

            started = time.monotonic()
            if how == "ctrl-c":  # the terminal signals its whole foreground group
                os.killpg(proc.pid, signal.SIGINT)
            else:
                proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)
            took = time.monotonic() - started
            assert took < STOPPED_WITHIN, (
                f"stopped after {took:.1f} s\n" + log_path.read_text()[-3000:]
            )
            assert GatewaySubmission.objects.count() < 6000, "it was not busy"
            time.sleep(0.5)
            left = [pid for pid in services_ if _alive(pid)]
            assert not left, f"still running: {left}"
        finally:
            for pid in [proc.pid, *services_]:
                try:
                    os.killpg(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            proc.wait(10)

