import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from messaging import registry


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _social(settings, tmp_path):
    """Letters land in the test's own directory; the fake networks report in
    the same call (instant mode), by number pattern only."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MESSAGING_GATEWAYS = {
        **settings.MESSAGING_GATEWAYS,
        **{
            code: {
                **settings.MESSAGING_GATEWAYS[code],
                "OPTIONS": {"mode": "instant", "receipt_delay_seconds": 0},
            }
            for code in ("vk", "ok")
        },
    }
    registry.reset_gateways()
    yield
    registry.reset_gateways()


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (60, 40), (200, 200, 200)).save(out, "PNG")
    return out.getvalue()


def letter(data: bytes = PDF, name="letter.pdf", content_type="application/pdf"):
    return SimpleUploadedFile(name, data, content_type=content_type)


@pytest.fixture
def approved(db):
    """Request the VK and OK groups for a user's account and have staff
    approve them."""
    from cabinet.moderation import decide
    from social import services

    def make(user, vk="https://vk.com/luckyshop", ok="https://ok.ru/group/55555555"):
        row = services.name_request_create(
            account=user.account, vk=vk, ok=ok, letter=letter()
        )
        decide(item=row, approve=True)
        row.refresh_from_db()
        return row

    return make


@pytest.fixture
def rich_user(make_user):
    user = make_user("rich@example.com", balance=Decimal("1000"))
    type(user.account).objects.filter(pk=user.account_id).update(tariff_tier=0)
    user.account.refresh_from_db()
    return user


@pytest.fixture
def vk_tariffs(db):
    import importlib

    from django.apps import apps

    importlib.import_module("social.migrations.0002_default_tariffs").seed(apps, None)


@pytest.fixture
def manual_vk(settings):
    settings.MESSAGING_GATEWAYS = {
        **settings.MESSAGING_GATEWAYS,
        "vk": {**settings.MESSAGING_GATEWAYS["vk"], "OPTIONS": {"mode": "manual"}},
    }
    registry.reset_gateways()
    yield registry.get_gateway("vk")
    registry.reset_gateways()
