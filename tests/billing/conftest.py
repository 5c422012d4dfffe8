import pytest

VALID_REQUISITES = {
    "organisation": "ООО «Ромашка»",
    "inn": "7707083893",
    "kpp": "773601001",
    "ogrn": "1027700132195",
    "legal_address": "117312, г. Москва, ул. Вавилова, д. 19",
    "postal_address": "",
    "bank_name": "ПАО Сбербанк",
    "bic": "044525225",
    "settlement_account": "40702810938000000001",
    "correspondent_account": "30101810400000000225",
    "director": "Петров П. П.",
    "email": "buh@example.com",
}


@pytest.fixture
def requisites_data():
    return dict(VALID_REQUISITES)


@pytest.fixture
def with_requisites(user):
    from billing.models import Requisites

    return Requisites.objects.create(account=user.account, **VALID_REQUISITES)


@pytest.fixture
def staff(db):
    from cabinet.models import User

    return User.objects.create_superuser(
        email="staff@example.com", password="staff-pass-1"
    )


@pytest.fixture(autouse=True)
def _fresh_acquirer():
    from billing.acquirer import reset_acquirer

    reset_acquirer()
    yield
    reset_acquirer()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2's deliberate slowness is for production; accounts are made per test.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
