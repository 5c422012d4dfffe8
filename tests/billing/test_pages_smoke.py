import pytest

PAGES = [
    "/billing/pay/",
    "/billing/ledger/",
    "/billing/services/",
    "/billing/documents/",
    "/billing/documents/requisites/",
    "/billing/documents/act/",
    "/billing/tariffs/",
    "/billing/tariffs/sms/",
    "/settings/",
    "/settings/users/",
    "/settings/security/",
    "/settings/password/",
    "/settings/logins/",
    "/support/",
    "/notifications/",
]


@pytest.mark.parametrize("url", PAGES)
def test_every_finance_and_settings_page_opens(client_for, user, url):
    resp = client_for(user).get(url)
    assert resp.status_code == 200, resp.content[:500]
