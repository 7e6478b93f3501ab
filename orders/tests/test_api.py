"""The storefront's signed endpoints: orders come in (POST /api/storefront/orders/), payments
come in (POST /api/storefront/orders/<number>/payment). Nothing is stored on any 4xx."""

import copy
import json
import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from core.signing import sign
from orders.models import Order, OrderEvent, OrderLine, OrderStatusCount
from orders.tests.factories import advance, make_order
from orders.tests.helpers import post_signed
from shops.models import Notification
from shops.tests.factories import ShopFactory, SKUFactory

S = Order.Status
pytestmark = pytest.mark.django_db
PLACED = timezone.now().replace(microsecond=0) - timedelta(hours=2)


def orders_url():
    return reverse("storefront-orders")


def payment_url(number):
    return reverse("storefront-payment", kwargs={"number": number})


def iso(dt):
    return dt.isoformat().replace("+00:00", "Z")


@pytest.fixture
def skus(shop):
    return {
        "MUG-RED": SKUFactory(shop=shop, code="MUG-RED", name="Red mug", price=Decimal("12.50")),
        "TEE-M": SKUFactory(shop=shop, code="TEE-M", name="Tee, M", price=Decimal("20.00")),
    }


@pytest.fixture
def payload(shop, skus):
    return {
        "number": "SF-1001",
        "shop": shop.slug,
        "placed_at": iso(PLACED),
        "paid_at": iso(PLACED + timedelta(minutes=3)),
        "currency": "USD",
        "shipping_model": "PLATFORM",
        "buyer": {
            "name": "Dana Buyer",
            "email": "dana@example.com",
            "phone": "+15550001234",
            "address": {
                "line1": "1 Market St",
                "line2": "Apt 4",
                "city": "Springfield",
                "region": "IL",
                "postal_code": "62701",
                "country": "US",
            },
        },
        "lines": [
            {"sku": "MUG-RED", "quantity": 2, "unit_price": "12.50"},
            {"sku": "TEE-M", "quantity": 1, "unit_price": "20.00"},
        ],
    }


@pytest.fixture
def unpaid(payload):
    return {**payload, "paid_at": None}


def stored():
    """Everything a storefront call can write, to show that a refused call wrote nothing."""
    return {
        "orders": list(
            Order.objects.order_by("pk").values_list("number", "status", "paid_at", "buyer_name", "total", "updated_at")
        ),
        "lines": list(OrderLine.objects.order_by("pk").values_list("order__number", "sku_code", "quantity", "unit_price")),
        "events": list(OrderEvent.objects.order_by("pk").values_list("order__number", "action")),
        "counts": list(OrderStatusCount.objects.order_by("pk").values_list("shop__slug", "status", "count")),
        "notifications": Notification.objects.count(),
    }


def counts(shop):
    return {c.status: c.count for c in OrderStatusCount.objects.filter(shop=shop) if c.count}


def set_at(path, value):
    """A mutation of the payload: set (or, with DELETE, remove) the value at a dotted path."""

    def mutate(payload):
        *parents, last = path.split(".")
        target = payload
        for key in parents:
            target = target[int(key)] if isinstance(target, list) else target[key]
        key = int(last) if isinstance(target, list) else last
        if value is DELETE:
            del target[key]
        else:
            target[key] = value(payload) if callable(value) else value
        return payload

    return mutate


DELETE = object()


# --- create ----------------------------------------------------------------------------


