"""Seller API v1, one order in full: lines, the buyer (masked unless the key prints labels), packages
with their latest tracking, requests with their deadlines, refunds, deadlines; a fixed number of
queries whatever the order holds."""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from api import keys
from core.actor import Actor
from orders.models import Order
from orders.tests.factories import make_order
from returns import actions as return_actions
from returns.tests.factories import delivered_order, open_cancel, open_return
from shipping import actions as shipping_actions
from shipping.tests.factories import event, feed, order_to_ship
from shops.tests.factories import ShopFactory, SKUFactory

pytestmark = pytest.mark.django_db
SELLER = Actor.policy("test")


@pytest.fixture
def key(shop):
    _, clear = keys.create_key(shop=shop, name="ERP", scopes=["orders:read"])
    return clear


@pytest.fixture
def label_key(shop):
    _, clear = keys.create_key(shop=shop, name="3PL", scopes=["orders:read", "buyer:full_address"])
    return clear


def get(client, url, key):
    return client.get(url, headers={"Authorization": f"Bearer {key}"} if key else {})


def detail(client, order, key):
    r = get(client, f"/api/v1/orders/{order.number}", key)
    assert r.status_code == 200, r.content
    return r.json()


def big_order(shop):
    """Four lines in three packages, dropped off, the first with seven carrier events and the second
    with two; the buyer asks to cancel."""
    skus = [SKUFactory(shop=shop, price="5.00", stock_on_hand=50) for _ in range(4)]
    order = order_to_ship(shop, lines=[(sku, 2) for sku in skus])
    lines = list(order.lines.order_by("id"))
    shipping_actions.create_packages(order=order, actor=SELLER, allocations=[
        {lines[0].pk: 2, lines[1].pk: 1}, {lines[1].pk: 1, lines[2].pk: 2}, {lines[3].pk: 2}])
    packages = shipping_actions.arrange_platform_shipment(order=order, actor=SELLER, handover="DROP_OFF",
                                                          dropoff_point="SCX-DP-001")
    start = timezone.now() - timedelta(hours=10)
    feed(*[event(packages[0], "InfoReceived", at=start + timedelta(minutes=i), location=f"Hub {i}")
           for i in range(7)])
    feed(*[event(packages[1], "InfoReceived", at=start + timedelta(minutes=i)) for i in range(2)])
    shipping_actions.mark_ready(package=packages[0], actor=SELLER)
    open_cancel(order)
    return order, packages


def test_the_order_embeds_its_lines_packages_tracking_requests_and_deadlines(client, shop, key):
    order, packages = big_order(shop)
    body = detail(client, order, key)
    assert [li["quantity"] for li in body["lines"]] == [2, 2, 2, 2]
    assert [p["seq"] for p in body["packages"]] == [1, 2, 3]
    first = body["packages"][0]
    assert first["tracking_number"] == packages[0].tracking_number and first["carrier"] == packages[0].carrier
    assert first["status"] == "READY" and first["collect_by"] and body["packages"][1]["status"] == "PACKING"
    assert sum(first["lines"].values()) == 3
    # the latest five of seven, newest first
    assert [e["location"] for e in first["latest_tracking"]] == ["Hub 6", "Hub 5", "Hub 4", "Hub 3", "Hub 2"]
    assert len(body["packages"][1]["latest_tracking"]) == 2 and body["packages"][2]["latest_tracking"] == []
    (req,) = body["requests"]
    assert req["kind"] == "cancel" and req["status"] == "REQUESTED" and req["respond_by"]
    assert req["order"] == order.number and req["number"].startswith("R")
    assert body["refunds"] == [] and Decimal(body["refunded_total"]) == 0
    # one package of three is ready: the order still awaits shipment, and the ship-by deadline is next
    assert body["status"] == Order.Status.AWAITING_SHIPMENT and body["next_deadline"]["kind"] == "ship"
    assert datetime.fromisoformat(body["next_deadline"]["at"]) == datetime.fromisoformat(body["ship_by"])
    assert body["handover_by"] and body["auto_cancel_at"] and body["deadlines_paused_until"] is None


def test_refunds_and_a_returns_deadlines(client, shop, key):
    order = delivered_order(shop)
    refund_only = open_return(order, kind="refund_only")
    return_actions.approve_request(request=refund_only, actor=SELLER, amount=Decimal("4.00"), note="partly")
    back = open_return(order, kind="return", qty={order.lines.order_by("id").last().pk: 1})
    return_actions.approve_request(request=back, actor=SELLER)
    body = detail(client, order, key)
    assert [(f["seq"], f["kind"], f["request"], f["amount"], f["partial"]) for f in body["refunds"]] == [
        (1, "request", refund_only.number, "4.00", True)]
    assert Decimal(body["refunded_total"]) == Decimal("4.00")
    statuses = {r["number"]: (r["status"], r["ship_back_by"] is not None) for r in body["requests"]}
    assert statuses == {refund_only.number: ("REFUNDED", False), back.number: ("APPROVED", True)}
    assert body["delivered_at"] and body["next_deadline"] is None


