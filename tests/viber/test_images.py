"""Images for Viber messages: checked with Pillow (type, size, dimensions,
decompression bombs), stored re-encoded with a thumbnail, served to the
carrier by an unguessable address."""

import io
import os
import struct
import zlib

import pytest
from PIL import Image

from viber.images import MAX_BYTES, InvalidImage, image_upload
from viber.models import ViberImage

from .conftest import picture, upload

pytestmark = pytest.mark.django_db


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG file whose header claims ``width``×``height`` pixels (what a
    decompression bomb looks like before it is decoded)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1000)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", idat)
        + chunk(b"IEND", b"")
    )


def refused(user, data: bytes) -> str:
    with pytest.raises(InvalidImage) as exc:
        image_upload(account=user.account, upload=upload(data))
    assert not ViberImage.objects.exists()
    return exc.value.message


def test_a_good_png_is_stored_with_a_thumbnail(user):
    image = image_upload(account=user.account, upload=upload(picture(1200, 800)))
    assert (image.width, image.height, image.content_type) == (1200, 800, "image/png")
    assert len(image.public_id) == 32 and image.original_name == "sale.png"
    with image.thumbnail.open("rb") as f, Image.open(f) as thumb:
        assert max(thumb.size) == 400 and thumb.size == (400, 267)
    with image.file.open("rb") as f:
        assert len(f.read()) == image.size


def test_metadata_and_anything_after_the_picture_are_dropped(user):
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"  # Make
    exif[0x8825] = {1: "N"}  # GPS
    data = picture(600, 600, fmt="JPEG", exif=exif.tobytes())
    data += b"<?php system($_GET['c']); ?>"
    image = image_upload(
        account=user.account, upload=upload(data, "photo.jpg", "image/jpeg")
    )
    with image.file.open("rb") as f:
        stored = f.read()
    assert b"php" not in stored and b"SpyCam" not in stored
    with Image.open(io.BytesIO(stored)) as img:
        assert img.format == "JPEG" and not img.getexif()


def test_a_decompression_bomb_is_refused_before_decoding(user):
    message = refused(user, png_declaring(5000, 5000))
    assert "мегапикселей" in message
    # Far beyond Pillow's own limit: its guard is our error too.
    assert "мегапикселей" in refused(user, png_declaring(60000, 60000))


def test_too_large_a_file_is_refused(user):
    noise = Image.frombytes("RGB", (800, 800), os.urandom(800 * 800 * 3))
    out = io.BytesIO()
    noise.save(out, "PNG")
    assert len(out.getvalue()) > MAX_BYTES
    assert "больше 1 МБ" in refused(user, out.getvalue())


def test_too_wide_an_image_is_refused(user):
    assert "не больше 4000" in refused(user, picture(4100, 100))


def test_a_truncated_image_is_refused(user):
    noise = Image.frombytes("RGB", (600, 600), os.urandom(600 * 600 * 3))
    out = io.BytesIO()
    noise.save(out, "JPEG", quality=95)
    data = out.getvalue()
    assert "повреждено" in refused(user, data[: len(data) // 3])


def test_the_carrier_fetches_the_image_by_its_unguessable_address(client, user):
    image = image_upload(account=user.account, upload=upload(picture(500, 500)))
    response = client.get(f"/viber/images/{image.public_id}/")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    body = b"".join(response.streaming_content)
    assert body.startswith(b"\x89PNG")
    thumb = client.get(f"/viber/images/{image.public_id}/thumbnail/")
    assert thumb.status_code == 200
    assert client.get("/viber/images/" + "0" * 32 + "/").status_code == 404
    assert client.get("/viber/images/../../etc/passwd/").status_code == 404
