"""The order follows its packages: a pure decision, taken under the order's lock."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from orders.models import Order
from shipping import actions, tracking
from shipping.models import Package
from shops.tests.factories import SKUFactory

from .factories import ACTOR, arranged, event, feed, order_to_ship, refreshed

P = Package.Status
S = Order.Status
T = timezone.now()


@pytest.mark.parametrize(
    ("order_status", "packages", "expected"),
    [
        (S.AWAITING_COLLECTION, [(P.COLLECTED, T, None), (P.READY, None, None)], []),
        (S.AWAITING_COLLECTION, [(P.COLLECTED, T, None), (P.IN_TRANSIT, T + timedelta(hours=1), None)],
         ["mark_in_transit"]),
        (S.AWAITING_COLLECTION, [(P.DELIVERED, T, T + timedelta(days=1))], ["mark_in_transit", "mark_delivered"]),
        (S.IN_TRANSIT, [(P.DELIVERED, T, T), (P.IN_TRANSIT, T, None)], []),
        (S.IN_TRANSIT, [(P.DELIVERED, T, T), (P.DELIVERED, T, T)], ["mark_delivered"]),
        (S.AWAITING_SHIPMENT, [(P.READY, None, None), (P.READY, None, None)], ["arrange_shipment"]),
        (S.AWAITING_SHIPMENT, [(P.READY, None, None), (P.PACKING, None, None)], []),
        (S.CANCELLED, [(P.COLLECTED, T, None)], []),
        (S.AWAITING_COLLECTION, [], []),
    ],
)
def test_order_moves_follow_every_active_package(order_status, packages, expected):
    assert [action for action, _, _ in actions.order_moves(order_status, packages)] == expected


def test_order_moves_take_the_latest_package_time():
    later = T + timedelta(hours=3)
    ((_, note, when),) = actions.order_moves(S.AWAITING_COLLECTION, [(P.COLLECTED, T, None), (P.COLLECTED, later, None)])
    assert when == later and note == "Every package is with the carrier."


def test_order_moves_arrange_at_the_time_given():
    ((action, _, when),) = actions.order_moves(S.AWAITING_SHIPMENT, [(P.READY, None, None)], at=T)
    assert (action, when) == ("arrange_shipment", T)


@pytest.mark.django_db
def test_actions_at_a_given_time_write_history_at_that_time():
    """The demo (and back-fills) tell a story in the past: packing, the label, ready and
    the order's arrange_shipment row all carry the time given, not the time of the call."""
    from shipping.models import PackageEvent

    order = order_to_ship(placed_at=timezone.now() - timedelta(days=2))
    packed, ready = timezone.now() - timedelta(days=1, hours=20), timezone.now() - timedelta(days=1, hours=19)
    (pkg,) = actions.arrange_platform_shipment(order=order, actor=ACTOR, handover="DROP_OFF",
                                               dropoff_point="SCX-DP-001", at=packed)
    actions.mark_ready(package=pkg, actor=ACTOR, at=ready)
    order = refreshed(order)
    assert order.status == S.AWAITING_COLLECTION and order.status_changed_at == ready
    assert order.events.get(action="arrange_shipment").at == ready
    assert dict(PackageEvent.objects.filter(package=pkg).values_list("action", "at")) == {
        "create": packed, "arrange": packed, "mark_ready": ready}
    assert refreshed(pkg).collect_by == ready + timedelta(hours=48)


@pytest.mark.django_db(transaction=True)
def test_two_feed_requests_handing_over_both_packages_at_once_move_the_order(on_postgres, monkeypatch):
    order = order_to_ship(lines=[(SKUFactory(), 2)])
    line = order.lines.get()
    p1, p2 = actions.create_packages(order=order, allocations=[{line.pk: 1}, {line.pk: 1}], actor=ACTOR)
    arranged(order)
    for p in (p1, p2):
        actions.mark_ready(package=refreshed(p), actor=ACTOR)
    assert refreshed(order).status == S.AWAITING_COLLECTION

    # Each request has locked and moved its own package (uncommitted) before it asks the
    # order to follow: the moment the old code read the other package's committed status.
    barrier = threading.Barrier(2, timeout=10)
    real_sync = tracking.sync_order

    def sync_after_both_moved(*args, **kwargs):
        barrier.wait()
        return real_sync(*args, **kwargs)

    monkeypatch.setattr(tracking, "sync_order", sync_after_both_moved)
    errors = []

    def hand_over(pkg):
        try:
            feed(event(refreshed(pkg), "InTransit", subtag="InTransit_002"))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=hand_over, args=(p,)) for p in (p1, p2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert {refreshed(p1).status, refreshed(p2).status} == {P.COLLECTED}
    order = refreshed(order)
    assert order.status == S.IN_TRANSIT
    assert order.events.filter(action="mark_in_transit").count() == 1
