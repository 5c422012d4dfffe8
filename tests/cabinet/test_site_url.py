"""The public address (short links in SMS, the JSON API page) follows the port
``make run`` serves unless SITE_URL is set (``PORT=8611 make run`` put
http://127.0.0.1:8000/… links into messages)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _site_url(**env) -> str:
    environment = {
        k: v for k, v in os.environ.items() if k not in ("SITE_URL", "PORT")
    } | env
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; from django.conf import settings; django.setup(); "
            "print(settings.SITE_URL)",
        ],
        cwd=ROOT,
        env={**environment, "DJANGO_SETTINGS_MODULE": "cabinet.settings"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def test_the_public_address_follows_the_port():
    assert _site_url() == "http://127.0.0.1:8000"
    assert _site_url(PORT="8611") == "http://127.0.0.1:8611"


def test_site_url_wins_over_the_port():
    assert (
        _site_url(PORT="8611", SITE_URL="https://sms.example.com/")
        == "https://sms.example.com"
    )


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"PORT": "8611"}, "http://127.0.0.1:8611"),
        ({}, "http://127.0.0.1:8000"),
        (
            {"PORT": "8611", "SITE_URL": "https://sms.example.com"},
            "https://sms.example.com",
        ),
    ],
)
def test_run_sh_gives_web_and_worker_the_same_address(tmp_path, env, expected):
    """scripts/run.sh starts every process with SITE_URL set (a stand-in
    interpreter records what each one was given)."""
    record = tmp_path / "seen"
    fake = tmp_path / "python"
    # Each stand-in writes at once and lives a moment: run.sh stops the others
    # when the first one exits.
    fake.write_text(f'#!/bin/sh\necho "$SITE_URL" >> {record}\nsleep 1\n')
    fake.chmod(0o755)
    environment = {k: v for k, v in os.environ.items() if k not in ("SITE_URL", "PORT")}
    subprocess.run(
        ["bash", str(ROOT / "scripts" / "run.sh")],
        cwd=tmp_path,
        env={**environment, **env, "PY": str(fake)},
        capture_output=True,
        timeout=30,
        check=False,
    )
    seen = record.read_text().split()
    assert len(seen) == 3  # worker, beat, web
    assert set(seen) == {expected}
