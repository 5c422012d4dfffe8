import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from messaging import registry, senders


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    """Uploaded images land in the test's own directory."""
    settings.MEDIA_ROOT = tmp_path / "media"


def picture(
    width=400, height=400, fmt="PNG", color=(120, 80, 200), mode="RGB", **save
) -> bytes:
    out = io.BytesIO()
    Image.new(mode, (width, height), color).save(out, fmt, **save)
    return out.getvalue()


def upload(data: bytes, name="sale.png", content_type="image/png"):
    return SimpleUploadedFile(name, data, content_type=content_type)


@pytest.fixture
def image_of():
    """An uploaded, checked image of a user's account."""
    from viber.images import image_upload

    def make(user, **kwargs):
        return image_upload(account=user.account, upload=upload(picture(**kwargs)))

    return make


@pytest.fixture
def rich_user(make_user):
    """An account that can pay an own name's package (35,000 ₽), pinned to the
    base price tier so prices read as in the manual."""
    user = make_user("rich@example.com", balance=Decimal("100000"))
    type(user.account).objects.filter(pk=user.account_id).update(tariff_tier=0)
    user.account.refresh_from_db()
    return user


@pytest.fixture
def own_name():
    """Request an own Viber name and have staff approve it (the package is
    charged then)."""
    from viber import services

    def make(user, name="LuckyShop", start="now", approve=True):
        row = services.sender_name_request(account=user.account, name=name, start=start)
        if approve:
            senders.sender_decide(sender_name=row, approve=True)
            row.refresh_from_db()
        return row

    return make


@pytest.fixture
def viber_gateway():
    return registry.get_gateway("viber")


@pytest.fixture
def manual_viber(settings):
    """Callbacks wait in the fake carrier until the test flushes them."""
    settings.MESSAGING_GATEWAYS = {
        **settings.MESSAGING_GATEWAYS,
        "viber": {
            **settings.MESSAGING_GATEWAYS["viber"],
            "OPTIONS": {"mode": "manual"},
        },
    }
    registry.reset_gateways()
    yield registry.get_gateway("viber")
    registry.reset_gateways()
