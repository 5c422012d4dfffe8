"""Forged payments with the default configuration: outside development mode the
web server and the Celery processes refuse to start on the published
development secrets or the fake acquirer; the README's production environment
passes ``check --deploy``; the production-shaped stack sets no secret of its
own and restarts crashed services."""

import hashlib
import hmac
import json
import os
import re
import secrets
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
# Everything that could make a child process a development or production one.
CLEARED = {
    "DEBUG",
    "DEVELOPMENT",
    "SECRET_KEY",
    "BILLING_ACQUIRER",
    "BILLING_ACQUIRER_SECRET",
    "ALLOWED_HOSTS",
    "SITE_URL",
    "SECURE_SSL_REDIRECT",
    "SECURE_PROXY_SSL_HEADER",
    "SECURE_COOKIES",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
}
GOOD_KEY = secrets.token_urlsafe(50)
# README, "Production" (the test checks the README names each of them).
PRODUCTION_ENV = {
    "SECRET_KEY": GOOD_KEY,
    "BILLING_ACQUIRER": "none",
    "ALLOWED_HOSTS": "cabinet.example.com",
    "SITE_URL": "https://cabinet.example.com",
    "SECURE_PROXY_SSL_HEADER": "1",
    "SECURE_SSL_REDIRECT": "1",
    "SECURE_COOKIES": "1",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "1",
    "SECURE_HSTS_PRELOAD": "1",
}


# What a child process inherits: where to find things and which services to use,
# nothing another test may have left in this process's environment.
INHERITED = {
    "PATH",
    "HOME",
    "LANG",
    "LC_ALL",
    "TMPDIR",
    "DATABASE_URL",
    "REDIS_URL",
    "VIRTUAL_ENV",
    "PYTHONPATH",
}


def _run(args, timeout=60, **env):
    environment = {
        k: v for k, v in os.environ.items() if k in INHERITED and k not in CLEARED
    }
    environment.update(env)
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _start_web(**env):
    return _run(["-c", "import cabinet.wsgi"], **env)


def test_the_web_server_refuses_to_start_on_the_development_defaults():
    result = _start_web()
    assert result.returncode != 0
    for name in ("SECRET_KEY", "BILLING_ACQUIRER:", "BILLING_ACQUIRER_SECRET"):
        assert name in result.stderr, result.stderr[-2000:]
    assert "Refusing to start" in result.stderr


@pytest.fixture
def production(settings):
    """This process's settings as a production process would read them from
    PRODUCTION_ENV (the checks read settings when they run)."""
    settings.DEBUG = False
    settings.DEVELOPMENT = False
    settings.SECRET_KEY = GOOD_KEY
    settings.BILLING_ACQUIRER = {"BACKEND": "none", "OPTIONS": {}}
    return settings


@pytest.mark.parametrize(
    "changes, expected",
    [
        # docker-compose.yml's old default
        ({"SECRET_KEY": "change-me"}, "SECRET_KEY"),
        (
            {"SECRET_KEY": "dev-insecure-secret-key-change-me-in-production"},
            "SECRET_KEY",
        ),
        ({"SECRET_KEY": "x" * 60}, "SECRET_KEY"),
        # the acquirer secret used to be SECRET_KEY + ":acquirer"
        (
            {
                "BILLING_ACQUIRER": "shop.acquirers.Bank",
                "BILLING_ACQUIRER_SECRET": GOOD_KEY + ":acquirer",
            },
            "not derived from SECRET_KEY",
        ),
        (
            {
                "BILLING_ACQUIRER": "shop.acquirers.Bank",
                "BILLING_ACQUIRER_SECRET": "dev-insecure-acquirer-secret",
            },
            "BILLING_ACQUIRER_SECRET",
        ),
        ({"BILLING_ACQUIRER": ""}, "BILLING_ACQUIRER:"),
        # the fake acquirer credits its test card
        (
            {
                "BILLING_ACQUIRER": "billing.acquirer.FakeAcquirer",
                "BILLING_ACQUIRER_SECRET": secrets.token_urlsafe(40),
            },
            "fake acquirer",
        ),
    ],
)
def test_published_or_derived_secrets_and_the_fake_acquirer_are_refused(
    production, changes, expected
):
    from django.core.exceptions import ImproperlyConfigured

    from cabinet.deploy import production_problems, refuse_insecure_start

    for name, value in changes.items():
        if name == "BILLING_ACQUIRER":
            production.BILLING_ACQUIRER = {"BACKEND": value, "OPTIONS": {}}
        else:
            setattr(production, name, value)
    assert any(expected in problem for problem in production_problems())
    with pytest.raises(ImproperlyConfigured):
        refuse_insecure_start()
    production.DEVELOPMENT = True  # make run
    assert production_problems() == []