def test_push_paid_order_creates_it_awaiting_confirmation(client, shop, payload):
    response = post_signed(client, orders_url(), payload)

    assert response.status_code == 201, response.content
    assert response.json() == {"number": "SF-1001", "status": S.AWAITING_CONFIRMATION, "shop": shop.slug}
    order = Order.objects.get(number="SF-1001")
    assert order.shop == shop
    assert order.status == S.AWAITING_CONFIRMATION
    assert order.placed_at == PLACED
    assert order.paid_at == PLACED + timedelta(minutes=3)
    assert (order.currency, order.shipping_model) == ("USD", "PLATFORM")
    assert (order.buyer_name, order.buyer_email, order.buyer_phone) == ("Dana Buyer", "dana@example.com", "+15550001234")
    assert (order.address_line1, order.address_line2, order.city, order.region, order.postal_code, order.country) == (
        "1 Market St", "Apt 4", "Springfield", "IL", "62701", "US",
    )
    assert order.total == Decimal("45.00")
    assert order.item_count == 3
    assert list(order.lines.values_list("sku__code", "sku_code", "name", "quantity", "unit_price")) == [
        ("MUG-RED", "MUG-RED", "Red mug", 2, Decimal("12.50")),
        ("TEE-M", "TEE-M", "Tee, M", 1, Decimal("20.00")),
    ]
    events = list(order.events.order_by("pk").values_list("action", "from_status", "to_status", "actor_kind"))
    assert events == [
        ("place", "", S.UNPAID, "storefront"),
        ("pay", S.UNPAID, S.AWAITING_CONFIRMATION, "storefront"),
    ]
    assert counts(shop) == {S.AWAITING_CONFIRMATION: 1}
    assert Notification.objects.filter(shop=shop, kind=Notification.Kind.NEW_ORDER).count() == 1


def test_push_unpaid_order_creates_it_unpaid(client, shop, unpaid):
    response = post_signed(client, orders_url(), unpaid)

    assert response.status_code == 201, response.content
    assert response.json()["status"] == S.UNPAID
    order = Order.objects.get(number="SF-1001")
    assert (order.status, order.paid_at) == (S.UNPAID, None)
    assert list(order.events.values_list("action", flat=True)) == ["place"]
    assert counts(shop) == {S.UNPAID: 1}
    assert not Notification.objects.exists()


def test_push_without_paid_at_key_creates_it_unpaid(client, payload):
    del payload["paid_at"]
    response = post_signed(client, orders_url(), payload)
    assert response.status_code == 201, response.content
    assert Order.objects.get(number="SF-1001").status == S.UNPAID


def test_push_adds_to_the_status_counters(client, shop, payload, unpaid):
    make_order(shop, paid=True)
    post_signed(client, orders_url(), payload)
    post_signed(client, orders_url(), {**unpaid, "number": "SF-1002"})
    post_signed(client, orders_url(), {**unpaid, "number": "SF-1003"})
    assert counts(shop) == {S.AWAITING_CONFIRMATION: 2, S.UNPAID: 2}


def test_push_with_utc_offset_stores_the_same_instant(client, payload):
    payload["placed_at"] = (PLACED.astimezone(timezone.get_fixed_timezone(120))).isoformat()
    response = post_signed(client, orders_url(), payload)
    assert response.status_code == 201, response.content
    assert Order.objects.get(number="SF-1001").placed_at == PLACED


def test_push_trims_text_and_normalises_codes(client, payload):
    payload["buyer"]["name"] = "  Dana Buyer "
    payload["buyer"]["address"]["country"] = "us"
    payload["currency"] = "usd"
    response = post_signed(client, orders_url(), payload)
    assert response.status_code == 201, response.content
    order = Order.objects.get(number="SF-1001")
    assert (order.buyer_name, order.country, order.currency) == ("Dana Buyer", "US", "USD")


def test_push_with_phone_only_is_accepted(client, payload):
    del payload["buyer"]["email"]
    response = post_signed(client, orders_url(), payload)
    assert response.status_code == 201, response.content
    assert Order.objects.get(number="SF-1001").buyer_email == ""


# --- repeats ---------------------------------------------------------------------------


def test_push_identical_repeat_answers_200_and_duplicates_nothing(client, payload):
    assert post_signed(client, orders_url(), payload).status_code == 201
    before = stored()

    response = post_signed(client, orders_url(), payload)

    assert response.status_code == 200, response.content
    assert response.json()["number"] == "SF-1001"
    assert response.json()["status"] == S.AWAITING_CONFIRMATION
    assert stored() == before
    assert (Order.objects.count(), OrderLine.objects.count(), OrderEvent.objects.count()) == (1, 2, 2)


