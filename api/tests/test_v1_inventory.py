"""Seller API v1, inventory: read stock, set or adjust it with a reason and the version read."""

import json

import pytest

from api import keys
from core.actor import Actor
from orders import actions as order_actions
from orders.tests.factories import make_order
from shops.models import SKU, StockChange
from shops.tests.factories import ShopFactory, SKUFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def key(shop):
    return keys.create_key(shop=shop, name="IMS", scopes=["inventory:read", "inventory:write"])[1]


def call(client, method, url, key, body=None):
    h = {"Authorization": f"Bearer {key}"}
    if method == "get":
        return client.get(url, headers=h)
    return client.post(url, json.dumps(body or {}), content_type="application/json", headers=h)


def test_list_pages_by_code_and_shows_reserved(client, shop, key):
    skus = [SKUFactory(shop=shop, code=f"A-{i}", stock_on_hand=5) for i in range(3)]
    SKUFactory(shop=ShopFactory(), code="A-X")
    order_actions.confirm_order(order=make_order(shop, lines=[(skus[0], 2)]), actor=Actor.storefront())
    first = call(client, "get", "/api/v1/inventory/skus?page_size=2", key).json()
    assert [s["code"] for s in first["items"]] == ["A-0", "A-1"] and first["items"][0]["available"] == 3
    rest = call(client, "get", f"/api/v1/inventory/skus?page_size=2&after={first['next_page_token']}", key).json()
    assert [s["code"] for s in rest["items"]] == ["A-2"] and rest["next_page_token"] is None
    assert call(client, "get", "/api/v1/inventory/skus/A-X", key).status_code == 404


def test_set_then_adjust_with_versions_and_history(client, shop, key):
    sku = SKUFactory(shop=shop, code="TEE", stock_on_hand=5)
    r = call(client, "post", "/api/v1/inventory/skus/TEE/stock", key, {"on_hand": 40, "reason": "count", "version": 0})
    assert r.status_code == 200 and r.json()["stock_on_hand"] == 40 and r.json()["stock_version"] == 1
    stale = call(client, "post", "/api/v1/inventory/skus/TEE/stock", key, {"delta": -1, "reason": "damaged", "version": 0})
    assert stale.status_code == 409 and stale.json()["code"] == "stale_version"
    ok = call(client, "post", "/api/v1/inventory/skus/TEE/stock", key, {"delta": -1, "reason": "damaged", "version": 1})
    assert ok.json()["stock_on_hand"] == 39
    changes = list(StockChange.objects.filter(sku=sku).values_list("on_hand_before", "on_hand_after", "actor_kind"))
    assert changes == [(5, 40, "app"), (40, 39, "app")]


@pytest.mark.parametrize("body", [
    {"on_hand": 1, "delta": 1, "reason": "count", "version": 0},
    {"reason": "count", "version": 0},
    {"on_hand": 1, "reason": "other", "version": 0},
    {"on_hand": 1, "reason": "because", "version": 0},
    {"on_hand": -1, "reason": "count", "version": 0},
    {"delta": -100, "reason": "damaged", "version": 0},
])
def test_invalid_changes_are_422_and_change_nothing(client, shop, key, body):
    SKUFactory(shop=shop, code="TEE", stock_on_hand=5)
    assert call(client, "post", "/api/v1/inventory/skus/TEE/stock", key, body).status_code == 422
    assert SKU.objects.get(code="TEE").stock_on_hand == 5 and not StockChange.objects.exists()


def test_stock_cannot_go_below_reserved(client, shop, key):
    sku = SKUFactory(shop=shop, code="MUG", stock_on_hand=3)
    order_actions.confirm_order(order=make_order(shop, lines=[(sku, 2)]), actor=Actor.storefront())
    r = call(client, "post", "/api/v1/inventory/skus/MUG/stock", key, {"on_hand": 1, "reason": "count", "version": 0})
    assert r.status_code == 422 and "reserved" in r.json()["detail"]


def test_read_scope_cannot_write_and_stock_changes_are_append_only(client, shop):
    _, read_only = keys.create_key(shop=shop, name="BI", scopes=["inventory:read"])
    SKUFactory(shop=shop, code="TEE", stock_on_hand=5)
    assert call(client, "post", "/api/v1/inventory/skus/TEE/stock", read_only,
                {"on_hand": 1, "reason": "count", "version": 0}).status_code == 403
    from shops.stock import change_stock
    change = change_stock(sku=SKU.objects.get(code="TEE"), actor=Actor.storefront(), reason="count",
                          on_hand=7).stock_changes.get()
    with pytest.raises(ValueError):
        change.save()
    with pytest.raises(ValueError):
        change.delete()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_writers_with_the_same_version_one_wins(on_postgres, shop):
    import threading

    from django.db import connection
    from django.test import Client

    _, key = keys.create_key(shop=shop, name="IMS", scopes=["inventory:write"])
    SKUFactory(shop=shop, code="TEE", stock_on_hand=5)
    barrier, answers = threading.Barrier(2), []

    def go(n):
        try:
            barrier.wait()
            answers.append(call(Client(), "post", "/api/v1/inventory/skus/TEE/stock", key,
                                {"on_hand": n, "reason": "count", "version": 0}).status_code)
        finally:
            connection.close()
    threads = [threading.Thread(target=go, args=(n,)) for n in (10, 20)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert sorted(answers) == [200, 409]
    assert StockChange.objects.count() == 1 and SKU.objects.get(code="TEE").stock_version == 1
