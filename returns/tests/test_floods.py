"""Floods on the buyer's page are bounded: requests per order per day, photos per order
(withdrawn requests' included), pixels per photo, and the size of a request body."""

import struct
import time
import zlib
from datetime import timedelta
from io import BytesIO

import pytest
from django.core import mail
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from core import images
from orders.actions import ActionRefused
from seller_center.middleware import RequestBodyLimitMiddleware
from shipping import content
from shops.models import Notification
from tests.pages import assert_fragment, assert_full_page, assert_redirect, hx

from .. import actions, photos
from ..models import BuyerRequest, RequestPhoto
from .factories import delivered_order, upload

pytestmark = pytest.mark.django_db

FIND = "/returns/"
PAGE = "/returns/order/"
OPEN = "/returns/order/request"
MAIN = hx("buyer-main")


def _login(client, order):
    assert client.post(FIND, {"number": order.number, "contact": order.buyer_email}).status_code == 302


def _form(order, files=()):
    line = order.lines.first()
    return {"kind": "return", "reason": "damaged", "description": "Cracked", f"qty_{line.pk}": "1",
            "photos": list(files)}


def _open_and_withdraw(client, order, files=()):
    assert_redirect(client.post(OPEN, _form(order, files)), to=PAGE)
    req = BuyerRequest.objects.filter(order=order).latest("id")
    assert_redirect(client.post(reverse("returns_public:withdraw", kwargs={"pk": req.pk})), to=PAGE)
    return req


