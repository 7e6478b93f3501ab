from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from orders.models import Order
from shipping import actions, tasks
from shipping.demo import ship_demo_order
from shipping.models import Package, TrackingEvent
from shops.tests.factories import ShopFactory, SKUFactory

from .factories import ACTOR, arranged, order_to_ship, refreshed

pytestmark = pytest.mark.django_db
S = Order.Status
P = Package.Status


def test_simulator_walks_a_ready_package_to_delivered_through_the_feed():
    order = order_to_ship()
    (pkg,) = arranged(order)
    actions.mark_ready(package=pkg, actor=ACTOR)
    now = timezone.now()
    seen = []
    for i in range(1, 12):
        tasks.simulate_carrier_tick(now=now + timedelta(minutes=5 * i), force=True)
        seen.append(refreshed(pkg).status)
        if seen[-1] == P.DELIVERED:
            break
    assert seen[0] == P.IN_TRANSIT  # drop-off: the carrier's first scan is in transit
    assert seen[-1] == P.DELIVERED
    assert refreshed(order).status == S.DELIVERED
    assert TrackingEvent.objects.filter(package=pkg).count() == len(seen)
    assert set(order.events.filter(actor_kind="carrier").values_list("action", flat=True)) == {
        "mark_in_transit", "mark_delivered"}


def test_simulator_waits_for_min_age_and_is_off_without_the_setting(settings):
    settings.CARRIER_SIMULATOR = False
    order = order_to_ship()
    (pkg,) = arranged(order)
    actions.mark_ready(package=pkg, actor=ACTOR)
    assert "off" in tasks.simulate_carrier_tick()
    assert tasks.simulate_carrier_tick(force=True, min_age_minutes=10) == "0 carrier events"
    assert refreshed(pkg).status == P.READY


def test_same_step_has_the_same_event_id_so_a_repeat_is_stored_once():
    order = order_to_ship()
    (pkg,) = arranged(order, handover="PICKUP")
    actions.mark_ready(package=pkg, actor=ACTOR)
    pkg = refreshed(pkg)
    now = timezone.now() + timedelta(minutes=5)
    assert tasks.next_event(pkg, now)["event_id"] == tasks.next_event(pkg, now)["event_id"]
    from shipping import tracking

    result = tracking.receive([tasks.next_event(pkg, now), tasks.next_event(pkg, now)])
    assert (result.stored, result.duplicates) == (1, 1)
    assert refreshed(pkg).status == P.COLLECTED


def test_simulate_carriers_command(capsys):
    call_command("simulate_carriers", "--force", "--min-age", "0")
    assert "carrier events" in capsys.readouterr().out


@pytest.mark.parametrize("model", ["PLATFORM", "SELLER"])
@pytest.mark.parametrize("target", [S.AWAITING_COLLECTION, S.IN_TRANSIT, S.DELIVERED, S.COMPLETED])
def test_ship_demo_order_reaches_the_target_through_shipping(model, target):
    shop = ShopFactory()
    order = order_to_ship(shop, model=model, lines=[(SKUFactory(shop=shop), 1), (SKUFactory(shop=shop), 2)],
                          placed_at=timezone.now() - timedelta(days=6))
    order = ship_demo_order(order, target)
    assert order.status == target
    packages = Package.objects.active().filter(order=order)
    assert packages.exists() and all(p.tracking_number for p in packages)
    if target in (S.DELIVERED, S.COMPLETED):
        assert all(p.status == P.DELIVERED for p in packages)
        assert order.shipped_at <= order.delivered_at <= timezone.now()