def test_the_same_queries_whatever_the_order_holds(client, shop, key, django_assert_max_num_queries):
    small = make_order(shop)
    one = order_to_ship(shop)
    (package,) = shipping_actions.arrange_platform_shipment(order=one, actor=SELLER, handover="DROP_OFF",
                                                            dropoff_point="SCX-DP-001")
    feed(event(package, "InfoReceived"))
    big, _ = big_order(shop)
    refunded = delivered_order(shop)
    return_actions.approve_request(request=open_return(refunded, kind="refund_only"), actor=SELLER)
    get(client, f"/api/v1/orders/{small.number}", key)  # the key's last use is written once a minute
    counts = {}
    for name, order in (("small", small), ("one package", one), ("big", big), ("refunded", refunded)):
        with CaptureQueriesContext(connection) as q:
            detail(client, order, key)
        counts[name] = len(q)
    # Without packages their contents and tracking are not read.
    assert counts == {"small": 6, "one package": 8, "big": 8, "refunded": 6}, counts
    # key, order, lines, packages, their contents, their tracking, requests, refunds
    with django_assert_max_num_queries(8):
        detail(client, big, key)


def test_the_buyer_is_masked_as_on_the_seller_pages(client, shop, key):
    order = make_order(shop, phone="+15550001234")
    buyer = detail(client, order, key)["buyer"]
    assert buyer == {"name": "Dana Buyer", "masked": True, "phone": order.masked_phone,
                     "address": order.masked_address, "shipping_address": None}
    assert "1 Market St" not in buyer["address"] and "62701" not in buyer["address"]
    assert buyer["phone"].endswith("1234") and "555" not in buyer["phone"]


def test_a_key_that_prints_labels_reads_the_full_address(client, shop, label_key):
    order = make_order(shop, phone="+15550001234")
    buyer = detail(client, order, label_key)["buyer"]
    assert buyer["masked"] is False and buyer["phone"] == "+15550001234"
    assert buyer["address"] == order.full_address and "1 Market St" in buyer["address"]
    assert buyer["shipping_address"] == {"line1": "1 Market St", "line2": "", "city": "Springfield", "region": "IL",
                                         "postal_code": "62701", "country": "US"}


def test_the_label_pdf_needs_the_full_address_scope(client, shop, key, label_key):
    order = order_to_ship(shop)
    (package,) = shipping_actions.arrange_platform_shipment(order=order, actor=SELLER, handover="DROP_OFF",
                                                            dropoff_point="SCX-DP-001")
    for kind in ("label", "slip"):
        url = f"/api/v1/packages/{package.pk}/label.pdf?kind={kind}"
        r = get(client, url, key)
        assert r.status_code == 403 and "buyer:full_address" in r.json()["detail"]
        r = get(client, url, label_key)
        assert r.status_code == 200 and r["Content-Type"] == "application/pdf"


def test_401_403_404(client, shop, key):
    order = make_order(shop)
    assert get(client, f"/api/v1/orders/{order.number}", None).status_code == 401
    _, stock = keys.create_key(shop=shop, name="IMS", scopes=["inventory:read", "buyer:full_address"])
    r = get(client, f"/api/v1/orders/{order.number}", stock)
    assert r.status_code == 403 and r.json()["code"] == "missing_scope"
    other, _ = big_order(ShopFactory())
    r = get(client, f"/api/v1/orders/{other.number}", key)
    assert r.status_code == 404 and r["Content-Type"] == "application/problem+json"
    assert other.number not in r.json()["title"]


def test_list_items_carry_the_deadlines_and_totals(client, shop, key):
    order = make_order(shop, paid=False)
    (item,) = get(client, "/api/v1/orders", key).json()["items"]
    for field in ("number", "status", "placed_at", "paid_at", "status_changed_at", "ship_by", "handover_by",
                  "auto_cancel_at", "deadlines_paused_until", "next_deadline", "currency", "total", "item_count",
                  "updated_at"):
        assert field in item, field
    assert item["paid_at"] is None and item["next_deadline"]["kind"] == "auto-cancel"
    assert item["next_deadline"]["at"] and Decimal(item["total"]) == order.total
