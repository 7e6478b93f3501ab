"""Refunds are checked against the order currency's own precision: half a dong, or a tenth of a
cent, is refused with a reason, never rounded (issue 17)."""

from decimal import Decimal

import pytest

from api import keys
from core.actor import Actor
from orders.actions import ActionRefused
from returns import actions
from returns.models import Refund
from shops.tests.factories import MembershipFactory, ShopFactory, SKUFactory
from tests.pages import hx

from .factories import delivered_order, open_return

pytestmark = pytest.mark.django_db


def _received(shop, price):
    order = delivered_order(shop, lines=[(SKUFactory(shop=shop, price=Decimal(price)), 2)])
    req = open_return(order)
    seller = Actor.policy("test")
    req = actions.approve_request(request=req, actor=seller)
    req = actions.ship_back(request=req, carrier="GHN", tracking="GHN123")
    return actions.confirm_receipt(request=req, actor=seller)


def test_half_a_dong_is_refused_and_a_whole_amount_refunds():
    shop = ShopFactory(currency="VND", time_zone="Asia/Ho_Chi_Minh")
    req = _received(shop, "250000")
    with pytest.raises(ActionRefused, match="VND amounts have no decimals"):
        actions.refund_request(request=req, actor=Actor.policy("test"), amount="0.5", note="part")
    with pytest.raises(ActionRefused, match="VND amounts have no decimals"):
        actions.refund_request(request=req, actor=Actor.policy("test"), amount="100000.5", note="part")
    assert not Refund.objects.exists()
    actions.refund_request(request=req, actor=Actor.policy("test"), amount="100000", note="scuffed")
    assert Refund.objects.get().amount == Decimal("100000")


def test_a_tenth_of_a_cent_is_refused():
    shop = ShopFactory(currency="USD")
    req = _received(shop, "10.00")
    with pytest.raises(ActionRefused, match="USD amounts have at most 2 decimals"):
        actions.refund_request(request=req, actor=Actor.policy("test"), amount="4.005", note="part")


def test_the_refund_form_and_the_api_answer_a_clear_4xx_for_half_a_dong(client):
    member = MembershipFactory(shop=ShopFactory(currency="VND", time_zone="Asia/Ho_Chi_Minh"))
    req = _received(member.shop, "250000")
    client.force_login(member.user)
    r = client.post(f"/s/{member.shop.slug}/requests/{req.pk}/refund", {"amount": "0.5", "note": "part"},
                    headers=hx("request-main"))
    assert r.status_code == 409
    assert "VND amounts have no decimals" in r.content.decode() + r.get("HX-Trigger", "")
    _, key = keys.create_key(shop=member.shop, name="ERP", scopes=["returns:write", "returns:read"])
    r = client.post(f"/api/v1/requests/{req.number}/refund", {"amount": "0.5", "note": "part"},
                    content_type="application/json", headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 409 and "VND amounts have no decimals" in r.json()["detail"]
    assert not Refund.objects.exists()
