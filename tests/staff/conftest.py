import pytest


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def make_staff(db):
    from cabinet.models import User

    def make(email="staff@example.com", perms=None):
        """A staff member: with every permission (a superuser) by default, or
        with exactly ``perms`` ("app_label.codename", …)."""
        from django.contrib.auth.models import Permission

        if perms is None:
            return User.objects.create_superuser(email=email, password="staff-pass-123")
        user = User.objects.create_user(
            email=email, password="staff-pass-123", is_staff=True
        )
        for perm in perms:
            app_label, codename = perm.split(".")
            user.user_permissions.add(
                Permission.objects.get(
                    content_type__app_label=app_label, codename=codename
                )
            )
        return User.objects.get(pk=user.pk)  # no cached permissions

    return make


@pytest.fixture
def staff(make_staff):
    return make_staff()