def test_a_real_acquirer_with_a_secret_of_its_own_is_accepted(production):
    from cabinet.deploy import production_problems

    assert production_problems() == []
    production.BILLING_ACQUIRER = {"BACKEND": "shop.acquirers.Bank", "OPTIONS": {}}
    production.BILLING_ACQUIRER_SECRET = secrets.token_urlsafe(40)
    assert production_problems() == []


def test_the_documented_production_environment_passes_check_deploy():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Production", 1)[1].split("\n## ", 1)[0]
    for name in PRODUCTION_ENV:
        assert name in section, f"README's Production section does not name {name}"
    check = _run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        **PRODUCTION_ENV,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert "no issues" in check.stdout
    web = _start_web(**PRODUCTION_ENV)
    assert web.returncode == 0, web.stderr[-2000:]


def test_development_mode_starts_with_nothing_configured():
    result = _start_web(DEVELOPMENT="1")
    assert result.returncode == 0, result.stderr[-2000:]


def test_the_celery_worker_refuses_to_start_too():
    args = ["-m", "celery", "-A", "cabinet", "worker", "--loglevel=WARNING"]
    args += ["--pool=solo", "--without-mingle", "--without-gossip"]
    # A broker that is not there: the refusal comes before any connection.
    result = _run(args, timeout=60, REDIS_URL="redis://127.0.0.1:1/0")
    assert result.returncode == 1, result.stdout[-1000:] + result.stderr[-1000:]
    assert "SECRET_KEY" in result.stdout + result.stderr


def test_the_production_stack_sets_no_secret_and_restarts_crashed_services():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    env = compose["x-app"]["environment"]
    # ${NAME:?message}: compose refuses to start until the operator sets it.
    assert re.fullmatch(r"\$\{SECRET_KEY:\?.+\}", env["SECRET_KEY"])
    assert re.fullmatch(r"\$\{BILLING_ACQUIRER:\?.+\}", env["BILLING_ACQUIRER"])
    assert "change-me" not in (ROOT / "docker-compose.yml").read_text()
    for name, service in compose["services"].items():
        if name == "migrate":
            continue
        restart = service.get("restart") or compose["x-app"].get("restart")
        assert restart in ("always", "unless-stopped", "on-failure"), name


# --- card payments turned off ("BILLING_ACQUIRER=none") ----------------------------


@pytest.fixture
def no_acquirer(settings):
    from billing.acquirer import reset_acquirer

    settings.BILLING_ACQUIRER = {"BACKEND": "none", "OPTIONS": {}}
    reset_acquirer()
    yield
    reset_acquirer()


@pytest.mark.django_db
def test_with_card_payments_off_the_cabinet_offers_invoices_only(
    no_acquirer, user, client_for, settings
):
    from billing.models import AcquirerCallback, Payment

    client = client_for(user)
    page = client.get("/billing/pay/").content.decode()
    assert "не подключена" in page and 'id="pay-card"' not in page
    resp = client.post("/billing/pay/card/", {"card-amount": "1000"})
    assert resp.status_code == 400
    assert "не подключена" in resp.content.decode()
    assert not Payment.objects.exists()
    # A callback for a payment made earlier is refused even when correctly signed.
    payment = Payment.objects.create(
        account=user.account, method="card", amount=Decimal("1000"), token="tok-off"
    )
    body = json.dumps(
        {"token": "tok-off", "status": "succeeded", "amount": "1000.00"}
    ).encode()
    signature = hmac.new(
        settings.BILLING_ACQUIRER_SECRET.encode(), body, hashlib.sha256
    ).hexdigest()
    resp = client.post(
        "/billing/acquirer/callback/",
        body,
        content_type="application/json",
        HTTP_X_SIGNATURE=signature,
    )
    assert resp.status_code == 403
    payment.refresh_from_db()
    assert payment.status == "pending"
    assert AcquirerCallback.objects.get().result == "bad_signature"
    assert client.get("/billing/acquirer/tok-off/").status_code == 404