def png_header(width, height):
    """A PNG that says it is width×height (its header only: Pillow reads the size from it)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


# --- requests per order --------------------------------------------------------------------


def test_open_withdraw_loop_stops_at_the_daily_limit_with_429(client, shop, settings):
    settings.RETURNS_REQUESTS_PER_ORDER_PER_DAY = 3
    order = delivered_order(shop)
    _login(client, order)
    for _ in range(3):
        _open_and_withdraw(client, order)
    bells, emails = Notification.objects.count(), len(mail.outbox)
    response = client.post(OPEN, _form(order))
    body = assert_full_page(response, status=429)
    assert "opened 3 requests on order" in body and "in the last 24 hours" in body
    assert BuyerRequest.objects.filter(order=order).count() == 3
    assert (Notification.objects.count(), len(mail.outbox)) == (bells, emails)  # no bell, no email
    # The HTMX answer is the page's main part with the same message.
    assert "opened 3 requests" in assert_fragment(client.post(OPEN, _form(order), headers=MAIN), "buyer-main", status=429)


def test_request_limit_is_per_order_and_frees_up_after_24_hours(client, shop, settings):
    settings.RETURNS_REQUESTS_PER_ORDER_PER_DAY = 2
    order, other = delivered_order(shop), delivered_order(shop)
    _login(client, order)
    for _ in range(2):
        _open_and_withdraw(client, order)
    assert client.post(OPEN, _form(order)).status_code == 429
    # Another order of the same buyer is not affected.
    client.post(reverse("returns_public:leave"))
    _login(client, other)
    assert_redirect(client.post(OPEN, _form(other)), to=PAGE)
    # A day later the first order takes a request again.
    BuyerRequest.objects.filter(order=order).update(created_at=timezone.now() - timedelta(hours=25))
    client.post(reverse("returns_public:leave"))
    _login(client, order)
    assert_redirect(client.post(OPEN, _form(order)), to=PAGE)


def test_request_limit_checked_again_inside_the_action(shop, settings):
    settings.RETURNS_REQUESTS_PER_ORDER_PER_DAY = 1
    order = delivered_order(shop)
    req = actions.open_request(order=order, kind="return", reason="damaged", quantities={order.lines.first().pk: 1})
    actions.withdraw_request(request=req)
    with pytest.raises(actions.TooManyRequests):
        actions.open_request(order=order, kind="return", reason="damaged", quantities={order.lines.first().pk: 1})


# --- photos per order ----------------------------------------------------------------------


def test_withdrawn_requests_photos_count_toward_the_order_cap(client, shop, settings):
    settings.RETURNS_PHOTOS_PER_ORDER = 4
    order = delivered_order(shop)
    _login(client, order)
    _open_and_withdraw(client, order, [upload(f"a{i}.png") for i in range(3)])
    assert RequestPhoto.objects.filter(request__order=order).count() == 3
    response = client.post(OPEN, _form(order, [upload(f"b{i}.png") for i in range(2)]))
    body = assert_full_page(response, status=400)
    assert "already has 3 photos" in body and "at most 4" in body and "attach at most 1 more" in body
    assert BuyerRequest.objects.filter(order=order).count() == 1
    assert_redirect(client.post(OPEN, _form(order, [upload("c.png")])), to=PAGE)
    assert RequestPhoto.objects.filter(request__order=order).count() == 4


def test_photo_cap_reached_says_send_without_photos(shop, settings):
    settings.RETURNS_PHOTOS_PER_ORDER = 0
    order = delivered_order(shop)
    with pytest.raises(ActionRefused, match="send the request without photos"):
        actions.check_request_limits(order, photo_count=1)
    actions.check_request_limits(order, photo_count=0)  # no photos: fine


def test_limits_refuse_before_any_photo_is_decoded(client, shop, settings, monkeypatch):
    settings.RETURNS_REQUESTS_PER_ORDER_PER_DAY = 1
    order = delivered_order(shop)
    _login(client, order)
    _open_and_withdraw(client, order)
    decoded = []
    monkeypatch.setattr(images, "clean_image", lambda *a, **k: decoded.append(1))
    assert client.post(OPEN, _form(order, [upload()])).status_code == 429
    assert decoded == []


# --- pixels per photo ----------------------------------------------------------------------


def test_photo_over_the_pixel_cap_is_refused_from_its_header_fast(client, shop):
    order = delivered_order(shop)
    _login(client, order)
    big = png_header(6300, 6290)  # 39.6 MP: seconds of CPU if it were decoded
    started = time.perf_counter()
    response = client.post(OPEN, _form(order, [upload("huge.png", big)]))
    elapsed = time.perf_counter() - started
    body = assert_full_page(response, status=400)
    assert "6300×6290 pixels (39.6 megapixels); at most 25 megapixels" in body
    assert elapsed < 1.5
    assert not BuyerRequest.objects.exists()


def test_photo_pixel_cap_follows_the_setting(settings):
    settings.PHOTO_MAX_PIXELS = 1000
    assert photos.check_photo(upload("p.png")).width == 32  # the factory's 32×24 image: 768 pixels
    settings.PHOTO_MAX_PIXELS = 700
    with pytest.raises(ActionRefused, match="32×24 pixels .*; at most 0.0007 megapixels"):
        photos.check_photo(upload("p.png"))


def test_decompression_bomb_header_is_refused_as_too_many_pixels():
    with pytest.raises(images.TooManyPixels) as exc:
        images.clean_image(png_header(30000, 30000), max_pixels=25_000_000)
    assert exc.value.width is None and "far more pixels" in exc.value.describe()
    with pytest.raises(ActionRefused, match="too large an image"):
        photos.check_photo(upload("bomb.png", png_header(30000, 30000)))


def test_handover_photo_has_the_same_pixel_cap():
    with pytest.raises(ActionRefused, match="39.6 megapixels"):
        content.check_photo(BytesIO(png_header(6300, 6290)))


# --- request body size ---------------------------------------------------------------------


def test_body_over_the_limit_is_refused_413_without_being_read(client, shop, settings):
    settings.MAX_REQUEST_BODY = 10_000
    order = delivered_order(shop)
    _login(client, order)
    response = client.post(OPEN, _form(order, [upload("p.png", b"x" * 20_000)]),
                           HTTP_REFERER="http://testserver/returns/order/")
    assert response.status_code == 413
    body = response.content.decode()
    assert "Too large to send" in body and "at most 9 KB can be sent at once" in body
    assert 'href="http://testserver/returns/order/"' in body
    assert not BuyerRequest.objects.exists()


def test_body_limit_answers_htmx_with_a_toast_and_api_with_json(client, settings):
    settings.MAX_REQUEST_BODY = 100
    response = client.post("/returns/order/message", {"body": "x" * 500}, headers=hx("buyer-main"))
    assert response.status_code == 413 and response.content == b""
    assert '"toast"' in response["HX-Trigger"] and "at most 100 bytes can be sent" in response["HX-Trigger"]
    response = client.post("/api/storefront/orders/", data="x" * 500, content_type="application/json")
    assert response.status_code == 413 and response.json()["code"] == "body_too_large"


def test_body_limit_middleware_never_reads_the_body(settings):
    settings.MAX_REQUEST_BODY = 1024

    class Unreadable:
        def read(self, *args):
            raise AssertionError("the body was read")

        readline = read

    request = RequestFactory().post("/returns/order/request", data=b"", content_type="multipart/form-data; boundary=x")
    request.META["CONTENT_LENGTH"] = str(50 * 1024 * 1024)
    request.META["wsgi.input"] = Unreadable()
    request._stream = Unreadable()
    called = []
    response = RequestBodyLimitMiddleware(lambda r: called.append(r))(request)
    assert response.status_code == 413 and called == []


@pytest.mark.parametrize("length", ["1024", "", "abc", "-5"])
def test_body_at_the_limit_or_unsized_goes_through(settings, length):
    settings.MAX_REQUEST_BODY = 1024
    request = RequestFactory().get("/")
    request.META["CONTENT_LENGTH"] = length
    assert RequestBodyLimitMiddleware(lambda r: "passed")(request) == "passed"


def test_upload_memory_settings_are_bounded(settings):
    from django.conf import settings as conf

    assert conf.MAX_REQUEST_BODY == 26 * 1024 * 1024  # 5 photos of 5 MB and the form around them
    assert conf.FILE_UPLOAD_MAX_MEMORY_SIZE <= 2_621_440 and conf.DATA_UPLOAD_MAX_MEMORY_SIZE <= 2_621_440
    assert photos.max_photos() * photos.max_bytes() < conf.MAX_REQUEST_BODY


def test_many_form_fields_get_a_clear_400_page(settings):
    settings.DEBUG = False
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    client = Client(raise_request_exception=False)
    response = client.post("/returns/", {f"f{i}": "x" for i in range(20)})
    assert response.status_code == 400
    assert "This request could not be read" in response.content.decode()