def test_push_repeat_with_extra_unknown_fields_answers_200(client, payload):
    assert post_signed(client, orders_url(), payload).status_code == 201
    before = stored()
    repeat = copy.deepcopy(payload)
    repeat["channel"] = "mobile-app"
    repeat["buyer"]["loyalty_id"] = "L-9"
    repeat["buyer"]["address"]["geo"] = {"lat": 1.0, "lng": 2.0}
    repeat["lines"][0]["promo"] = "SPRING"

    response = post_signed(client, orders_url(), repeat)

    assert response.status_code == 200, response.content
    assert stored() == before


def test_push_repeat_written_differently_but_meaning_the_same_answers_200(client, payload):
    assert post_signed(client, orders_url(), payload).status_code == 201
    before = stored()
    repeat = copy.deepcopy(payload)
    repeat["placed_at"] = PLACED.astimezone(timezone.get_fixed_timezone(-300)).isoformat()
    repeat["lines"][0]["unit_price"] = "12.5"
    repeat["buyer"]["address"]["country"] = "us"
    body = json.dumps(repeat, indent=2, sort_keys=True).encode()

    response = post_signed(client, orders_url(), body)

    assert response.status_code == 200, response.content
    assert stored() == before


def test_push_repeat_after_payment_answers_200_and_keeps_the_order_paid(client, unpaid):
    assert post_signed(client, orders_url(), unpaid).status_code == 201
    assert post_signed(client, payment_url("SF-1001"), {"number": "SF-1001"}).status_code == 200
    before = stored()

    response = post_signed(client, orders_url(), unpaid)

    assert response.status_code == 200, response.content
    assert response.json()["status"] == S.AWAITING_CONFIRMATION
    assert stored() == before


DIFFERENCES = {
    "quantity": set_at("lines.0.quantity", 3),
    "unit_price": set_at("lines.0.unit_price", "11.00"),
    "sku": set_at("lines.1.sku", "MUG-RED"),
    "a line less": set_at("lines.1", DELETE),
    "buyer name": set_at("buyer.name", "Someone Else"),
    "buyer address": set_at("buyer.address.line1", "2 Market St"),
    "placed_at": set_at("placed_at", iso(PLACED - timedelta(minutes=1))),
    "paid_at": set_at("paid_at", None),
    "shipping_model": set_at("shipping_model", "SELLER"),
}


@pytest.mark.parametrize("mutate", DIFFERENCES.values(), ids=DIFFERENCES.keys())
def test_push_repeat_that_differs_answers_409_and_changes_nothing(client, payload, mutate):
    assert post_signed(client, orders_url(), payload).status_code == 201
    before = stored()

    response = post_signed(client, orders_url(), mutate(copy.deepcopy(payload)))

    assert response.status_code == 409, response.content
    assert "SF-1001" in response.json()["error"]
    assert stored() == before


def test_push_number_taken_by_another_shop_answers_409(client, payload):
    other = ShopFactory()
    make_order(other, number="SF-1001")
    before = stored()

    response = post_signed(client, orders_url(), payload)

    assert response.status_code == 409, response.content
    assert stored() == before


# --- 400: bad input --------------------------------------------------------------------


def other_shops_sku(payload):
    return SKUFactory(shop=ShopFactory(), code="OTHER-1").code


def another_shops_slug(payload):
    return ShopFactory(currency="EUR").slug


