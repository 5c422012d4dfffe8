"""Images of Viber messages: checked with Pillow, stored re-encoded, with a
thumbnail for the preview and the report.

What Viber takes (its business-messages limits): JPEG or PNG, up to 1 MB.  An
upload is refused — with the reason in Russian, nothing stored — when it is
not an image, not JPEG/PNG, larger than ``MAX_BYTES``, smaller than
``MIN_SIDE`` or larger than ``MAX_SIDE`` pixels on a side, or declares more
than ``MAX_PIXELS`` pixels (a decompression bomb: a small file that would
unpack into gigabytes).  The size is read from the header before any pixel is
decoded, and Pillow's own bomb guard is an error, not a warning, while
decoding.  The stored file is the decoded picture encoded again: no metadata
(GPS from a phone's camera), nothing appended after the picture."""

import io
import warnings
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from .models import ViberImage

MAX_BYTES = 1024 * 1024
MIN_SIDE = 50
MAX_SIDE = 4000
MAX_PIXELS = 12_000_000
THUMBNAIL = (400, 400)
FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png")}


class InvalidImage(ValueError):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Checked:
    format: str
    width: int
    height: int
    data: bytes
    thumbnail: bytes


def _read(upload, limit: int) -> bytes:
    """At most ``limit + 1`` bytes of an uploaded file (an upload larger than the
    limit is refused without reading it whole)."""
    size = getattr(upload, "size", None)
    if size is not None and size > limit:
        raise InvalidImage(_too_large())
    if hasattr(upload, "seek"):
        upload.seek(0)
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise InvalidImage(_too_large())
    return data


def _too_large() -> str:
    return _("Файл больше %(mb)s МБ: Viber принимает изображения до %(mb)s МБ.") % {
        "mb": MAX_BYTES // (1024 * 1024)
    }


def image_check(data: bytes) -> Checked:
    """Validate and re-encode an image.  Raises ``InvalidImage``."""
    if not data:
        raise InvalidImage(_("Файл пустой: выберите изображение."))
    if len(data) > MAX_BYTES:
        raise InvalidImage(_too_large())
    not_image = _("Файл не является изображением JPEG или PNG.")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            kind = probe.format
            width, height = probe.size
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise InvalidImage(not_image) from None
    except Image.DecompressionBombError:
        raise InvalidImage(_bomb()) from None
    if kind not in FORMATS:
        raise InvalidImage(
            _("Формат %(format)s не поддерживается: загрузите JPEG или PNG.")
            % {"format": kind or "?"}
        )
    if width * height > MAX_PIXELS:
        raise InvalidImage(_bomb())
    if width > MAX_SIDE or height > MAX_SIDE:
        raise InvalidImage(
            _("Изображение %(w)s×%(h)s пикселей: не больше %(max)s по каждой стороне.")
            % {"w": width, "h": height, "max": MAX_SIDE}
        )
    if width < MIN_SIDE or height < MIN_SIDE:
        raise InvalidImage(
            _("Изображение %(w)s×%(h)s пикселей: не меньше %(min)s по каждой стороне.")
            % {"w": width, "h": height, "min": MIN_SIDE}
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                if getattr(img, "n_frames", 1) > 1:
                    raise InvalidImage(
                        _("Анимированные изображения не поддерживаются.")
                    )
                img.load()
                picture = ImageOps.exif_transpose(img)
    except InvalidImage:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InvalidImage(_bomb()) from None
    except (OSError, ValueError, SyntaxError, EOFError):
        raise InvalidImage(
            _("Изображение повреждено: сохраните его заново и загрузите ещё раз.")
        ) from None
    stored = _encode(picture, kind)
    thumb = picture.copy()
    thumb.thumbnail(THUMBNAIL)
    return Checked(kind, picture.width, picture.height, stored, _encode(thumb, kind))


def _bomb() -> str:
    return _(
        "Изображение слишком большое в пикселях (больше %(mp)s мегапикселей): "
        "уменьшите его."
    ) % {"mp": MAX_PIXELS // 1_000_000}


def _encode(picture: Image.Image, kind: str) -> bytes:
    out = io.BytesIO()
    if kind == "JPEG":
        picture.convert("RGB").save(out, "JPEG", quality=88, optimize=True)
    else:
        if picture.mode not in ("RGB", "RGBA", "L", "LA", "P"):
            picture = picture.convert("RGBA")
        picture.save(out, "PNG", optimize=True)
    return out.getvalue()


def image_upload(*, account, upload) -> ViberImage:
    """Check an uploaded file and store it for ``account``.  Raises
    ``InvalidImage`` (nothing stored)."""
    checked = image_check(_read(upload, MAX_BYTES))
    content_type, ext = FORMATS[checked.format]
    name = (getattr(upload, "name", "") or "")[:255]
    image = ViberImage(
        account_id=account.pk,
        original_name=name.rsplit("/", 1)[-1].rsplit("\\", 1)[-1],
        content_type=content_type,
        width=checked.width,
        height=checked.height,
        size=len(checked.data),
    )
    with transaction.atomic():
        image.file.save(f"{image.public_id}.{ext}", ContentFile(checked.data), False)
        image.thumbnail.save(
            f"{image.public_id}.{ext}", ContentFile(checked.thumbnail), False
        )
        image.save()
    return image


def image_get(*, account_id: int, public_id: str) -> ViberImage:
    """The account's image; ``ViberImage.DoesNotExist`` for another account's."""
    return ViberImage.objects.get(account_id=account_id, public_id=str(public_id))


def image_public(*, public_id: str) -> ViberImage:
    """Any account's image by its unguessable id (the address Viber fetches)."""
    return ViberImage.objects.get(public_id=str(public_id))
