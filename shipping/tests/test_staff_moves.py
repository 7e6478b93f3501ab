"""Platform staff fill in for a missing carrier feed (Packages admin), and an order that
ships in packages is never moved on its own by an order-level override."""

import pytest
from django.contrib.admin import helpers
from django.urls import reverse

from core.actor import Actor
from orders.models import Order
from orders.tests.test_admin import override, texts
from shipping import actions
from shipping.models import Package
from shops.tests.factories import UserFactory

from .factories import arranged, order_to_ship, refreshed

pytestmark = pytest.mark.django_db
P = Package.Status
S = Order.Status


def ready_order():
    order = order_to_ship()
    (pkg,) = arranged(order)
    actions.mark_ready(package=refreshed(pkg), actor=Actor.policy("test"))
    return refreshed(order), refreshed(pkg)


def test_staff_mark_collected_then_delivered_moves_the_order_with_its_package():
    staff = Actor.staff(UserFactory(is_staff=True))
    order, pkg = ready_order()
    assert order.status == S.AWAITING_COLLECTION
    n, moved = actions.staff_move_packages(package_ids=[pkg.pk], action="staff_collected", actor=staff,
                                           note="Carrier confirmed pickup by phone")
    assert (n, moved) == (1, [order.number])
    pkg, order = refreshed(pkg), refreshed(order)
    assert pkg.status == P.COLLECTED and pkg.collected_at and pkg.promised_delivery_at
    assert order.status == S.IN_TRANSIT
    event = pkg.events.get(action="staff_collected")
    assert (event.actor_kind, event.note) == ("staff", "Carrier confirmed pickup by phone")
    actions.staff_move_packages(package_ids=[pkg.pk], action="staff_delivered", actor=staff, note="Signed POD")
    assert refreshed(pkg).status == P.DELIVERED and refreshed(order).status == S.DELIVERED


def test_staff_move_needs_a_reason_and_skips_packages_it_cannot_move():
    staff = Actor.staff(UserFactory(is_staff=True))
    order, pkg = ready_order()
    with pytest.raises(actions.ActionRefused, match="Say why"):
        actions.staff_move_packages(package_ids=[pkg.pk], action="staff_collected", actor=staff, note=" ")
    assert actions.staff_move_packages(package_ids=[pkg.pk], action="staff_delivered", actor=staff,
                                       note="x") == (0, [])  # not with the carrier yet
    assert refreshed(pkg).status == P.READY and not pkg.events.filter(actor_kind="staff").exists()


def test_order_override_of_a_shipment_move_is_refused_when_the_order_ships_in_packages(admin_client):
    order, pkg = ready_order()
    response = override(admin_client, "mark_in_transit", [order], reason="feed down")
    assert any(order.number in t and "Shipping → Packages" in t for t in texts(response))
    assert refreshed(order).status == S.AWAITING_COLLECTION and refreshed(pkg).status == P.READY


def test_packages_admin_action_asks_for_the_reason_then_moves(admin_client):
    order, pkg = ready_order()
    url = reverse("admin:shipping_package_changelist")
    ask = admin_client.post(url, {"action": "mark_collected", helpers.ACTION_CHECKBOX_NAME: [pkg.pk]})
    assert ask.status_code == 200 and "Why staff step in" in ask.content.decode()
    assert refreshed(pkg).status == P.READY
    done = admin_client.post(url, {"action": "mark_collected", helpers.ACTION_CHECKBOX_NAME: [pkg.pk],
                                   "apply": "yes", "reason": "Pickup confirmed by the depot"})
    assert any(f"1 package(s) marked collected. Orders moved with them: {order.number}." in t for t in texts(done))
    assert refreshed(pkg).status == P.COLLECTED and refreshed(order).status == S.IN_TRANSIT


@pytest.mark.parametrize("model", ["PLATFORM", "SELLER"])
@pytest.mark.parametrize("name", ["arrange_shipment", "mark_in_transit"])
def test_order_override_of_an_unpacked_order_is_refused_with_the_next_step(admin_client, model, name):
    """An order awaiting shipment with no packages: an override to awaiting collection (or in
    transit) would leave 0 packages and nothing anyone could do next. It is refused, says
    why and what to do, and nothing changes."""
    order = order_to_ship(model=model)
    events = order.events.count()
    page = admin_client.post(f"/admin/orders/order/{order.pk}/override/{name}/").content.decode()
    assert "refused" in page and "has no packages yet" in page  # said before staff confirm
    response = override(admin_client, name, [order], reason="Seller asked on the phone")
    (text,) = [t for t in texts(response) if order.number in t]
    assert text.startswith("Refused, unchanged") and "has no packages yet" in text and "arranges shipment" in text
    order = refreshed(order)
    assert order.status == S.AWAITING_SHIPMENT and order.events.count() == events
    assert not Package.objects.filter(order=order).exists()


def test_order_override_delivered_without_packages_still_applies(admin_client):
    """An order already in transit without packages (the feed never knew it): staff may
    still record its delivery; there is no package to move instead."""
    from orders.tests.factories import advance, make_order

    order = advance(make_order(), S.IN_TRANSIT)
    response = override(admin_client, "mark_delivered", [order], reason="Signed delivery note")
    assert any("applied to 1 order(s)" in t for t in texts(response))
    assert refreshed(order).status == S.DELIVERED
