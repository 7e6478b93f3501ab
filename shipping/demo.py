"""Demo data: walk an order awaiting shipment forward through shipping, as a seller and a
carrier would (packages, labels, tracking events through tracking.receive)."""

from datetime import timedelta

from django.utils import timezone

from orders import actions as order_actions
from orders.actions import Actor
from orders.models import Order

from . import actions, tracking
from .models import Package

S = Order.Status
ORDER = [S.AWAITING_SHIPMENT, S.AWAITING_COLLECTION, S.IN_TRANSIT, S.DELIVERED, S.COMPLETED]


def _seller(order):
    member = order.shop.memberships.select_related("user").order_by("pk").first()
    return Actor.seller(member.user) if member else Actor.policy("demo")


def _demo_number(order, seq):
    return f"1Z{seq % 10}DM{order.pk % 10**13:013d}"


def _times(order, now, steps):
    """Event times after placement, spread like a real parcel's, never in the future."""
    start = order.placed_at + timedelta(hours=20)
    span = max(now - timedelta(minutes=5) - start, timedelta(minutes=steps))
    gaps = [0.25, 0.45, 0.75, 1.0][:steps]
    return [min(start + span * g, now - timedelta(minutes=steps - i)) for i, g in enumerate(gaps)]


def ship_demo_order(order, target_status):
    """Walk `order` (awaiting shipment) to target_status: AWAITING_COLLECTION, IN_TRANSIT,
    DELIVERED or COMPLETED. Returns the refreshed order."""
    order = Order.objects.select_related("shop").get(pk=order.pk)
    if order.status != S.AWAITING_SHIPMENT or target_status not in ORDER:
        return order
    want = ORDER.index(target_status)
    if want == 0:
        return order
    actor = _seller(order)
    now = timezone.now()
    lines = list(order.lines.values_list("pk", "quantity"))
    if len(lines) > 1 and order.pk % 4 == 0:
        # Some demo orders ship in two boxes.
        packages = actions.create_packages(order=order, allocations=[dict(lines[:1]), dict(lines[1:])], actor=actor)
    else:
        packages = actions.ensure_packages(order, actor)
    if order.shipping_model == Order.ShippingModel.PLATFORM:
        if order.pk % 2:
            actions.arrange_platform_shipment(order=order, actor=actor, handover=Package.Handover.DROP_OFF,
                                              dropoff_point="SCX-DP-001")
        else:
            slot = actions.pickup_slots(order.shop, now)[0][0]
            actions.arrange_platform_shipment(order=order, actor=actor, handover=Package.Handover.PICKUP, pickup_slot=slot)
    else:
        for pkg in packages:
            actions.set_tracking(package=pkg, carrier="ups", tracking_number=_demo_number(order, pkg.seq), actor=actor)
    for pkg in packages:
        actions.mark_ready(package=pkg, actor=actor)
    if want >= ORDER.index(S.IN_TRANSIT):
        steps = [("InTransit", "InTransit_002", "Picked up"), ("InTransit", "InTransit_003", "Arrived at the sorting center")]
        if want >= ORDER.index(S.DELIVERED):
            steps += [("OutForDelivery", "OutForDelivery_001", "Out for delivery"), ("Delivered", "Delivered_001", "Delivered")]
        events = []
        for pkg in Package.objects.active().filter(order=order):
            for (tag, subtag, message), at in zip(steps, _times(order, now, len(steps)), strict=True):
                events.append({"event_id": f"demo-{pkg.pk}-{subtag}", "carrier": pkg.carrier,
                               "tracking_number": pkg.tracking_number, "tag": tag, "subtag": subtag,
                               "occurred_at": at.isoformat(), "location": "Demo network", "message": message})
        tracking.receive(events, now=now)
    order.refresh_from_db()
    if want >= ORDER.index(S.COMPLETED) and order.status == S.DELIVERED:
        order = order_actions.complete_order(order=order, actor=Actor.policy("return window passed"))
    order.refresh_from_db()
    return order
