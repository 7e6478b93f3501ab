"""Seller API v1, order writes: the page's actions as the key's app, idempotent, refusals 409."""

import json
import threading
import time

import pytest
from django.db import connection

from api import keys
from api.models import IdempotentRequest
from orders.models import Order, OrderEvent
from orders.tests.factories import make_order
from shops.tests.factories import ShopFactory, SKUFactory

pytestmark = pytest.mark.django_db
S = Order.Status


@pytest.fixture
def key(shop):
    _, clear = keys.create_key(shop=shop, name="ERP", scopes=["orders:read", "orders:write"])
    return clear


def post(client, url, key, body=None, **headers):
    return client.post(url, json.dumps(body or {}), content_type="application/json",
                       headers={"Authorization": f"Bearer {key}", **headers})


def test_confirm_reserves_stock_and_history_names_the_key(client, shop, key):
    order = make_order(shop)
    r = post(client, f"/api/v1/orders/{order.number}/confirm", key)
    assert r.status_code == 200 and r.json()["status"] == S.AWAITING_SHIPMENT
    event = OrderEvent.objects.filter(order=order, action="confirm").get()
    assert event.actor_kind == "app" and event.actor_label.startswith("ERP (API key sc_")


def test_confirm_out_of_stock_is_409_naming_the_sku(client, shop, key):
    sku = SKUFactory(shop=shop, stock_on_hand=0)
    order = make_order(shop, lines=[(sku, 1)])
    r = post(client, f"/api/v1/orders/{order.number}/confirm", key)
    assert r.status_code == 409 and sku.code in r.json()["detail"]
    assert Order.objects.get(pk=order.pk).status == S.AWAITING_CONFIRMATION


def test_cancel_needs_a_seller_reason_and_tells_the_buyer(client, shop, key):
    order = make_order(shop)
    assert post(client, f"/api/v1/orders/{order.number}/cancel", key, {"reason": "unpaid"}).status_code == 422
    assert post(client, f"/api/v1/orders/{order.number}/cancel", key, {"reason": "other"}).status_code == 422
    r = post(client, f"/api/v1/orders/{order.number}/cancel", key, {"reason": "out_of_stock", "note": "sorry"})
    assert r.status_code == 200 and r.json()["status"] == S.CANCELLED
    assert order.messages.filter(body__contains="sorry").exists()
    again = post(client, f"/api/v1/orders/{order.number}/cancel", key, {"reason": "out_of_stock"})
    assert again.status_code == 409 and "cancelled" in again.json()["detail"]


def test_note_and_scope_and_other_shop(client, shop, key):
    order = make_order(shop)
    assert post(client, f"/api/v1/orders/{order.number}/notes", key, {"text": "called buyer"}).status_code == 201
    assert post(client, f"/api/v1/orders/{order.number}/notes", key, {"text": "a\x00"}).status_code == 400
    other = make_order(ShopFactory())
    assert post(client, f"/api/v1/orders/{other.number}/confirm", key).status_code == 404
    _, read_only = keys.create_key(shop=shop, name="BI", scopes=["orders:read"])
    assert post(client, f"/api/v1/orders/{order.number}/confirm", read_only).status_code == 403
    assert Order.objects.get(pk=other.pk).status == S.AWAITING_CONFIRMATION


def test_bulk_confirm_reports_per_order(client, shop, key):
    good = make_order(shop)
    short = make_order(shop, lines=[(SKUFactory(shop=shop, stock_on_hand=0), 1)])
    other = make_order(ShopFactory())
    r = post(client, "/api/v1/orders/confirm", key, {"numbers": [good.number, short.number, other.number, "nope"]})
    body = r.json()
    assert r.status_code == 200 and body["done"] == [good.number]
    assert {x["number"] for x in body["refused"]} == {short.number, other.number, "nope"}
    assert post(client, "/api/v1/orders/confirm", key, {"numbers": ["x"] * 501}).status_code == 422