BAD = [
    # (id, mutation of the valid payload, or the raw body; the field the errors must name)
    ("malformed json", lambda p: b'{"number": "SF-1001",', "body"),
    ("empty body", lambda p: b"", "body"),
    ("not utf-8", lambda p: b'{"number": "\xff\xfe"}', "body"),
    ("json array", lambda p: [p], "body"),
    ("json string", lambda p: b'"SF-1001"', "body"),
    ("json null", lambda p: b"null", "body"),
    ("deeply nested json", lambda p: b"[" * 100_000 + b"]" * 100_000, "body"),
    ("number missing", set_at("number", DELETE), "number"),
    ("number empty", set_at("number", ""), "number"),
    ("number blank", set_at("number", "   "), "number"),
    ("number not a string", set_at("number", 1001), "number"),
    ("number too long", set_at("number", "N" * 41), "number"),
    ("number with a slash", set_at("number", "SF/1001"), "number"),
    ("number with a control character", set_at("number", "SF\x001001"), "number"),
    ("shop missing", set_at("shop", DELETE), "shop"),
    ("shop unknown", set_at("shop", "no-such-shop"), "shop"),
    ("shop not a string", set_at("shop", {"slug": "x"}), "shop"),
    ("placed_at missing", set_at("placed_at", DELETE), "placed_at"),
    ("placed_at null", set_at("placed_at", None), "placed_at"),
    ("placed_at naive", set_at("placed_at", "2026-11-20T10:00:00"), "placed_at"),
    ("placed_at a date", set_at("placed_at", "2026-11-20"), "placed_at"),
    ("placed_at not a time", set_at("placed_at", "yesterday"), "placed_at"),
    ("placed_at a unix time", set_at("placed_at", 1_763_200_000), "placed_at"),
    ("placed_at in the future", set_at("placed_at", lambda p: iso(timezone.now() + timedelta(hours=3))), "placed_at"),
    ("placed_at year 1", set_at("placed_at", "0001-01-01T00:00:00+01:00"), "placed_at"),
    ("placed_at year 9999", set_at("placed_at", "9999-12-31T23:59:59+00:00"), "placed_at"),
    ("paid_at naive", set_at("paid_at", "2026-11-20T10:00:00"), "paid_at"),
    ("paid_at not a string", set_at("paid_at", True), "paid_at"),
    ("paid_at before placed_at", set_at("paid_at", iso(PLACED - timedelta(seconds=1))), "paid_at"),
    ("paid_at in the future", set_at("paid_at", lambda p: iso(timezone.now() + timedelta(hours=3))), "paid_at"),
    ("currency missing", set_at("currency", DELETE), "currency"),
    ("currency two letters", set_at("currency", "US"), "currency"),
    ("currency four letters", set_at("currency", "USDT"), "currency"),
    ("currency digits", set_at("currency", "840"), "currency"),
    ("currency non-ascii letters", set_at("currency", "ÜSD"), "currency"),
    ("currency not the shop's", set_at("currency", "EUR"), "currency"),
    ("shipping_model missing", set_at("shipping_model", DELETE), "shipping_model"),
    ("shipping_model unknown", set_at("shipping_model", "DRONE"), "shipping_model"),
    ("shipping_model lowercase", set_at("shipping_model", "seller"), "shipping_model"),
    ("shipping_model a list", set_at("shipping_model", ["SELLER"]), "shipping_model"),
    ("buyer missing", set_at("buyer", DELETE), "buyer"),
    ("buyer a string", set_at("buyer", "Dana Buyer"), "buyer"),
    ("buyer name missing", set_at("buyer.name", DELETE), "buyer.name"),
    ("buyer name blank", set_at("buyer.name", "  "), "buyer.name"),
    ("buyer name too long", set_at("buyer.name", "D" * 201), "buyer.name"),
    ("buyer name with NUL", set_at("buyer.name", "Dana\x00Buyer"), "buyer.name"),
    ("buyer name with a lone surrogate", set_at("buyer.name", "Dana \ud800"), "buyer.name"),
    ("buyer email invalid", set_at("buyer.email", "not-an-email"), "buyer.email"),
    ("buyer email and phone missing", lambda p: set_at("buyer.phone", DELETE)(set_at("buyer.email", DELETE)(p)), "buyer.email"),
    ("buyer phone too long", set_at("buyer.phone", "1" * 41), "buyer.phone"),
    ("address missing", set_at("buyer.address", DELETE), "buyer.address"),
    ("address a list", set_at("buyer.address", ["1 Market St"]), "buyer.address"),
    ("address line1 missing", set_at("buyer.address.line1", DELETE), "buyer.address.line1"),
    ("address line1 with a newline", set_at("buyer.address.line1", "1 Market St\nSpringfield"), "buyer.address.line1"),
    ("address city missing", set_at("buyer.address.city", DELETE), "buyer.address.city"),
    ("address postal_code too long", set_at("buyer.address.postal_code", "6" * 21), "buyer.address.postal_code"),
    ("address country missing", set_at("buyer.address.country", DELETE), "buyer.address.country"),
    ("address country three letters", set_at("buyer.address.country", "USA"), "buyer.address.country"),
    ("address country digits", set_at("buyer.address.country", "12"), "buyer.address.country"),
    ("lines missing", set_at("lines", DELETE), "lines"),
    ("lines empty", set_at("lines", []), "lines"),
    ("lines an object", set_at("lines", {"sku": "MUG-RED"}), "lines"),
    ("lines too many", lambda p: {**p, "lines": p["lines"][:1] * 201}, "lines"),
    ("line not an object", set_at("lines.0", "MUG-RED"), "lines[0]"),
    ("sku unknown", set_at("lines.0.sku", "NO-SUCH-SKU"), "lines[0].sku"),
    ("sku of another shop", set_at("lines.1.sku", other_shops_sku), "lines[1].sku"),
    ("sku missing", set_at("lines.0.sku", DELETE), "lines[0].sku"),
    ("sku not a string", set_at("lines.0.sku", 42), "lines[0].sku"),
    ("sku with different case", set_at("lines.0.sku", "mug-red"), "lines[0].sku"),
    ("quantity 0", set_at("lines.0.quantity", 0), "lines[0].quantity"),
    ("quantity negative", set_at("lines.0.quantity", -1), "lines[0].quantity"),
    ("quantity a string", set_at("lines.0.quantity", "2"), "lines[0].quantity"),
    ("quantity a bool", set_at("lines.0.quantity", True), "lines[0].quantity"),
    ("quantity a fraction", set_at("lines.0.quantity", 1.5), "lines[0].quantity"),
    ("quantity a whole float", set_at("lines.0.quantity", 2.0), "lines[0].quantity"),
    ("quantity null", set_at("lines.0.quantity", None), "lines[0].quantity"),
    ("quantity missing", set_at("lines.0.quantity", DELETE), "lines[0].quantity"),
    ("quantity too large", set_at("lines.0.quantity", 10_001), "lines[0].quantity"),
    ("unit_price abc", set_at("lines.0.unit_price", "abc"), "lines[0].unit_price"),
    ("unit_price negative", set_at("lines.0.unit_price", "-1"), "lines[0].unit_price"),
    ("unit_price three places", set_at("lines.0.unit_price", "1.234"), "lines[0].unit_price"),
    ("unit_price a JSON number", set_at("lines.0.unit_price", 12.5), "lines[0].unit_price"),
    ("unit_price empty", set_at("lines.0.unit_price", ""), "lines[0].unit_price"),
    ("unit_price missing", set_at("lines.0.unit_price", DELETE), "lines[0].unit_price"),
    ("unit_price NaN", set_at("lines.0.unit_price", "NaN"), "lines[0].unit_price"),
    ("unit_price sNaN", set_at("lines.0.unit_price", "sNaN"), "lines[0].unit_price"),
    ("unit_price Infinity", set_at("lines.0.unit_price", "Infinity"), "lines[0].unit_price"),
    ("unit_price too large", set_at("lines.0.unit_price", "10000000000.00"), "lines[0].unit_price"),
    (
        "order total too large",
        lambda p: {**p, "lines": [{"sku": "MUG-RED", "quantity": 10_000, "unit_price": "9999999999.99"}]},
        "lines",
    ),
]


