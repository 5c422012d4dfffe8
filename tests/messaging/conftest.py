import pytest


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    """Users are created in almost every test; PBKDF2 would dominate the run."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
