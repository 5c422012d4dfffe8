import pytest


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def make_staff(db):
    from cabinet.models import User

    def make(email="staff@example.com"):
        return User.objects.create_user(
            email=email, password="staff-pass-123", is_staff=True
        )

    return make


@pytest.fixture
def staff(make_staff):
    return make_staff()
