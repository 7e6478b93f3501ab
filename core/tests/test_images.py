from io import BytesIO

import pytest
from PIL import Image, PngImagePlugin

from core.images import NotAnImage, TooManyPixels, clean_image

GPS_IFD = 0x8825
ORIENTATION = 0x0112
MAKE = 0x010F


def photo(fmt="JPEG", size=(40, 20), *, gps=True, orientation=None):
    img = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[MAKE] = "PhoneCo"
    if gps:
        exif[GPS_IFD] = {1: "N", 2: (52.0, 22.0, 11.5), 3: "E", 4: (4.0, 53.0, 2.0)}
    if orientation:
        exif[ORIENTATION] = orientation
    out = BytesIO()
    options = {"exif": exif.tobytes()}
    if fmt == "PNG":
        info = PngImagePlugin.PngInfo()
        info.add_text("Comment", "taken at 12 Home Street")
        options["pnginfo"] = info
    img.save(out, format=fmt, **options)
    return out.getvalue()


def opened(data):
    img = Image.open(BytesIO(data))
    img.load()
    return img


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_clean_image_drops_location_device_and_text_metadata(fmt):
    data = photo(fmt)
    assert GPS_IFD in opened(data).getexif()  # the upload carries a location
    cleaned = clean_image(data, max_pixels=10_000)
    img = opened(cleaned.data)
    assert img.format == fmt
    assert not img.getexif(), dict(img.getexif())
    assert "Comment" not in img.info and "exif" not in img.info
    assert (cleaned.width, cleaned.height) == (40, 20)
    assert b"PhoneCo" not in cleaned.data and b"Home Street" not in cleaned.data


def test_clean_image_keeps_the_picture_upright_without_the_orientation_tag():
    cleaned = clean_image(photo(size=(40, 20), orientation=6), max_pixels=10_000)  # 6: rotate 90° to view
    assert (cleaned.width, cleaned.height) == (20, 40)
    assert opened(cleaned.data).size == (20, 40)


def test_clean_image_refuses_what_does_not_decode():
    with pytest.raises(NotAnImage):
        clean_image(b"GIF89a not really", max_pixels=10_000)
    with pytest.raises(NotAnImage):
        clean_image(b"<html>hello</html>", max_pixels=10_000)
    with pytest.raises(NotAnImage):
        clean_image(photo()[:200], max_pixels=10_000)  # truncated
    gif = BytesIO()
    Image.new("RGB", (4, 4)).save(gif, format="GIF")
    with pytest.raises(NotAnImage):
        clean_image(gif.getvalue(), max_pixels=10_000)


def test_clean_image_refuses_too_many_pixels_before_decoding():
    with pytest.raises(TooManyPixels) as exc:
        clean_image(photo(size=(200, 100)), max_pixels=10_000)
    assert (exc.value.width, exc.value.height) == (200, 100)
