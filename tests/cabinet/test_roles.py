"""What each role may do, enforced in views and in the API."""

import pytest

from billing.models import Invoice, Payment, Requisites
from cabinet.models import Account, Ticket, User
from cabinet.permissions import HasCapability, can
from tests.billing.conftest import VALID_REQUISITES

pytestmark = pytest.mark.django_db

WRITES = {
    "pay": ("/billing/pay/card/", {"card-amount": "100"}),
    "requisites": ("/billing/documents/requisites/", VALID_REQUISITES),
    "threshold": ("/settings/", {"low_balance_threshold": "10"}),
    "add_user": (
        "/settings/users/",
        {"email": "n@example.com", "role": "operator", "password": "long-enough-pw-1"},
    ),
    "ticket": ("/support/", {"subject": "s", "body": "b"}),
}
ALLOWED = {
    "owner": {"pay", "requisites", "threshold", "add_user", "ticket"},
    "admin": {"pay", "requisites", "threshold", "ticket"},
    "operator": {"ticket"},
    "readonly": set(),
}


@pytest.mark.parametrize("role", ["owner", "admin", "operator", "readonly"])
def test_role_matrix_in_views(make_user, client_for, user, role):
    member = user if role == "owner" else make_user(account=user.account, role=role)
    client = client_for(member)
    for name, (url, data) in WRITES.items():
        status = client.post(url, data).status_code
        if name in ALLOWED[role]:
            assert status in (200, 302), (role, name, status)
        else:
            assert status == 403, (role, name, status)
    assert Payment.objects.exists() == ("pay" in ALLOWED[role])
    assert Requisites.objects.exists() == ("requisites" in ALLOWED[role])
    assert Ticket.objects.exists() == ("ticket" in ALLOWED[role])
    assert User.objects.filter(email="n@example.com").exists() == (
        "add_user" in ALLOWED[role]
    )
    threshold = Account.objects.get(pk=user.account_id).low_balance_threshold
    assert (threshold is not None) == ("threshold" in ALLOWED[role])


@pytest.mark.parametrize("role", ["operator", "readonly"])
def test_every_role_can_read_finance_pages(make_user, client_for, user, role):
    client = client_for(make_user(account=user.account, role=role))
    for url in (
        "/billing/ledger/",
        "/billing/services/",
        "/billing/tariffs/",
        "/settings/users/",
        "/settings/logins/",
    ):
        assert client.get(url).status_code == 200, url


def test_api_capability_follows_the_role():
    class Req:
        method = "POST"

    perm = HasCapability.of("billing")()
    req = Req()
    req.user = type("U", (), {"role": "operator"})()
    assert not perm.has_permission(req, None)
    req.user.role = "admin"
    assert perm.has_permission(req, None)
    req.method = "GET"
    req.user.role = "readonly"
    assert perm.has_permission(req, None)
    assert can(req.user, None) and not can(req.user, "send")


def test_api_invoice_create_needs_the_billing_capability(api_client_for, user):
    Requisites.objects.create(account=user.account, **VALID_REQUISITES)
    api = api_client_for(user)
    assert (
        api.post("/api/v1/invoices/", {"amount": "100"}, format="json").status_code
        == 201
    )
    assert Invoice.objects.count() == 1


def test_a_new_users_role_defaults_to_operator_not_owner(client, user):
    import re

    client.force_login(user)
    page = client.get("/settings/users/").content.decode()
    select = re.search(r'<select name="role"[^>]*>.*?</select>', page, re.S).group(0)
    selected = re.findall(r'<option value="(\w+)"[^>]*selected', select)
    assert selected == ["operator"]
