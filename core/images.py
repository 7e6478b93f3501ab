"""Uploaded photos (handover proof, buyers' return evidence): checked by decoding their
content, whatever the file is called, and stored re-encoded without metadata. A phone
photo's EXIF carries where it was taken (a buyer's home, to the metre), the device and
the time; the other side of the order must see the picture and nothing else."""

import hashlib
import warnings
from dataclasses import dataclass
from io import BytesIO

# Pillow format -> (content type, file extension)
FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "WEBP": ("image/webp", "webp")}
# What the encoder is told: close to the upload's look, without its metadata.
_SAVE = {"JPEG": {"quality": 90}, "PNG": {}, "WEBP": {"quality": 90}}


class NotAnImage(ValueError):
    """The bytes do not decode as a JPEG, PNG or WebP image."""


class TooManyPixels(ValueError):
    """More pixels than allowed, known from the file's header before any decoding (width and
    height are None past Pillow's own decompression-bomb limit)."""

    def __init__(self, width, height, max_pixels):
        super().__init__(f"{width}×{height}")
        self.width, self.height, self.max_pixels = width, height, max_pixels

    def describe(self):
        """'6300×6300 pixels (39.7 megapixels); at most 25 megapixels'"""
        cap = f"at most {self.max_pixels / 1e6:g} megapixels"
        if self.width is None:
            return f"far more pixels than a photo has; {cap}"
        return f"{self.width}×{self.height} pixels ({self.width * self.height / 1e6:.1f} megapixels); {cap}"


@dataclass(frozen=True)
class CleanImage:
    data: bytes  # re-encoded, no EXIF/XMP/text chunks
    content_type: str
    ext: str
    width: int
    height: int
    sha256: str  # of `data`, what is stored


def clean_image(data, *, max_pixels):
    """Decode `data` in full (a truncated or disguised file is refused) and re-encode it
    in its own format without metadata, upright as the camera's orientation tag said.

    Image.open reads only the header: the size is checked there, before the pixels cost
    anything to decode."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            try:
                opened = Image.open(BytesIO(data))
            except (Image.DecompressionBombWarning, Image.DecompressionBombError):
                raise TooManyPixels(None, None, max_pixels) from None
            with opened as img:
                fmt = img.format
                if fmt not in FORMATS:
                    raise NotAnImage(fmt)
                width, height = img.size
                if width * height > max_pixels:
                    raise TooManyPixels(width, height, max_pixels)
                img.verify()
            # verify() leaves the image unusable; decoding it in full catches truncated data.
            with Image.open(BytesIO(data)) as img:
                img.load()
                icc = img.info.get("icc_profile")
                upright = ImageOps.exif_transpose(img)
                out = BytesIO()
                options = dict(_SAVE[fmt])
                if icc:
                    options["icc_profile"] = icc  # colours, not metadata about the person
                upright.save(out, format=fmt, **options)
    except (NotAnImage, TooManyPixels):
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError,
            Image.DecompressionBombWarning):
        raise NotAnImage() from None
    cleaned = out.getvalue()
    content_type, ext = FORMATS[fmt]
    return CleanImage(cleaned, content_type, ext, upright.width, upright.height, hashlib.sha256(cleaned).hexdigest())
