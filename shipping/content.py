"""What sellers may put on a label or upload as a handover photo.

Labels must not carry links, QR codes or other platforms' contacts (SPEC "Shipping");
photos are checked by their content, not their name or declared type.
"""

import re

from django.conf import settings
from django.utils.translation import gettext as _

from core import images
from orders.actions import ActionRefused

MAX_LABEL_NOTE = 120

_LINK = re.compile(
    r"(https?://|www\.|\b[a-z0-9-]+\.(com|net|org|io|co|shop|store|me|ly|gl|link|app|info|biz)\b"
    r"|\b(bit\.ly|t\.me|wa\.me|tinyurl)\b)",
    re.I,
)
_QR = re.compile(r"\b(qr|q\.r\.)\b|qr[- ]?code|scan (me|here|this|to)", re.I)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
_PHONE = re.compile(r"(\+?\d[\d ().-]{7,}\d)")
_PLATFORMS = re.compile(
    r"\b(amazon|ebay|etsy|shopee|lazada|aliexpress|alibaba|temu|shein|walmart|mercado ?libre|tokopedia|"
    r"whats ?app|wechat|weixin|telegram|line id|instagram|insta|facebook|fb|messenger|signal|viber|kakao|"
    r"tiktok|douyin|snapchat|discord)\b",
    re.I,
)


def label_text_problem(text: str) -> str | None:
    """Why the text may not go on a label, or None when it may."""
    if len(text) > MAX_LABEL_NOTE:
        return _("Label text is at most %(max_label_note)s characters.") % {"max_label_note": MAX_LABEL_NOTE}
    if _LINK.search(text):
        return _("Label text may not contain links or web addresses.")
    if _QR.search(text):
        return _("Label text may not contain QR codes or ask to scan one.")
    if _EMAIL.search(text):
        return _("Label text may not contain email addresses.")
    if _PHONE.search(text):
        return _("Label text may not contain phone numbers.")
    if _PLATFORMS.search(text):
        return _("Label text may not name other platforms or messaging apps.")
    return None


def check_label_text(text: str) -> str:
    text = " ".join((text or "").split())
    problem = label_text_problem(text)
    if problem:
        raise ActionRefused(problem)
    return text


# --- photos ----------------------------------------------------------------------------

MAX_PHOTO_BYTES = 5 * 1024 * 1024
MAX_PHOTO_PIXELS = 25_000_000  # settings.PHOTO_MAX_PIXELS
MAX_PHOTOS_PER_PACKAGE = 6


def check_photo(upload) -> images.CleanImage:
    """Read the upload (at most MAX_PHOTO_BYTES), decode it (JPEG, PNG or WebP) and return
    it re-encoded without metadata (core.images), or refuse it."""
    size = getattr(upload, "size", None)
    if size is not None and size > MAX_PHOTO_BYTES:
        raise ActionRefused(_("A photo is at most %(value)s MB.") % {"value": MAX_PHOTO_BYTES // (1024 * 1024)})
    data = upload.read(MAX_PHOTO_BYTES + 1)
    if len(data) > MAX_PHOTO_BYTES:
        raise ActionRefused(_("A photo is at most %(value)s MB.") % {"value": MAX_PHOTO_BYTES // (1024 * 1024)})
    if not data:
        raise ActionRefused(_("The photo is empty."))
    try:
        return images.clean_image(data, max_pixels=getattr(settings, "PHOTO_MAX_PIXELS", MAX_PHOTO_PIXELS))
    except images.TooManyPixels as exc:
        raise ActionRefused(_("The photo is too large an image: %(describe)s.") % {"describe": exc.describe()}) from None
    except images.NotAnImage:
        raise ActionRefused(_("That file is not a readable JPEG, PNG or WebP image.")) from None
