"""The storefront endpoints refuse, field by field and before any query, what PostgreSQL or
psycopg would fail on: NUL, lone surrogates, impossible times, bodies nested too deeply."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from orders.models import Order, OrderEvent
from orders.tests.factories import make_order
from orders.tests.helpers import post_signed
from shops.tests.factories import SKUFactory

pytestmark = pytest.mark.django_db
PLACED = timezone.now().replace(microsecond=0) - timedelta(hours=2)


@pytest.fixture
def body(shop):
    SKUFactory(shop=shop, code="MUG-RED", price=Decimal("12.50"))
    return {
        "number": "SF-2001",
        "shop": shop.slug,
        "placed_at": PLACED.isoformat(),
        "currency": "USD",
        "shipping_model": "PLATFORM",
        "buyer": {"name": "Dana", "email": "dana@example.com",
                  "address": {"line1": "1 Market St", "city": "Springfield", "country": "US"}},
        "lines": [{"sku": "MUG-RED", "quantity": 1, "unit_price": "12.50"}],
    }


def push(client, payload):
    return post_signed(client, reverse("storefront-orders"), payload)


def nothing_stored():
    return Order.objects.count() == 0 and OrderEvent.objects.count() == 0


@pytest.mark.parametrize(("path", "value"), [
    ("lines.0.sku", "MUG\x00RED"),
    ("lines.0.sku", "MUG\ud800"),
    ("number", "SF\x00"),
    ("number", "SF\udfff"),
    ("buyer.name", "Dana\x00"),
    ("buyer.address.city", "\ud83d"),  # half of an emoji
    ("shop", "a\x00"),
    ("currency", "U\x00D"),
])
def test_nul_or_lone_surrogate_is_400_naming_the_field(client, body, path, value):
    target = body
    *parents, last = path.split(".")
    for key in parents:
        target = target[int(key)] if key.isdigit() else target[key]
    target[int(last) if last.isdigit() else last] = value
    r = push(client, body)
    assert r.status_code == 400
    name = path.replace("lines.0", "lines[0]")
    assert name in r.json()["errors"], r.json()
    assert nothing_stored()


@pytest.mark.parametrize("placed_at", [
    "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59-05:00",
    "1999-12-31T23:59:59Z",
    "2026-01-01T10:00:00+16:00",
    "2026-01-01T10:00:00-23:59",
])
def test_placed_at_out_of_range_or_offset_is_400(client, body, placed_at):
    r = push(client, {**body, "placed_at": placed_at})
    assert r.status_code == 400 and list(r.json()["errors"]) == ["placed_at"]
    assert nothing_stored()


def test_paid_at_in_the_future_is_400(client, body):
    r = push(client, {**body, "paid_at": (timezone.now() + timedelta(hours=1)).isoformat()})
    assert r.status_code == 400 and "paid_at" in r.json()["errors"]


def test_placed_at_with_an_offset_is_stored_in_utc(client, body):
    r = push(client, {**body, "placed_at": "2026-11-01T08:00:00+15:59"})
    assert r.status_code == 201
    assert Order.objects.get().placed_at.isoformat() == "2026-10-31T16:01:00+00:00"


def test_deeply_nested_body_is_400(client):
    r = post_signed(client, reverse("storefront-orders"), b"[" * 200_000)
    assert r.status_code == 400 and "nested too deeply" in r.json()["errors"]["body"][0]
    r = post_signed(client, reverse("storefront-payment", kwargs={"number": "X"}), b'{"a":' * 100_000)
    assert r.status_code == 400


@pytest.mark.parametrize("number", ["A%00", "A%ED%A0%80"])
def test_payment_for_a_number_with_nul_or_bad_utf8_is_4xx(client, number):
    r = post_signed(client, f"/api/storefront/orders/{number}/payment", {"number": "A"})
    assert 400 <= r.status_code < 500


def test_payment_time_before_2000_or_with_a_bad_offset_is_400(client, shop):
    order = make_order(shop, paid=False)
    url = reverse("storefront-payment", kwargs={"number": order.number})
    for paid_at in ("0001-01-01T00:00:00+01:00", "2026-01-01T10:00:00+18:00"):
        r = post_signed(client, url, {"number": order.number, "paid_at": paid_at})
        assert r.status_code == 400 and "paid_at" in r.json()["errors"]
    order.refresh_from_db()
    assert order.paid_at is None
