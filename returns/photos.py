"""Buyer photos are checked by their content: the bytes must decode as an allowed image
format, whatever the file is called."""

import hashlib
import uuid
import warnings
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile

from orders.actions import ActionRefused

MAX_PHOTOS = 5
MAX_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 40_000_000  # far beyond any phone camera, short of a decompression bomb
# Pillow format -> (content type, extension the server gives the stored file)
FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "WEBP": ("image/webp", "webp")}


@dataclass(frozen=True)
class CheckedPhoto:
    content: bytes
    content_type: str
    extension: str
    width: int
    height: int
    sha256: str

    def as_file(self):
        return ContentFile(self.content, name=f"{uuid.uuid4().hex}.{self.extension}")


def max_photos():
    return getattr(settings, "RETURNS_MAX_PHOTOS", MAX_PHOTOS)


def max_bytes():
    return getattr(settings, "RETURNS_MAX_PHOTO_BYTES", MAX_BYTES)


def check_photo(upload):
    """Read an uploaded file and return a CheckedPhoto, or raise ActionRefused."""
    from PIL import Image, UnidentifiedImageError

    name = getattr(upload, "name", "photo") or "photo"
    limit = max_bytes()
    if upload.size > limit:
        raise ActionRefused(f"“{name}” is larger than {limit // (1024 * 1024)} MB.")
    upload.seek(0)
    content = upload.read(limit + 1)
    if len(content) > limit:
        raise ActionRefused(f"“{name}” is larger than {limit // (1024 * 1024)} MB.")
    refused = ActionRefused(f"“{name}” is not a JPEG, PNG or WebP photo.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            from io import BytesIO

            with Image.open(BytesIO(content)) as img:
                fmt = img.format
                width, height = img.size
                if fmt not in FORMATS:
                    raise refused
                if width * height > MAX_PIXELS:
                    raise ActionRefused(f"“{name}” is too large an image ({width}×{height}).")
                img.verify()
            # verify() leaves the image unusable; decoding it in full catches truncated data.
            with Image.open(BytesIO(content)) as img:
                img.load()
    except ActionRefused:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError,
            Image.DecompressionBombWarning):
        raise refused from None
    content_type, extension = FORMATS[fmt]
    return CheckedPhoto(content, content_type, extension, width, height, hashlib.sha256(content).hexdigest())


def check_photos(uploads):
    uploads = [u for u in uploads if u]
    if len(uploads) > max_photos():
        raise ActionRefused(f"Attach at most {max_photos()} photos.")
    return [check_photo(u) for u in uploads]
