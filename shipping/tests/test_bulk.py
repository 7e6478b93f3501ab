"""Bulk arrange and mark ready of ship-by-platform orders: set-based, per-order report."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orders.models import Order, OrderEvent, OrderStatusCount
from shipping import actions
from shipping.models import Package, PackageEvent
from shops import policy_windows
from shops.tests.factories import ShopFactory, SKUFactory

from .factories import ACTOR, arranged, order_to_ship, refreshed

pytestmark = pytest.mark.django_db
S = Order.Status
P = Package.Status


def _orders(shop, n, **kw):
    sku = SKUFactory(shop=shop, stock_on_hand=10_000)
    return [order_to_ship(shop, lines=[(sku, 2)], **kw) for _ in range(n)]


def _drop_off(shop, orders, **kw):
    return actions.arrange_orders(shop=shop, order_ids=[o.pk for o in orders], actor=ACTOR, handover="DROP_OFF",
                                  dropoff_point="SCX-DP-002", **kw)


def test_arrange_orders_gives_each_a_package_label_and_history(shop):
    orders = _orders(shop, 3)
    result = _drop_off(shop, orders)
    assert [o.number for o in result.done] == sorted(o.number for o in orders) and not result.refused
    packages = list(Package.objects.filter(order__in=orders))
    assert len(packages) == 3
    assert all(p.carrier == "scx" and p.tracking_number.startswith("SCX") for p in packages)
    assert all(p.handover == "DROP_OFF" and p.dropoff_point == "SCX-DP-002" and p.status == P.PACKING for p in packages)
    assert len({p.tracking_number for p in packages}) == 3
    assert all(p.items.get().quantity == 2 for p in packages)
    actions_written = sorted(PackageEvent.objects.filter(package__in=packages).values_list("action", flat=True))
    assert actions_written == ["arrange"] * 3 + ["create"] * 3
    # Arranged, not ready: the orders still await shipment.
    assert set(Order.objects.filter(pk__in=[o.pk for o in orders]).values_list("status", flat=True)) == {S.AWAITING_SHIPMENT}


def test_arrange_orders_pickup_books_the_slot(shop):
    orders = _orders(shop, 2)
    slot_start, slot_end = actions.pickup_slots(shop)[1]
    result = actions.arrange_orders(shop=shop, order_ids=[o.pk for o in orders], actor=ACTOR, handover="PICKUP",
                                    pickup_slot=slot_start)
    assert len(result.done) == 2
    assert set(Package.objects.filter(order__in=orders).values_list("pickup_slot_start", "pickup_slot_end")) == {
        (slot_start, slot_end)}


@pytest.mark.parametrize("kw,words", [
    ({"handover": "PICKUP", "pickup_slot": None}, "offered pickup time slots"),
    ({"handover": "DROP_OFF", "dropoff_point": "nowhere"}, "drop-off point"),
    ({"handover": "SHIP"}, "pickup or drop-off"),
])
def test_arrange_orders_refuses_a_bad_handover_before_anything(shop, kw, words):
    orders = _orders(shop, 2)
    with pytest.raises(actions.ActionRefused, match=words):
        actions.arrange_orders(shop=shop, order_ids=[o.pk for o in orders], actor=ACTOR, **kw)
    assert not Package.objects.exists()


def test_arrange_orders_reports_each_refused_order_and_applies_the_rest(shop):
    good = _orders(shop, 2)
    seller = order_to_ship(shop, model="SELLER")
    other_shop = order_to_ship(ShopFactory())
    shipped = _orders(shop, 1)[0]
    (pkg,) = arranged(shipped)
    actions.mark_ready(package=pkg, actor=ACTOR)  # now awaiting collection
    result = _drop_off(shop, [*good, seller, other_shop, shipped])
    assert {o.number for o in result.done} == {o.number for o in good}
    assert "ships by seller" in str(result.refused[seller.number])
    assert "awaiting collection" in str(result.refused[shipped.number])
    assert "1 order not found" in str(result.refused["(not found)"])
    assert other_shop.number not in result.summary("arranged")  # another shop's order is never named
    assert not Package.objects.filter(order__in=[seller, other_shop]).exists()


def test_arrange_orders_keeps_a_split_and_labels_every_package(shop):
    (order,) = _orders(shop, 1)
    line = order.lines.get()
    actions.create_packages(order=order, allocations=[{line.pk: 1}, {line.pk: 1}], actor=ACTOR)
    result = _drop_off(shop, [order])
    assert [o.pk for o in result.done] == [order.pk]
    packages = list(Package.objects.active().filter(order=order))
    assert len(packages) == 2 and all(p.tracking_number for p in packages)


def test_arrange_orders_takes_the_same_queries_for_3_or_30_orders(shop):
    few, many = _orders(shop, 3), _orders(shop, 25)  # SQLite splits an INSERT past 999 values
    counts = []
    for batch in (few, many):
        with CaptureQueriesContext(connection) as ctx:
            result = _drop_off(shop, batch)
        assert len(result.done) == len(batch)
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1] and counts[1] <= 15, counts


def test_mark_orders_ready_moves_packages_and_orders_and_takes_fixed_queries(shop):
    warm, few, many = _orders(shop, 1), _orders(shop, 3), _orders(shop, 25)  # SQLite splits an INSERT past 999 values
    _drop_off(shop, warm + few + many)
    # The first order a shop has awaiting collection creates its counter row (two statements, once).
    actions.mark_orders_ready(shop=shop, order_ids=[warm[0].pk], actor=ACTOR)
    counts = []
    for batch in (few, many):
        with CaptureQueriesContext(connection) as ctx:
            result = actions.mark_orders_ready(shop=shop, order_ids=[o.pk for o in batch], actor=ACTOR)
        assert len(result.done) == len(batch) and not result.refused
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1] and counts[1] <= 15, counts
    packages = Package.objects.filter(order__in=few + many)
    assert set(packages.values_list("status", flat=True)) == {P.READY}
    delta = policy_windows.window("P3").delta
    assert all(p.collect_by == p.ready_at + delta for p in packages)
    orders = Order.objects.filter(pk__in=[o.pk for o in few + many])
    assert set(orders.values_list("status", flat=True)) == {S.AWAITING_COLLECTION}
    assert OrderEvent.objects.filter(order__in=orders, action="arrange_shipment").count() == 28
    assert OrderStatusCount.objects.get(shop=shop, status=S.AWAITING_COLLECTION).count == 29
    assert OrderStatusCount.objects.get(shop=shop, status=S.AWAITING_SHIPMENT).count == 0


def test_mark_orders_ready_refuses_unlabelled_and_already_ready_orders(shop):
    labelled, unlabelled = _orders(shop, 2)
    _drop_off(shop, [labelled])
    actions.mark_orders_ready(shop=shop, order_ids=[labelled.pk], actor=ACTOR)
    result = actions.mark_orders_ready(shop=shop, order_ids=[labelled.pk, unlabelled.pk], actor=ACTOR)
    assert not result.done
    assert "awaiting collection" in str(result.refused[labelled.number])
    assert "no package waiting" in str(result.refused[unlabelled.number])
    (order,) = _orders(shop, 1)
    actions.ensure_packages(refreshed(order), ACTOR)  # packed, no label yet
    result = actions.mark_orders_ready(shop=shop, order_ids=[order.pk], actor=ACTOR)
    assert "no label yet" in str(result.refused[order.number])


def test_mark_orders_ready_of_a_partly_ready_split_order_waits_for_every_package(shop):
    (order,) = _orders(shop, 1)
    line = order.lines.get()
    actions.create_packages(order=order, allocations=[{line.pk: 1}, {line.pk: 1}], actor=ACTOR)
    _drop_off(shop, [order])
    first = Package.objects.active().filter(order=order).order_by("seq").first()
    actions.mark_ready(package=first, actor=ACTOR)
    result = actions.mark_orders_ready(shop=shop, order_ids=[order.pk], actor=ACTOR)
    assert len(result.done) == 1
    assert refreshed(order).status == S.AWAITING_COLLECTION
    assert set(Package.objects.active().filter(order=order).values_list("status", flat=True)) == {P.READY}
