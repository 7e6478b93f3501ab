"""Seller API v1, fulfilment: split, arrange, ready, ship by seller, labels, tracking."""

import json

import pytest
from pypdf import PdfReader

from api import keys
from orders.models import Order
from shipping.models import Package, PackageEvent
from shipping.tests.factories import order_to_ship, ups_number
from shops.tests.factories import ShopFactory, SKUFactory

pytestmark = pytest.mark.django_db
P = Package.Status


@pytest.fixture
def key(shop):
    return keys.create_key(shop=shop, name="3PL", scopes=["orders:read", "fulfillment:write", "buyer:full_address"])[1]


def call(client, method, url, key, body=None, **headers):
    h = {"Authorization": f"Bearer {key}", **headers}
    if method == "get":
        return client.get(url, headers=h)
    return client.post(url, json.dumps(body or {}), content_type="application/json", headers=h)


def test_split_then_arrange_drop_off_then_ready_and_label(client, shop, key):
    order = order_to_ship(shop, lines=[(SKUFactory(shop=shop), 2)])
    line = order.lines.get()
    r = call(client, "post", f"/api/v1/orders/{order.number}/packages", key,
             {"packages": [{str(line.pk): 1}, {str(line.pk): 1}]})
    assert r.status_code == 201 and [p["seq"] for p in r.json()] == [1, 2]
    bad = call(client, "post", f"/api/v1/orders/{order.number}/packages", key, {"packages": [{str(line.pk): 1}]})
    assert bad.status_code == 409 and "exactly one package" in bad.json()["detail"]
    r = call(client, "post", f"/api/v1/orders/{order.number}/arrange", key, {"handover": "DROP_OFF"})
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "dropoff_point"
    r = call(client, "post", f"/api/v1/orders/{order.number}/arrange", key,
             {"handover": "DROP_OFF", "dropoff_point": "SCX-DP-001"})
    assert r.status_code == 200 and all(p["tracking_number"] for p in r.json())
    first = r.json()[0]["id"]
    assert call(client, "post", f"/api/v1/packages/{first}/ready", key).json()["status"] == P.READY
    assert PackageEvent.objects.filter(package_id=first, actor_kind="app").exists()
    pdf = call(client, "get", f"/api/v1/packages/{first}/label.pdf", key)
    assert pdf["Content-Type"] == "application/pdf"
    import io
    assert r.json()[0]["tracking_number"] in PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    detail = call(client, "get", f"/api/v1/packages/{first}", key).json()
    assert detail["lines"] == {line.sku_code: 1} and detail["tracking"] == []


def test_arrange_pickup_takes_only_a_listed_slot(client, shop, key):
    order = order_to_ship(shop)
    slots = call(client, "get", f"/api/v1/orders/{order.number}/pickup-slots", key).json()
    assert slots
    bad = call(client, "post", f"/api/v1/orders/{order.number}/arrange", key,
               {"handover": "PICKUP", "pickup_slot": "2030-01-01T10:00:00+00:00"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["path"] == "pickup_slot"
    ok = call(client, "post", f"/api/v1/orders/{order.number}/arrange", key,
              {"handover": "PICKUP", "pickup_slot": slots[0]["start"]})
    assert ok.status_code == 200 and ok.json()[0]["handover"] == "PICKUP"


def test_ship_by_seller_in_bulk_reports_per_row(client, shop, key):
    a, b = order_to_ship(shop, model="SELLER"), order_to_ship(shop, model="SELLER")
    other = order_to_ship(ShopFactory(), model="SELLER")
    rows = [{"order": a.number, "carrier": "ups", "tracking_number": ups_number()},
            {"order": b.number, "carrier": "ups", "tracking_number": "not-a-number"},
            {"order": other.number, "carrier": "ups", "tracking_number": ups_number()}]
    r = call(client, "post", "/api/v1/packages/ship", key, {"rows": rows})
    body = r.json()
    assert r.status_code == 200 and [p["order"] for p in body["shipped"]] == [a.number]
    assert {x["order"] for x in body["refused"]} == {b.number, other.number}
    assert Order.objects.get(pk=a.pk).status == Order.Status.IN_TRANSIT
    assert Order.objects.get(pk=other.pk).status == Order.Status.AWAITING_SHIPMENT


def test_scopes_and_isolation(client, shop):
    _, read_only = keys.create_key(shop=shop, name="BI", scopes=["orders:read"])
    order = order_to_ship(shop)
    assert call(client, "post", f"/api/v1/orders/{order.number}/arrange", read_only,
                {"handover": "DROP_OFF", "dropoff_point": "SCX-DP-001"}).status_code == 403
    theirs = order_to_ship(ShopFactory())
    _, key = keys.create_key(shop=shop, name="3PL", scopes=["orders:read", "fulfillment:write"])
    assert call(client, "get", f"/api/v1/orders/{theirs.number}/packages", key).status_code == 404
    foreign = Package.objects.filter(order=theirs).first()
    if foreign:
        assert call(client, "get", f"/api/v1/packages/{foreign.pk}", key).status_code == 404


@pytest.mark.parametrize("line_key", ["²", "١", "-1", "0", "1e3", " 1x", "9" * 30])
def test_split_with_a_key_that_is_no_line_id_is_422(client, shop, key, line_key):
    order = order_to_ship(shop)
    r = call(client, "post", f"/api/v1/orders/{order.number}/packages", key, {"packages": [{line_key: 1}]})
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "packages.0"
