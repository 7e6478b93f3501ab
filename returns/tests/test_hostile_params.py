"""Odd parameters on the seller's request pages (issue 11: `after=²` on the list and
`next=request:²` on the message form were 500s)."""

import pytest
from django.urls import reverse

from orders.models import OrderMessage
from shops.tests.factories import ShopFactory

from .factories import delivered_order, open_return

pytestmark = pytest.mark.django_db
ODD = ["²", "١٢٣", "1e400", "-1", "0", str(2**63), str(10**30), "\x00", "x" * 500, ""]


def url(name, shop, **kw):
    return reverse(f"returns:{name}", kwargs={"shop": shop.slug, **kw})


@pytest.mark.parametrize("after", ODD)
def test_request_list_with_an_odd_after_shows_the_first_page(seller_client, shop, after):
    req = open_return(delivered_order(shop))
    for headers in ({}, {"HX-Request": "true"}):
        r = seller_client.get(url("list", shop), {"after": after, "tab": "all"}, headers=headers)
        assert r.status_code == 200 and req.number in r.content.decode()


@pytest.mark.parametrize("pk", ["²", "-1", "0", "1e400", str(10**30), "", "x"])
def test_message_with_an_odd_request_in_next_goes_to_the_order_page(seller_client, shop, pk):
    order = delivered_order(shop)
    open_return(order)
    r = seller_client.post(url("message", shop, number=order.number), {"body": "Hello there", "next": f"request:{pk}"})
    assert r.status_code == 302 and r["Location"] == reverse("orders:detail", kwargs={"shop": shop.slug,
                                                                                     "number": order.number})
    assert OrderMessage.objects.filter(order=order, sender="seller").count() == 1


def test_message_next_naming_another_orders_or_shops_request_is_404(seller_client, shop):
    order, other_order = delivered_order(shop), delivered_order(shop)
    other = open_return(other_order)
    foreign = open_return(delivered_order(ShopFactory()))
    for req in (other, foreign):
        r = seller_client.post(url("message", shop, number=order.number), {"body": "Hi", "next": f"request:{req.pk}"})
        assert r.status_code == 404


@pytest.mark.parametrize("pk", [str(2**63), str(10**30), "0"])
def test_request_pages_with_huge_or_zero_ids_are_404(seller_client, shop, pk):
    assert seller_client.get(f"/s/{shop.slug}/requests/{pk}/").status_code == 404
    assert seller_client.post(f"/s/{shop.slug}/requests/{pk}/approve").status_code == 404
    assert seller_client.get(f"/s/{shop.slug}/requests/1/photos/{pk}").status_code == 404


def test_receive_with_a_nul_or_overlong_note_is_400_and_changes_nothing(seller_client, shop, seller):
    from core.actor import Actor

    from .. import actions
    from ..models import BuyerRequest

    req = open_return(delivered_order(shop))
    req = actions.approve_request(request=req, actor=Actor.seller(seller))
    req = actions.ship_back(request=req, carrier="UPS", tracking="1Z999")
    for note in ("A\x00B", "x" * 501):
        for headers in ({}, {"HX-Request": "true"}):
            r = seller_client.post(url("receive", shop, pk=req.pk), {"note": note}, headers=headers)
            assert r.status_code == (400 if headers else 302)
    req.refresh_from_db()
    assert req.status == BuyerRequest.Status.RETURN_SHIPPED
    r = seller_client.post(url("receive", shop, pk=req.pk), {"note": "Box intact"}, headers={"HX-Request": "true"})
    assert r.status_code == 200
    req.refresh_from_db()
    assert req.status == BuyerRequest.Status.RECEIVED
