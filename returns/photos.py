"""Buyer photos are checked by their content: the bytes must decode as an allowed image
format, whatever the file is called; they are stored without the metadata that would
tell the seller where the buyer lives (core.images)."""

import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.utils.translation import gettext as _

from core import images
from orders.actions import ActionRefused

MAX_PHOTOS = 5
MAX_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 25_000_000  # beyond a phone photo's 12-24 MP; settings.PHOTO_MAX_PIXELS


@dataclass(frozen=True)
class CheckedPhoto:
    content: bytes  # re-encoded without metadata (core.images)
    content_type: str
    extension: str
    width: int
    height: int
    sha256: str

    def as_file(self):
        return ContentFile(self.content, name=f"{uuid.uuid4().hex}.{self.extension}")


def max_photos():
    return getattr(settings, "RETURNS_MAX_PHOTOS", MAX_PHOTOS)


def max_pixels():
    return getattr(settings, "PHOTO_MAX_PIXELS", MAX_PIXELS)


def max_bytes():
    return getattr(settings, "RETURNS_MAX_PHOTO_BYTES", MAX_BYTES)


def check_photo(upload):
    """Read an uploaded file and return a CheckedPhoto, or raise ActionRefused."""
    name = getattr(upload, "name", "photo") or "photo"
    limit = max_bytes()
    if upload.size > limit:
        raise ActionRefused(_("“%(name)s” is larger than %(value)s MB.") % {"name": name, "value": limit // (1024 * 1024)})
    upload.seek(0)
    content = upload.read(limit + 1)
    if len(content) > limit:
        raise ActionRefused(_("“%(name)s” is larger than %(value)s MB.") % {"name": name, "value": limit // (1024 * 1024)})
    try:
        image = images.clean_image(content, max_pixels=max_pixels())
    except images.TooManyPixels as exc:
        raise ActionRefused(_("“%(name)s” is too large an image: %(describe)s.") % {"name": name, "describe": exc.describe()}) from None
    except images.NotAnImage:
        raise ActionRefused(_("“%(name)s” is not a JPEG, PNG or WebP photo.") % {"name": name}) from None
    return CheckedPhoto(image.data, image.content_type, image.ext, image.width, image.height, image.sha256)


def check_photos(uploads):
    uploads = [u for u in uploads if u]
    if len(uploads) > max_photos():
        raise ActionRefused(_("Attach at most %(max_photos)s photos.") % {"max_photos": max_photos()})
    return [check_photo(u) for u in uploads]
