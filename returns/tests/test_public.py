import re

import pytest
from django.core import signing
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.actor import Actor
from orders.models import Order, OrderMessage
from shops.models import Notification
from tests.pages import assert_fragment, assert_full_page, assert_redirect, fetch_both, hx, texts

from .. import actions, links
from ..models import BuyerRequest, RequestPhoto
from .factories import delivered_order, image_bytes, open_return, paid_order, upload

pytestmark = pytest.mark.django_db
FIND = "/returns/"
PAGE = "/returns/order/"
MAIN = hx("buyer-main")  # the buyer page's forms swap #buyer-main
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"|"X-CSRFToken": "[^"]+"')


def _strip(html):
    return CSRF.sub("", html)


def _login(client, order):
    response = client.post(FIND, {"number": order.number, "contact": order.buyer_email})
    assert response.status_code == 302 and response["Location"] == PAGE
    return response


def _upload_form(order, **extra):
    lines = list(order.lines.all())
    data = {"kind": "return", "reason": "damaged", "description": "Cracked lid", f"qty_{lines[0].pk}": "1"}
    data.update(extra)
    return data


# --- proving ownership --------------------------------------------------------------------


def test_find_wrong_number_wrong_email_wrong_phone_look_exactly_the_same(client, shop):
    order = delivered_order(shop, email="robin@example.com", phone="+1 555 000 1234")
    other = delivered_order(shop, email="sam@example.com")
    attempts = [
        {"number": "NOPE-0000", "contact": "robin@example.com"},  # no such order
        {"number": order.number, "contact": "sam@example.com"},  # another buyer's email
        {"number": order.number, "contact": "+1 555 999 9999"},  # wrong phone
        {"number": other.number, "contact": "robin@example.com"},  # exists, not theirs
    ]
    bodies = set()
    for data in attempts:
        response = client.post(FIND, data)
        assert response.status_code == 200
        page = _strip(response.content.decode()).replace(data["number"], "NUMBER")
        bodies.add(page)
        assert "could not find an order" in page
        assert PAGE not in page
    assert len(bodies) == 1
    assert "returns_order_id" not in client.session


@pytest.mark.parametrize("contact", ["robin@example.com", "ROBIN@example.com ", "+1 (555) 000-1234", "5550001234"])
def test_find_with_email_or_phone_proves_the_order(client, shop, contact):
    order = delivered_order(shop, email="robin@example.com", phone="+15550001234")
    response = client.post(FIND, {"number": order.number.lower(), "contact": contact})
    assert response.status_code == 302
    assert client.session["returns_order_id"] == order.pk


def test_find_short_phone_fragments_do_not_prove(client, shop):
    order = delivered_order(shop, phone="+15550001234")
    response = client.post(FIND, {"number": order.number, "contact": "1234"})
    assert response.status_code == 200 and "returns_order_id" not in client.session


def test_find_rate_limited_per_ip(client, shop, settings):
    settings.RETURNS_RATE_LIMIT_PER_IP = 3
    for i in range(3):
        assert client.post(FIND, {"number": f"X{i}", "contact": "a@b.c"}).status_code == 200
    response = client.post(FIND, {"number": "X9", "contact": "a@b.c"})
    assert response.status_code == 429 and "Too many attempts" in response.content.decode()
    # Even the right details are refused past the limit, so guessing cannot continue.
    order = delivered_order(shop)
    assert client.post(FIND, {"number": order.number, "contact": order.buyer_email}).status_code == 429
    other_ip = Client(REMOTE_ADDR="10.9.9.9")
    assert other_ip.post(FIND, {"number": order.number, "contact": order.buyer_email}).status_code == 302


def test_find_rate_limited_per_order_across_ips(shop, settings):
    settings.RETURNS_RATE_LIMIT_PER_ORDER_ALL = 2
    order = delivered_order(shop)
    for i in range(2):
        c = Client(REMOTE_ADDR=f"10.0.0.{i}")
        assert c.post(FIND, {"number": order.number, "contact": f"guess{i}@x.com"}).status_code == 200
    c = Client(REMOTE_ADDR="10.0.0.99")
    assert c.post(FIND, {"number": order.number.lower(), "contact": "guess@x.com"}).status_code == 429


def test_failing_on_purpose_from_one_address_does_not_lock_the_buyer_out(shop, settings):
    settings.RETURNS_RATE_LIMIT_PER_ORDER = 3
    order = delivered_order(shop)
    holder = Client(REMOTE_ADDR="10.1.1.1")  # someone holding the parcel, with its label
    for i in range(3):
        assert holder.post(FIND, {"number": order.number, "contact": f"guess{i}@x.com"}).status_code == 200
    assert holder.post(FIND, {"number": order.number, "contact": "guess@x.com"}).status_code == 429
    buyer = Client(REMOTE_ADDR="10.2.2.2")
    assert buyer.post(FIND, {"number": order.number, "contact": order.buyer_email}).status_code == 302


def test_proving_the_order_does_not_count_against_it(shop, settings):
    settings.RETURNS_RATE_LIMIT_PER_ORDER = 2
    order = delivered_order(shop)
    for _ in range(4):
        c = Client(REMOTE_ADDR="10.3.3.3")
        assert c.post(FIND, {"number": order.number, "contact": order.buyer_email}).status_code == 302


def test_find_post_without_csrf_token_is_refused(shop):
    order = delivered_order(shop)
    strict = Client(enforce_csrf_checks=True)
    assert strict.post(FIND, {"number": order.number, "contact": order.buyer_email}).status_code == 403
    page = strict.get(FIND).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    response = strict.post(FIND, {"number": order.number, "contact": order.buyer_email, "csrfmiddlewaretoken": token})
    assert response.status_code == 302


def test_buyer_actions_without_csrf_token_are_refused(shop):
    order = delivered_order(shop)
    strict = Client(enforce_csrf_checks=True)
    page = strict.get(FIND).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    strict.post(FIND, {"number": order.number, "contact": order.buyer_email, "csrfmiddlewaretoken": token})
    assert strict.post(reverse("returns_public:open"), _upload_form(order)).status_code == 403
    assert strict.post(reverse("returns_public:message"), {"body": "hi"}).status_code == 403
    assert not BuyerRequest.objects.exists() and not OrderMessage.objects.filter(sender="buyer").exists()


def test_signed_link_proves_the_order(client, shop):
    order = delivered_order(shop)
    response = client.get(links.path_for(order))
    assert response.status_code == 302 and client.session["returns_order_id"] == order.pk


def test_signed_link_tampered_or_expired_is_refused(client, shop, settings):
    order = delivered_order(shop)
    forged = signing.dumps({"o": order.pk, "n": order.number}, salt="other-salt")
    assert client.get(reverse("returns_public:link", kwargs={"token": forged})).status_code == 400
    assert client.get(reverse("returns_public:link", kwargs={"token": "garbage"})).status_code == 400
    settings.RETURNS_LINK_MAX_AGE = -1
    assert client.get(links.path_for(order)).status_code == 400
    assert "returns_order_id" not in client.session


def test_order_page_without_proof_redirects_to_find(client):
    assert_redirect(client.get(PAGE), to=FIND)
    assert_redirect(client.get(PAGE, headers=MAIN), to=FIND)
    full, partial = fetch_both(client, FIND, None)  # the find page has no partial: htmx gets the page
    assert all('name="contact"' in body for body in texts(full, partial))


# --- the order page -------------------------------------------------------------------


def test_order_page_full_and_partial(client, shop):
    order = delivered_order(shop)
    _login(client, order)
    full, partial = fetch_both(client, PAGE, "buyer-main")
    for body in texts(full, partial):
        assert f"Your order {order.number}" in body and all(line.name in body for line in order.lines.all())


def test_order_page_query_count_is_fixed(client, shop, seller, settings):
    settings.RETURNS_REQUESTS_PER_ORDER_PER_DAY = 10  # five requests on one order, for the count
    order = delivered_order(shop)
    _login(client, order)

    def count():
        counts = []
        for headers in ({}, MAIN):
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(PAGE, headers=headers).status_code == 200
            counts.append(len(ctx))
        return counts

    req = open_return(order, files=[upload()])
    actions.reject_request(request=req, actor=Actor.seller(seller), reason="no_defect")
    first = count()
    for _ in range(3):
        req = open_return(order, files=[upload(), upload()])
        actions.reject_request(request=req, actor=Actor.seller(seller), reason="no_defect")
        actions.post_message(order=order, sender="buyer", body="hello")
    open_return(order, files=[upload()])
    assert count() == first


def test_open_request_with_a_photo_through_the_page(client, shop):
    order = delivered_order(shop)
    _login(client, order)
    data = _upload_form(order, photos=[upload("p.jpg", image_bytes("JPEG"), "image/jpeg")])
    response = client.post(reverse("returns_public:open"), data)
    assert_redirect(response, to=PAGE)
    req = BuyerRequest.objects.get()
    photo = req.photos.get()
    assert photo.content_type == "image/jpeg" and photo.file.name.endswith(".jpg")
    for page in texts(*fetch_both(client, PAGE, "buyer-main")):
        assert req.number in page and "Awaiting the seller" in page
    assert client.get(reverse("returns_public:photo", kwargs={"pk": req.pk, "photo": photo.pk}))["Content-Type"] == "image/jpeg"


def test_upload_disguised_by_extension_is_refused(client, shop):
    order = delivered_order(shop)
    _login(client, order)
    fake = upload("holiday.jpg", b"<?php system($_GET['c']); ?>" * 20, "image/jpeg")
    response = client.post(reverse("returns_public:open"), _upload_form(order, photos=[fake]))
    assert "not a JPEG, PNG or WebP photo" in assert_full_page(response, status=400)
    assert not BuyerRequest.objects.exists() and not RequestPhoto.objects.exists()
    fake.seek(0)
    response = client.post(reverse("returns_public:open"), _upload_form(order, photos=[fake]), headers=MAIN)
    assert "not a JPEG, PNG or WebP photo" in assert_fragment(response, "buyer-main", status=400)
    assert not BuyerRequest.objects.exists() and not RequestPhoto.objects.exists()


def test_upload_of_another_image_format_is_refused(client, shop):
    order = delivered_order(shop)
    _login(client, order)
    gif = upload("a.png", image_bytes("GIF"), "image/png")
    assert_full_page(client.post(reverse("returns_public:open"), _upload_form(order, photos=[gif])), status=400)
    truncated = upload("b.png", image_bytes("PNG", size=(200, 200))[:120], "image/png")
    response = client.post(reverse("returns_public:open"), _upload_form(order, photos=[truncated]), headers=MAIN)
    assert_fragment(response, "buyer-main", status=400)
    assert not BuyerRequest.objects.exists()


def test_upload_too_big_is_refused(client, shop):
    order = delivered_order(shop)
    _login(client, order)
    big = image_bytes("PNG") + b"\0" * (5 * 1024 * 1024)  # a real PNG, padded past 5 MB
    response = client.post(reverse("returns_public:open"), _upload_form(order, photos=[upload("big.png", big)]))
    assert "larger than 5 MB" in assert_full_page(response, status=400)
    response = client.post(reverse("returns_public:open"), _upload_form(order, photos=[upload("big.png", big)]),
                           headers=MAIN)
    assert "larger than 5 MB" in assert_fragment(response, "buyer-main", status=400)
    assert not BuyerRequest.objects.exists()


def test_upload_too_many_is_refused(client, shop):
    order = delivered_order(shop)
    _login(client, order)
    photos = [upload(f"p{i}.png") for i in range(6)]
    response = client.post(reverse("returns_public:open"), _upload_form(order, photos=photos))
    assert "at most 5 photos" in assert_full_page(response, status=400)
    for photo in photos:
        photo.seek(0)
    response = client.post(reverse("returns_public:open"), _upload_form(order, photos=photos), headers=MAIN)
    assert "at most 5 photos" in assert_fragment(response, "buyer-main", status=400)
    assert not BuyerRequest.objects.exists()
    five = [upload(f"p{i}.png") for i in range(5)]
    assert client.post(reverse("returns_public:open"), _upload_form(order, photos=five)).status_code == 302
    assert RequestPhoto.objects.count() == 5


def test_open_request_over_the_quantity_through_the_page_is_refused(client, shop):
    order = delivered_order(shop)
    _login(client, order)
    line = order.lines.first()
    response = client.post(reverse("returns_public:open"), _upload_form(order, **{f"qty_{line.pk}": "3"}))
    assert_full_page(response, status=400)
    response = client.post(reverse("returns_public:open"), _upload_form(order, **{f"qty_{line.pk}": "3"}), headers=MAIN)
    assert_fragment(response, "buyer-main", status=400)
    assert not BuyerRequest.objects.exists()


def test_buyer_reaches_only_the_proven_order(client, shop):
    mine, theirs = delivered_order(shop), delivered_order(shop)
    their_req = open_return(theirs, files=[upload()])
    _login(client, mine)
    photo = their_req.photos.get()
    for headers in ({}, MAIN):
        assert client.post(reverse("returns_public:withdraw", kwargs={"pk": their_req.pk}), headers=headers).status_code == 404
        assert client.post(reverse("returns_public:ship_back", kwargs={"pk": their_req.pk}), {"tracking": "X"},
                           headers=headers).status_code == 404
        assert client.get(reverse("returns_public:photo", kwargs={"pk": their_req.pk, "photo": photo.pk}),
                          headers=headers).status_code == 404
    their_req.refresh_from_db()
    assert their_req.status == BuyerRequest.Status.REQUESTED
    for body in texts(*fetch_both(client, PAGE, "buyer-main")):
        assert mine.number in body and theirs.number not in body


def test_buyer_withdraws_and_ships_back_through_the_page(client, shop, seller):
    order = delivered_order(shop)
    _login(client, order)
    req = open_return(order)
    assert_redirect(client.post(reverse("returns_public:withdraw", kwargs={"pk": req.pk})), to=PAGE)
    req.refresh_from_db()
    assert req.status == BuyerRequest.Status.WITHDRAWN
    full, partial = fetch_both(client, PAGE, "buyer-main")
    assert f"Request {req.number} withdrawn." in full.content.decode()  # the message, on the page it lands on
    assert all(req.get_status_display() in body for body in texts(full, partial))
    again = client.post(reverse("returns_public:withdraw", kwargs={"pk": req.pk}), headers=MAIN)
    assert_fragment(again, "buyer-main", status=409)
    req = open_return(order)
    actions.approve_request(request=req, actor=Actor.seller(seller))
    response = client.post(reverse("returns_public:ship_back", kwargs={"pk": req.pk}), {"carrier": "UPS", "tracking": ""},
                           headers=MAIN)
    assert "Enter the return tracking number." in assert_fragment(response, "buyer-main", status=400)
    response = client.post(reverse("returns_public:ship_back", kwargs={"pk": req.pk}),
                           {"carrier": "UPS", "tracking": "1Z42"}, headers=MAIN)
    assert "1Z42" in assert_fragment(response, "buyer-main")
    assert "Return tracking number saved" in response["HX-Trigger"]
    req.refresh_from_db()
    assert (req.status, req.return_tracking) == (BuyerRequest.Status.RETURN_SHIPPED, "1Z42")


def test_buyer_cancel_request_before_shipment(client, shop):
    order = paid_order(shop)
    _login(client, order)
    for page in texts(*fetch_both(client, PAGE, "buyer-main")):
        assert "Ask for a cancellation" in page
    response = client.post(reverse("returns_public:open"), {"kind": "cancel", "reason": "no_longer_needed"})
    assert_redirect(response, to=PAGE)
    req = BuyerRequest.objects.get()
    assert req.kind == "cancel"
    for page in texts(*fetch_both(client, PAGE, "buyer-main")):
        assert f"Cancellation request {req.number}" in page


def test_buyer_message_reaches_the_seller(client, shop):
    order = delivered_order(shop)
    _login(client, order)
    assert_redirect(client.post(reverse("returns_public:message"), {"body": "Is it on its way?"}), to=PAGE)
    assert OrderMessage.objects.get(order=order).sender == "buyer"
    assert Notification.objects.filter(shop=shop, kind="message").exists()
    for body in texts(*fetch_both(client, PAGE, "buyer-main")):
        assert "Is it on its way?" in body
    assert "Write the message first" in assert_full_page(client.post(reverse("returns_public:message"), {"body": ""}),
                                                         status=400)
    response = client.post(reverse("returns_public:message"), {"body": ""}, headers=MAIN)
    assert "Write the message first" in assert_fragment(response, "buyer-main", status=400)
    response = client.post(reverse("returns_public:message"), {"body": "Thanks!"}, headers=MAIN)
    assert "Thanks!" in assert_fragment(response, "buyer-main") and "Message sent" in response["HX-Trigger"]
    assert OrderMessage.objects.filter(order=order, sender="buyer").count() == 2


def test_leave_forgets_the_order(client, shop):
    order = delivered_order(shop)
    _login(client, order)
    fetch_both(client, PAGE, "buyer-main")
    assert_redirect(client.post(reverse("returns_public:leave")), to=FIND)
    for headers in ({}, MAIN):
        assert_redirect(client.get(PAGE, headers=headers), to=FIND)


def test_cancelled_order_page_shows_the_cancellation_notice(client, shop, seller):
    order = paid_order(shop)
    from orders.actions import cancel_order

    cancel_order(order=order, actor=Actor.seller(seller), reason="out_of_stock")
    _login(client, order)
    for page in texts(*fetch_both(client, PAGE, "buyer-main")):
        assert "was cancelled" in page and str(Order.Status.CANCELLED.label) in page


def test_a_burst_of_buyer_messages_is_refused_and_stores_nothing(client, shop, settings):
    settings.RETURNS_BUYER_MESSAGES_PER_HOUR = 3
    order = delivered_order(shop)
    _login(client, order)
    for i in range(3):
        assert client.post(reverse("returns_public:message"), {"body": f"Hello {i}"}).status_code == 302
    bells = Notification.objects.filter(shop=shop, kind="message").count()
    response = client.post(reverse("returns_public:message"), {"body": "Hello again"})
    assert "in the last hour" in assert_full_page(response, status=429)
    response = client.post(reverse("returns_public:message"), {"body": "Hello again"}, headers=MAIN)
    assert "in the last hour" in assert_fragment(response, "buyer-main", status=429)
    assert OrderMessage.objects.filter(order=order, sender="buyer").count() == 3
    assert Notification.objects.filter(shop=shop, kind="message").count() == bells
