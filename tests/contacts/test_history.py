"""contacts.history: the phonebook asks the messaging app (registered in its
ready()) which numbers were never delivered, instead of reading messages."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from contacts import history, selectors

pytestmark = pytest.mark.django_db


@pytest.fixture
def provider(monkeypatch):
    """Swap the registered provider for the test and restore it afterwards."""
    monkeypatch.setattr(history, "_provider", None)

    def use(func):
        history.register(func)
        return func

    return use


def test_the_messaging_app_provides_the_delivery_history():
    from messaging.selectors import phones_undelivered

    assert history.provider() is phones_undelivered


def test_the_phonebook_asks_the_provider_with_its_own_numbers(
    user, other_user, make_group, make_contact, provider
):
    book = make_group(user.account, "База")
    for phone in ("+79160000002", "+79160000001"):
        make_contact(book, phone)
    make_contact(make_group(other_user.account, "Чужая"), "+79160000009")
    asked = {}

    def answer(*, account_id, phones, last_n):
        asked.update(account_id=account_id, phones=sorted(p["phone"] for p in phones))
        return ["+79160000002", "+79160000001"]

    provider(answer)
    found = selectors.undelivered_candidates(account_id=user.account_id, last_n=4)
    assert found == ["+79160000001", "+79160000002"]  # sorted
    assert asked == {
        "account_id": user.account_id,
        "phones": ["+79160000001", "+79160000002"],  # never the other account's
    }
    assert selectors.undelivered_candidates(
        account_id=user.account_id, last_n=4, limit=1
    ) == ["+79160000001"]


def test_without_a_provider_no_number_qualifies(
    user, make_group, make_contact, provider
):
    make_contact(make_group(user.account, "База"), "+79160000001")
    assert selectors.undelivered_candidates(account_id=user.account_id, last_n=1) == []


def test_a_second_provider_is_refused(provider):
    provider(lambda **kw: [])
    with pytest.raises(ImproperlyConfigured):
        history.register(lambda **kw: ["+79160000001"])
