import importlib
from decimal import Decimal

import pytest
from django.apps import apps as django_apps


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def seed_rates():
    """The manual's rates (transactional tests flush the seeded migration)."""
    importlib.import_module("partners.migrations.0002_reward_rates").seed(
        django_apps, None
    )


@pytest.fixture
def rates(db):
    seed_rates()


@pytest.fixture
def partner_and_client(make_user, rates):
    """A partner and a client it brought (attributed as the sign-up does)."""
    from partners import services

    partner = make_user("partner@example.com", balance=Decimal("0"))
    client = make_user("client@example.com", balance=Decimal("100000"))
    code = services.partner_for(account=partner.account).code
    assert services.attribute(client=client.account, code=code)
    return partner, client


def charge(account_id, amount, service="sms", kind="charge", ref=""):
    from billing.services import ledger_post

    return ledger_post(
        account_id=account_id,
        amount=Decimal(amount),
        kind=kind,
        reason=f"{kind} {service}",
        service=service,
        reference=ref,
    )
