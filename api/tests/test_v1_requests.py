"""Seller API v1, buyers' requests: read, approve, reject, extend, receive, refund."""

import json

import pytest

from api import keys
from returns.models import BuyerRequest, Refund, RequestEvent
from returns.tests.factories import delivered_order, open_cancel, open_return, paid_order
from shops.tests.factories import ShopFactory

pytestmark = pytest.mark.django_db
R = BuyerRequest.Status


@pytest.fixture
def key(shop):
    return keys.create_key(shop=shop, name="OMS", scopes=["returns:read", "returns:write"])[1]


def call(client, method, url, key, body=None, **headers):
    h = {"Authorization": f"Bearer {key}", **headers}
    if method == "get":
        return client.get(url, headers=h)
    return client.post(url, json.dumps(body or {}), content_type="application/json", headers=h)


def test_list_and_read_only_this_shops_requests(client, shop, key):
    mine = open_return(delivered_order(shop))
    open_return(delivered_order(ShopFactory()))
    items = call(client, "get", "/api/v1/requests", key).json()["items"]
    assert [i["number"] for i in items] == [mine.number]
    detail = call(client, "get", f"/api/v1/requests/{mine.number}", key).json()
    assert detail["kind"] == "return" and detail["lines"][0]["quantity"] == 1
    assert call(client, "get", "/api/v1/requests/R999999", key).status_code == 404
    assert call(client, "get", "/api/v1/requests/R00000²", key).status_code == 404


def test_another_shops_request_is_404_for_writes(client, key):
    theirs = open_return(delivered_order(ShopFactory()))
    assert call(client, "post", f"/api/v1/requests/{theirs.number}/approve", key).status_code == 404
    assert BuyerRequest.objects.get(pk=theirs.pk).status == R.REQUESTED


def test_approve_then_receive_then_partial_refund(client, shop, key):
    req = open_return(delivered_order(shop))
    r = call(client, "post", f"/api/v1/requests/{req.number}/approve", key, {"note": "ship it back"})
    assert r.status_code == 200 and r.json()["status"] == R.APPROVED
    assert call(client, "post", f"/api/v1/requests/{req.number}/receive", key).status_code == 409  # not shipped back
    from returns import actions
    actions.ship_back(request=BuyerRequest.objects.get(pk=req.pk), carrier="UPS", tracking="1Z999")
    assert call(client, "post", f"/api/v1/requests/{req.number}/receive", key).json()["status"] == R.RECEIVED
    r = call(client, "post", f"/api/v1/requests/{req.number}/refund", key, {"amount": "4.00", "note": "scuffed"})
    assert r.status_code == 200 and r.json()["status"] == R.REFUNDED
    assert Refund.objects.get(request=req).amount == 4
    assert RequestEvent.objects.filter(request=req, actor_kind="app").count() == 3


def test_reject_needs_a_reason_from_the_list(client, shop, key):
    req = open_cancel(paid_order(shop))
    bad = call(client, "post", f"/api/v1/requests/{req.number}/reject", key, {"reason": "because"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["path"] == "reason"
    assert call(client, "post", f"/api/v1/requests/{req.number}/reject", key,
                {"reason": "other", "note": "a\x00"}).status_code == 400
    ok = call(client, "post", f"/api/v1/requests/{req.number}/reject", key, {"reason": "other", "note": "already packed"})
    assert ok.status_code == 200 and ok.json()["status"] == R.REJECTED


def test_extend_once(client, shop, key):
    req = open_return(delivered_order(shop))
    assert call(client, "post", f"/api/v1/requests/{req.number}/extend", key).status_code == 200
    again = call(client, "post", f"/api/v1/requests/{req.number}/extend", key)
    assert again.status_code == 409 and again.json()["code"] == "refused"


def test_read_scope_cannot_write(client, shop):
    _, read_only = keys.create_key(shop=shop, name="BI", scopes=["returns:read"])
    req = open_return(delivered_order(shop))
    assert call(client, "post", f"/api/v1/requests/{req.number}/approve", read_only).status_code == 403
