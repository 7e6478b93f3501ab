"""Each Manage Orders row's next action, from the order's state and the member's role, with
what shipping and returns add to the row (tracking numbers, open requests) read in the row
query: the page's query count stays the same at any page size."""

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from orders.models import Order
from orders.tests.factories import make_order
from returns.tests.factories import open_cancel
from shipping import actions as shipping_actions
from shipping.tests.factories import arranged, order_to_ship, ups_number
from shops.roles import Role
from shops.tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def list_url(shop, **query):
    url = reverse("orders:list", kwargs={"shop": shop.slug})
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def row_of(html, order):
    rows = html.split("<tr>")
    return next(r for r in rows if f'aria-label="Select order {order.number}"' in r)


def client_as(shop, role):
    client = Client()
    client.force_login(MembershipFactory(shop=shop, role=role).user)
    return client


def _shipped_by_seller(shop):
    from core.actor import Actor
    from shipping.actions import ShipRow

    order = order_to_ship(shop, model="SELLER")
    number = ups_number()
    user = shop.memberships.first().user
    report = shipping_actions.ship_packages(shop=shop, actor=Actor.seller(user), rows=[
        ShipRow(f"order {order.number}", order.number, None, "ups", number)])
    assert not report.errors, report.errors
    return order, number


def test_rows_offer_the_next_action_the_state_and_role_allow(seller_client, shop):
    to_confirm = make_order(shop)
    seller_ship = order_to_ship(shop, model="SELLER")
    platform_ship = order_to_ship(shop, model="PLATFORM")
    to_print = order_to_ship(shop, model="PLATFORM")
    arranged(to_print)
    requested = make_order(shop)
    request = open_cancel(requested)
    html = seller_client.get(list_url(shop)).content.decode()
    assert 'name="row_confirm"' in row_of(html, to_confirm)
    ship = row_of(html, seller_ship)
    assert f'name="tracking-o{seller_ship.number}"' in ship and 'form="row-ship"' in ship
    assert 'list="ship-carriers"' in ship and '<datalist id="ship-carriers">' in html
    assert '#shipping-panel">Arrange</a>' in row_of(html, platform_ship)
    assert "Print label</a>" in row_of(html, to_print)
    answer = reverse("returns:detail", kwargs={"shop": shop.slug, "pk": request.pk})
    assert f'href="{answer}">Answer request</a>' in row_of(html, requested)
    # A viewer sees the rows and no action.
    viewer = client_as(shop, Role.VIEWER).get(list_url(shop)).content.decode()
    for order in (to_confirm, seller_ship, platform_ship, to_print, requested):
        row = row_of(viewer, order)
        assert not re.search(r"row_confirm|tracking-o|>Arrange<|>Print label<|>Answer request<", row), row
    # Fulfilment ships and confirms but does not answer requests.
    fulfilment = client_as(shop, Role.FULFILMENT).get(list_url(shop)).content.decode()
    assert "Answer request" not in row_of(fulfilment, requested)
    assert f'name="tracking-o{seller_ship.number}"' in row_of(fulfilment, seller_ship)


def test_row_ship_posts_the_rows_tracking_to_shipping(seller_client, shop):
    order = order_to_ship(shop, model="SELLER")
    number = ups_number()
    response = seller_client.post(reverse("shipping:ship_bulk", kwargs={"shop": shop.slug}),
                                  {f"carrier-o{order.number}": "ups", f"tracking-o{order.number}": number})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == Order.Status.IN_TRANSIT
    html = seller_client.get(list_url(shop)).content.decode()
    assert f"ups {number}" in row_of(html, order)


def test_list_query_count_is_fixed_with_next_actions_tracking_and_requests(seller_client, shop):
    for _ in range(30):
        make_order(shop)
    for _ in range(12):
        order_to_ship(shop, model="SELLER")
    for _ in range(4):
        _shipped_by_seller(shop)
    for _ in range(5):
        open_cancel(make_order(shop))
    for _ in range(3):
        arranged(order_to_ship(shop, model="PLATFORM"))
    counts = []
    for size in (20, 50):
        with CaptureQueriesContext(connection) as ctx:
            response = seller_client.get(list_url(shop, size=size))
        assert response.content.decode().count('name="ids"') == size
        counts.append(len(ctx))
    assert counts[0] == counts[1] <= 8, counts