@pytest.mark.parametrize("make_body,field", [case[1:] for case in BAD], ids=[case[0] for case in BAD])
def test_push_bad_input_answers_400_naming_the_field_and_stores_nothing(client, payload, make_body, field):
    make_order(ShopFactory())  # something already stored, to show it stays as it was
    before = stored()

    response = post_signed(client, orders_url(), make_body(copy.deepcopy(payload)))

    assert response.status_code == 400, response.content
    errors = response.json()["errors"]
    assert field in errors, errors
    assert errors[field] and all(isinstance(message, str) and message for message in errors[field])
    assert stored() == before
    assert not Order.objects.filter(number="SF-1001").exists()


def test_push_with_many_errors_lists_them_all(client, payload):
    payload["shipping_model"] = "DRONE"
    payload["buyer"]["address"]["country"] = "USA"
    payload["lines"][0]["quantity"] = 0
    payload["lines"][1]["unit_price"] = "abc"

    response = post_signed(client, orders_url(), payload)

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {
        "shipping_model", "buyer.address.country", "lines[0].quantity", "lines[1].unit_price",
    }


def test_push_body_over_the_size_limit_answers_400(client, payload, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    payload["padding"] = "x" * 2000
    response = post_signed(client, orders_url(), payload)
    assert response.status_code == 400
    assert not Order.objects.exists()


# --- 401: signature --------------------------------------------------------------------


SIGNATURES = {
    "missing": lambda body: "",
    "blank": lambda body: "   ",
    "no scheme": lambda body: sign(body, "dev-storefront-secret").removeprefix("sha256="),
    "other scheme": lambda body: "sha1=" + sign(body, "dev-storefront-secret").removeprefix("sha256="),
    "not hex": lambda body: "sha256=zzzz",
    "truncated": lambda body: sign(body, "dev-storefront-secret")[:-2],
    "non-ascii": lambda body: "sha256=é",
    "wrong secret": lambda body: sign(body, "not-the-secret"),
    "of another body": lambda body: sign(body + b" ", "dev-storefront-secret"),
}


@pytest.mark.parametrize("make_signature", SIGNATURES.values(), ids=SIGNATURES.keys())
def test_push_with_missing_or_wrong_signature_answers_401_and_stores_nothing(client, payload, settings, make_signature):
    settings.STOREFRONT_SECRET = "dev-storefront-secret"
    body = json.dumps(payload).encode()
    before = stored()

    response = post_signed(client, orders_url(), body, signature=make_signature(body))

    assert response.status_code == 401, response.content
    assert "X-Signature" in response.json()["error"]
    assert stored() == before


def test_push_body_altered_after_signing_answers_401_and_stores_nothing(client, payload, settings):
    body = json.dumps(payload).encode()
    signature = sign(body, settings.STOREFRONT_SECRET)
    altered = body.replace(b'"quantity": 2', b'"quantity": 20')
    assert altered != body

    response = post_signed(client, orders_url(), altered, signature=signature)

    assert response.status_code == 401
    assert not Order.objects.exists()


def test_push_checks_the_signature_before_the_body(client):
    response = post_signed(client, orders_url(), b"{not json", signature="sha256=00")
    assert response.status_code == 401


def test_push_signed_with_the_configured_secret_is_accepted(client, payload, settings):
    settings.STOREFRONT_SECRET = "rotated-secret"
    assert post_signed(client, orders_url(), payload, secret="dev-storefront-secret").status_code == 401
    assert post_signed(client, orders_url(), payload, secret="rotated-secret").status_code == 201


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_push_other_methods_answer_405(client, method):
    assert getattr(client, method)(orders_url()).status_code == 405


# --- payment ---------------------------------------------------------------------------


@pytest.fixture
def unpaid_order(client, unpaid):
    assert post_signed(client, orders_url(), unpaid).status_code == 201
    return Order.objects.get(number="SF-1001")


def test_payment_marks_order_paid(client, shop, unpaid_order):
    paid_at = PLACED + timedelta(minutes=30)

    response = post_signed(client, payment_url("SF-1001"), {"number": "SF-1001", "paid_at": iso(paid_at)})

    assert response.status_code == 200, response.content
    assert response.json() == {"number": "SF-1001", "status": S.AWAITING_CONFIRMATION, "shop": shop.slug}
    unpaid_order.refresh_from_db()
    assert (unpaid_order.status, unpaid_order.paid_at) == (S.AWAITING_CONFIRMATION, paid_at)
    last = unpaid_order.events.order_by("-pk").first()
    assert (last.action, last.from_status, last.to_status, last.actor_kind) == (
        "pay", S.UNPAID, S.AWAITING_CONFIRMATION, "storefront",
    )
    assert counts(shop) == {S.AWAITING_CONFIRMATION: 1}
    assert Notification.objects.filter(kind=Notification.Kind.NEW_ORDER).count() == 1


def test_payment_without_paid_at_marks_order_paid_now(client, unpaid_order):
    response = post_signed(client, payment_url("SF-1001"), {"number": "SF-1001"})
    assert response.status_code == 200, response.content
    unpaid_order.refresh_from_db()
    assert unpaid_order.status == S.AWAITING_CONFIRMATION
    assert timezone.now() - unpaid_order.paid_at < timedelta(minutes=1)


def test_payment_repeat_answers_200_and_writes_no_new_event(client, unpaid_order):
    first = PLACED + timedelta(minutes=30)
    assert post_signed(client, payment_url("SF-1001"), {"number": "SF-1001", "paid_at": iso(first)}).status_code == 200
    before = stored()

    response = post_signed(client, payment_url("SF-1001"), {"number": "SF-1001", "paid_at": iso(first + timedelta(minutes=5))})

    assert response.status_code == 200, response.content
    assert response.json()["status"] == S.AWAITING_CONFIRMATION
    assert stored() == before
    assert Order.objects.get(number="SF-1001").paid_at == first


def test_payment_of_order_pushed_paid_answers_200_and_writes_no_new_event(client, payload):
    assert post_signed(client, orders_url(), payload).status_code == 201
    before = stored()
    assert post_signed(client, payment_url("SF-1001"), {"number": "SF-1001"}).status_code == 200
    assert stored() == before


def test_payment_of_unknown_order_answers_404_and_stores_nothing(client, unpaid_order):
    before = stored()
    response = post_signed(client, payment_url("NO-SUCH"), {"number": "NO-SUCH"})
    assert response.status_code == 404
    assert "number" in response.json()["errors"]
    assert stored() == before


def test_payment_of_cancelled_order_answers_409_and_changes_nothing(client, unpaid_order):
    advance(unpaid_order, S.CANCELLED)
    before = stored()

    response = post_signed(client, payment_url("SF-1001"), {"number": "SF-1001"})

    assert response.status_code == 409, response.content
    assert response.json()["status"] == S.CANCELLED
    assert stored() == before


def test_payment_after_a_concurrent_payment_answers_200(client, unpaid_order, monkeypatch):
    """Two payment notices race: the loser finds the order paid under the lock, not a conflict."""
    from orders import actions

    real_pay = actions.pay_order

    def pay_twice(*, order, actor, paid_at=None):
        real_pay(order=Order.objects.get(pk=order.pk), actor=actor, paid_at=paid_at)  # the other notice wins
        return real_pay(order=order, actor=actor, paid_at=paid_at)

    monkeypatch.setattr(actions, "pay_order", pay_twice)
    response = post_signed(client, payment_url("SF-1001"), {"number": "SF-1001"})

    assert response.status_code == 200, response.content
    assert list(unpaid_order.events.values_list("action", flat=True)) == ["place", "pay"]


PAYMENT_BAD = {
    "malformed json": (b'{"paid_at": ', "body"),
    "json array": (b"[]", "body"),
    # The number in the signed body binds the signature to this order: a captured notice
    # cannot be replayed against another order's URL.
    "empty body": (b"", "number"),
    "no number": ({"paid_at": iso(PLACED + timedelta(minutes=1))}, "number"),
    "another order's number": ({"number": "SF-9999"}, "number"),
    "paid_at naive": ({"number": "SF-1001", "paid_at": "2026-11-20T10:00:00"}, "paid_at"),
    "paid_at not a time": ({"number": "SF-1001", "paid_at": "soon"}, "paid_at"),
    "paid_at before placed_at": ({"number": "SF-1001", "paid_at": iso(PLACED - timedelta(minutes=1))}, "paid_at"),
    "paid_at in the future": ({"number": "SF-1001", "paid_at": iso(datetime.now(UTC) + timedelta(days=2))}, "paid_at"),
}


@pytest.mark.parametrize("body,field", PAYMENT_BAD.values(), ids=PAYMENT_BAD.keys())
def test_payment_bad_input_answers_400_and_changes_nothing(client, unpaid_order, body, field):
    before = stored()
    response = post_signed(client, payment_url("SF-1001"), body)
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]
    assert stored() == before


