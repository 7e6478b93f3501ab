"""The request pages, the buyer's pages and the order page's panel are well-formed HTML5."""

import pytest
from django.urls import reverse

from core.actor import Actor
from orders.tests.test_html import assert_valid_html
from tests.pages import fetch_both

from .. import actions
from .factories import delivered_order, open_return, paid_order, upload

pytestmark = pytest.mark.django_db


def test_seller_request_pages_are_valid_html(seller_client, shop, seller):
    order = delivered_order(shop)
    req = open_return(order, files=[upload()])
    actions.post_message(order=order, sender="buyer", body="<b>hi</b>")
    other = open_return(delivered_order(shop), kind="refund_only")
    done = open_return(delivered_order(shop))
    actions.approve_request(request=done, actor=Actor.seller(seller))
    actions.ship_back(request=done, carrier="UPS", tracking="1Z")
    actions.confirm_receipt(request=done, actor=Actor.seller(seller))
    pages = [
        (reverse("returns:list", kwargs={"shop": shop.slug}), "results"),
        (reverse("returns:list", kwargs={"shop": shop.slug}) + "?tab=all&kind=return", "results"),
        (reverse("returns:detail", kwargs={"shop": shop.slug, "pk": req.pk}), "request-main"),
        (reverse("returns:detail", kwargs={"shop": shop.slug, "pk": other.pk}), "request-main"),
        (reverse("returns:detail", kwargs={"shop": shop.slug, "pk": done.pk}), "request-main"),
        (reverse("orders:detail", kwargs={"shop": shop.slug, "number": order.number}), "order-main"),
    ]
    for url, partial_id in pages:
        full, partial = fetch_both(seller_client, url, partial_id)
        assert_valid_html(full.content)
        assert_valid_html(partial.content, fragment=True)


@pytest.mark.parametrize("make", [delivered_order, paid_order])
def test_buyer_pages_are_valid_html(client, shop, make):
    order = make(shop)
    assert_valid_html(fetch_both(client, "/returns/", None)[0].content)
    assert_valid_html(client.post("/returns/", {"number": "nope", "contact": "x@y.z"}).content)
    client.post("/returns/", {"number": order.number, "contact": order.buyer_email})
    if order.status == order.Status.DELIVERED:
        open_return(order, files=[upload()])
    full, partial = fetch_both(client, "/returns/order/", "buyer-main")
    assert_valid_html(full.content)
    assert_valid_html(partial.content, fragment=True)