def test_bulk_cancel(client, shop, key):
    orders = [make_order(shop) for _ in range(3)]
    r = post(client, "/api/v1/orders/cancel", key, {"numbers": [o.number for o in orders], "reason": "pricing_error"})
    assert r.status_code == 200 and len(r.json()["done"]) == 3
    assert Order.objects.filter(status=S.CANCELLED).count() == 3


def test_idempotency_replays_the_first_answer_and_refuses_another_body(client, shop, key):
    a, b = make_order(shop), make_order(shop)
    first = post(client, f"/api/v1/orders/{a.number}/notes", key, {"text": "one"}, **{"Idempotency-Key": "k1"})
    again = post(client, f"/api/v1/orders/{a.number}/notes", key, {"text": "one"}, **{"Idempotency-Key": "k1"})
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    assert OrderEvent.objects.filter(order=a, action="note").count() == 1
    other = post(client, f"/api/v1/orders/{b.number}/notes", key, {"text": "one"}, **{"Idempotency-Key": "k1"})
    assert other.status_code == 409 and other.json()["code"] == "idempotency_key_reused"
    assert post(client, f"/api/v1/orders/{a.number}/notes", key, {"text": "x"},
                **{"Idempotency-Key": "é"}).status_code == 400


def test_a_refused_action_can_be_retried_with_the_same_key(client, shop, key):
    sku = SKUFactory(shop=shop, stock_on_hand=0)
    order = make_order(shop, lines=[(sku, 1)])
    url = f"/api/v1/orders/{order.number}/confirm"
    assert post(client, url, key, **{"Idempotency-Key": "k2"}).status_code == 409
    sku.stock_on_hand = 5
    sku.save()
    assert post(client, url, key, **{"Idempotency-Key": "k2"}).status_code == 200


def _overlapping(monkeypatch, name, url, key, body):
    """Two requests with one Idempotency-Key, the second sent while the first is inside the
    action (held there for half a second): (the two answers, how many times the action ran)."""
    from django.test import Client

    from api import v1
    real, started, calls, answers = getattr(v1.order_actions, name), threading.Event(), [], {}

    def slow(**kwargs):
        calls.append(1)
        started.set()
        time.sleep(0.5)
        return real(**kwargs)
    monkeypatch.setattr(v1.order_actions, name, slow)

    def go(i):
        try:
            r = post(Client(), url, key, body, **{"Idempotency-Key": "same"})
            answers[i] = (r.status_code, r.json())
        finally:
            connection.close()
    first = threading.Thread(target=go, args=(0,))
    first.start()
    assert started.wait(10)
    second = threading.Thread(target=go, args=(1,))
    second.start()
    first.join()
    second.join()
    return answers, len(calls)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_requests_with_one_key_act_once_and_answer_the_same(on_postgres, shop, monkeypatch):
    _, key = keys.create_key(shop=shop, name="ERP", scopes=["orders:write"])
    order = make_order(shop)
    answers, calls = _overlapping(monkeypatch, "add_note", f"/api/v1/orders/{order.number}/notes", key,
                                  {"text": "once"})
    assert calls == 1
    assert answers[0] == answers[1] and answers[0][0] == 201, answers
    assert OrderEvent.objects.filter(order=order, action="note").count() == 1
    assert IdempotentRequest.objects.get().status == 201


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_concurrent_repeat_of_a_refused_request_is_refused_the_same(on_postgres, shop, monkeypatch):
    _, key = keys.create_key(shop=shop, name="ERP", scopes=["orders:write"])
    order = make_order(shop, lines=[(SKUFactory(shop=shop, stock_on_hand=0), 1)])
    answers, calls = _overlapping(monkeypatch, "confirm_order", f"/api/v1/orders/{order.number}/confirm", key, {})
    # Nothing of the refused first request is kept, its claim included: the repeat ran and was refused too.
    assert calls == 2
    assert answers[0] == answers[1] and answers[0][0] == 409, answers
    assert not IdempotentRequest.objects.exists()
    assert Order.objects.get(pk=order.pk).status == S.AWAITING_CONFIRMATION
