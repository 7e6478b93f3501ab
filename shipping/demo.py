"""Demo data: walk an order awaiting shipment forward through shipping, as a seller and a
carrier would (packages, labels, tracking events through tracking.receive)."""

from datetime import timedelta

from django.utils import timezone

from core.actor import Actor
from orders import actions as order_actions
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


def _demo_carrier(order, seq):
    """The carrier a seller ships a demo parcel with, and its number: a Vietnamese address goes
    by GHN (a code like G00012341), anything else by UPS."""
    if order.country == "VN":
        return "ghn", f"G{order.pk % 10**7:07d}{seq % 10}"
    return "ups", _demo_number(order, seq)


# Hours after the package is ready at which a real parcel's feed says: picked up, at the
# sorting center, out for delivery, delivered.
CARRIER_HOURS = [14, 30, 58, 62]
# How long after delivery the return window closes and the order completes.
RETURN_WINDOW = timedelta(days=7)


def later(start, now, most):
    """A moment after `start` by `most`, or by a quarter of what is left before `now` if
    that is shorter: a story step that never reaches the present."""
    return start + min(most, max(now - start, timedelta(0)) / 4)


def _times(start, now, steps):
    """The carrier's event times after `start` (the package is ready), spread like a real
    parcel's, squeezed in before `now` when the order is younger than the journey."""
    hours = [timedelta(hours=h) for h in CARRIER_HOURS[:steps]]
    room = max(now - start, timedelta(0)) * 0.9
    scale = min(1.0, room / hours[-1])
    return [start + h * scale + timedelta(microseconds=i + 1) for i, h in enumerate(hours)]


def ship_demo_order(order, target_status, *, now=None):
    """Walk `order` (awaiting shipment) to target_status: AWAITING_COLLECTION, IN_TRANSIT,
    DELIVERED or COMPLETED. Every step happens at the time the story says, after the order
    was confirmed and before `now`, so its history reads in order. Returns the refreshed order."""
    order = Order.objects.select_related("shop").get(pk=order.pk)
    if order.status != S.AWAITING_SHIPMENT or target_status not in ORDER:
        return order
    want = ORDER.index(target_status)
    if want == 0:
        return order
    actor = _seller(order)
    now = now or timezone.now()
    packed = later(order.confirmed_at or order.placed_at, now, timedelta(hours=2))
    ready = later(packed, now, timedelta(hours=1))
    lines = list(order.lines.values_list("pk", "quantity"))
    if len(lines) > 1 and order.pk % 4 == 0:
        # Some demo orders ship in two boxes.
        packages = actions.create_packages(order=order, allocations=[dict(lines[:1]), dict(lines[1:])], actor=actor,
                                           at=packed)
    else:
        packages = actions.ensure_packages(order, actor, at=packed)
    if order.shipping_model == Order.ShippingModel.PLATFORM:
        if order.pk % 2:
            actions.arrange_platform_shipment(order=order, actor=actor, handover=Package.Handover.DROP_OFF,
                                              dropoff_point="SCX-DP-001", at=packed)
        else:
            slot = actions.pickup_slots(order.shop, packed)[0][0]
            actions.arrange_platform_shipment(order=order, actor=actor, handover=Package.Handover.PICKUP, pickup_slot=slot,
                                              at=packed)
    else:
        for pkg in packages:
            carrier, number = _demo_carrier(order, pkg.seq)
            actions.set_tracking(package=pkg, carrier=carrier, tracking_number=number, actor=actor, at=packed)
    for pkg in packages:
        actions.mark_ready(package=pkg, actor=actor, at=ready)
    if want >= ORDER.index(S.IN_TRANSIT):
        steps = [("InTransit", "InTransit_002", "Picked up"), ("InTransit", "InTransit_003", "Arrived at the sorting center")]
        if want >= ORDER.index(S.DELIVERED):
            steps += [("OutForDelivery", "OutForDelivery_001", "Out for delivery"), ("Delivered", "Delivered_001", "Delivered")]
        events = []
        for pkg in Package.objects.active().filter(order=order):
            for (tag, subtag, message), at in zip(steps, _times(ready, now, len(steps)), strict=True):
                events.append({"event_id": f"demo-{pkg.pk}-{subtag}", "carrier": pkg.carrier,
                               "tracking_number": pkg.tracking_number, "tag": tag, "subtag": subtag,
                               "occurred_at": at.isoformat(), "location": "Demo network", "message": message})
        tracking.receive(events, now=now)
    order.refresh_from_db()
    if want >= ORDER.index(S.COMPLETED) and order.status == S.DELIVERED:
        order = order_actions.complete_order(order=order, actor=Actor.policy("return window passed"),
                                             at=min(order.delivered_at + RETURN_WINDOW, now - timedelta(minutes=1)))
    order.refresh_from_db()
    return order
