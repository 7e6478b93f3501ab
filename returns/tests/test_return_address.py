"""An approved return tells the buyer where to send it (the return address of the warehouse the order
shipped from), on their page and in their message; the seller's request page shows the return's
tracking and when the order was delivered."""

import pytest
from django.urls import reverse

from core.actor import Actor
from orders.models import OrderMessage
from shops import warehouses
from shops.models import Warehouse
from tests.pages import fetch_both, texts

from .. import actions, links
from .factories import delivered_order, open_return

pytestmark = pytest.mark.django_db

RETURNS = {"line1": "9 Dock Rd", "city": "Leeds", "country": "GB", "return_same": False,
           "return_name": "Returns desk", "return_line1": "1 Back Lane", "return_city": "York", "return_country": "GB"}


def test_an_approved_return_shows_the_return_address_to_the_buyer_and_in_the_message(client, shop, seller):
    order = delivered_order(shop)
    warehouse = Warehouse.objects.get(shop=shop, is_default=True)
    warehouses.edit_warehouse(warehouse=warehouse, actor=Actor.seller(seller), values=RETURNS)
    request = open_return(order)
    page = client.get(links.path_for(order), follow=True).content.decode()
    assert "1 Back Lane" not in page  # not before the return is approved
    actions.approve_request(request=request, actor=Actor.seller(seller))
    message = OrderMessage.objects.filter(order=order).order_by("-id").first()
    assert "Returns desk, 1 Back Lane, York, GB" in message.body and request.number in message.body
    page = client.get(reverse("returns_public:order")).content.decode()
    assert "Send the item to" in page and "1 Back Lane" in page and "Returns desk" in page


def test_the_sellers_request_page_shows_return_tracking_and_the_delivery_date(seller_client, shop, seller):
    order = delivered_order(shop)
    request = open_return(order)
    actions.approve_request(request=request, actor=Actor.seller(seller))
    url = reverse("returns:detail", kwargs={"shop": shop.slug, "pk": request.pk})
    for body in texts(*fetch_both(seller_client, url, "request-main")):
        assert "Delivered to the buyer" in body and f"{order.delivered_at:%Y-%m-%d}" in body
        assert "not shipped back yet" in body
    actions.ship_back(request=request, carrier="ups", tracking="1Z999AA10123456784")
    for body in texts(*fetch_both(seller_client, url, "request-main")):
        assert "1Z999AA10123456784" in body and "shipped back" in body
