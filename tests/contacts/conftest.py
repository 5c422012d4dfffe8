import pytest

from contacts import plan


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    # Users are created in most tests here; a fast hasher keeps them cheap.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _bundled_numbering_plan():
    plan.reset()
    yield
    plan.reset()


@pytest.fixture
def make_group(db):
    from contacts.models import Group

    def make(account, name="Клиенты", **kwargs):
        return Group.objects.create(account=account, name=name, **kwargs)

    return make


@pytest.fixture
def make_contact(db):
    from contacts import services
    from contacts.models import Contact

    def make(group, phone, **kwargs):
        e164 = services.ph.normalize_phone(phone)
        contact = Contact.objects.create(
            account_id=group.account_id,
            group=group,
            phone=e164,
            **{**services.derived(e164), **kwargs},
        )
        services.refresh_sizes([group.pk])
        return contact

    return make