@pytest.mark.parametrize("signature", ["", "sha256=00", "sha256=é"], ids=["missing", "wrong", "non-ascii"])
def test_payment_with_missing_or_wrong_signature_answers_401_and_changes_nothing(client, unpaid_order, signature):
    before = stored()
    response = post_signed(client, payment_url("SF-1001"), {"number": "SF-1001"}, signature=signature)
    assert response.status_code == 401
    assert stored() == before


def test_payment_get_answers_405(client, unpaid_order):
    assert client.get(payment_url("SF-1001")).status_code == 405
    assert Order.objects.get(number="SF-1001").status == S.UNPAID


# --- races (PostgreSQL: row locks and a unique index that waits for the other transaction) -------


def _race(calls, action, monkeypatch):
    """Run each call in its own thread; both pass their existence checks before either writes."""
    from orders import actions

    real = getattr(actions, action)
    barrier = threading.Barrier(len(calls), timeout=10)

    def after_barrier(**kwargs):
        barrier.wait()
        return real(**kwargs)

    monkeypatch.setattr(actions, action, after_barrier)
    answers = []

    def run(call):
        try:
            answers.append(call(Client()).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sorted(answers)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "second,answers",
    [(lambda p: p, [200, 201]), (set_at("lines.0.quantity", 5), [201, 409])],
    ids=["identical", "different"],
)
def test_two_pushes_of_one_number_racing_store_one_order(on_postgres, payload, monkeypatch, second, answers):
    first = copy.deepcopy(payload)
    other = second(copy.deepcopy(payload))
    calls = [lambda c: post_signed(c, orders_url(), first), lambda c: post_signed(c, orders_url(), other)]

    assert _race(calls, "receive_order", monkeypatch) == answers
    assert (Order.objects.count(), OrderLine.objects.count(), OrderEvent.objects.count()) == (1, 2, 2)
    assert counts(Order.objects.get().shop) == {S.AWAITING_CONFIRMATION: 1}


@pytest.mark.django_db(transaction=True)
def test_two_payment_notices_racing_pay_once_and_both_answer_200(on_postgres, unpaid, monkeypatch):
    assert post_signed(Client(), orders_url(), unpaid).status_code == 201
    calls = [lambda c: post_signed(c, payment_url("SF-1001"), {"number": "SF-1001"})] * 2

    assert _race(calls, "pay_order", monkeypatch) == [200, 200]
    order = Order.objects.get()
    assert order.status == S.AWAITING_CONFIRMATION
    assert list(order.events.order_by("pk").values_list("action", flat=True)) == ["place", "pay"]
