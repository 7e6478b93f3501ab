"""django-q2 entry points of shipping.

`simulate_carrier_tick` is the living demo's carrier: every tick it moves each package
that has waited long enough one realistic step further, by posting events through
tracking.receive, the same function the carriers' HTTP endpoint calls.
"""

import random
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from orders.models import Order

from . import carriers, tracking
from .models import Package
from .transitions import WITH_CARRIER

P = Package.Status
# What the demo carrier moves a step (next_event): ready for it, or with it short of an exception.
SIMULATED = (WITH_CARRIER | {P.READY}) - {P.EXCEPTION}
HUBS = ["Origin sort center", "Regional hub", "Destination depot"]


def simulator_enabled():
    return getattr(settings, "CARRIER_SIMULATOR", settings.DEBUG)


def next_event(pkg, now):
    """The carrier's next event for a package, or None when it is not the carrier's move."""
    rng = random.Random(f"{pkg.pk}-{pkg.status}-{pkg.failed_attempts}")
    name = carriers.CARRIERS[pkg.carrier].name if pkg.carrier in carriers.CARRIERS else "Carrier"
    if pkg.status == P.READY:
        if pkg.handover == Package.Handover.DROP_OFF:
            point = dict(carriers.DROPOFF_POINTS).get(pkg.dropoff_point, "drop-off point")
            step = ("InTransit", "InTransit_001", f"Dropped off at {point}; on its way", point)
        else:
            step = ("InTransit", "InTransit_002", f"Picked up by {name}", "Seller's address")
    elif pkg.status == P.COLLECTED:
        step = ("InTransit", "InTransit_003", "Arrived at the sorting center", HUBS[0])
    elif pkg.status == P.IN_TRANSIT:
        step = ("OutForDelivery", "OutForDelivery_001", "Out for delivery", HUBS[2])
    elif pkg.status == P.OUT_FOR_DELIVERY:
        if pkg.failed_attempts == 0 and rng.random() < 0.1:
            step = ("AttemptFail", "AttemptFail_001", "Recipient not available; a new attempt tomorrow", "Buyer's address")
        else:
            signed = pkg.carrier == carriers.PLATFORM_CARRIER
            step = ("Delivered", "Delivered_003" if signed else "Delivered_001",
                    "Delivered, signed by the recipient" if signed else "Delivered", "Buyer's address")
    elif pkg.status in (P.FAILED_ATTEMPT, P.AVAILABLE_FOR_PICKUP):
        step = ("OutForDelivery", "OutForDelivery_001", "Out for delivery (new attempt)", HUBS[2])
    else:
        return None
    tag, subtag, message, location = step
    return {
        # The same step of the same package always has the same id: a repeated tick is stored once.
        "event_id": f"sim-{pkg.pk}-{pkg.status}-{pkg.failed_attempts}-{int(pkg.status_at.timestamp())}",
        "carrier": pkg.carrier, "tracking_number": pkg.tracking_number, "tag": tag, "subtag": subtag,
        "occurred_at": max(now, pkg.status_at + timedelta(seconds=1)).isoformat(),
        "location": location, "message": message,
    }


def simulate_carrier_tick(*, now=None, min_age_minutes=2, limit=500, force=False):
    """Move the packages that have waited min_age_minutes one step; returns a summary line."""
    if not (force or simulator_enabled()):
        return "carrier simulator off (settings.CARRIER_SIMULATOR)"
    now = now or timezone.now()
    due = (
        Package.objects.filter(status__in=SIMULATED,
                               status_at__lte=now - timedelta(minutes=min_age_minutes))
        .exclude(tracking_number="")
        # A cancelled order's box stays with the seller; the demo carrier does not collect it.
        .exclude(order__status=Order.Status.CANCELLED)
        .order_by("status_at", "pk")[:limit]
    )
    events = [e for e in (next_event(p, now) for p in due) if e]
    if not events:
        return "0 carrier events"
    result = tracking.receive(events, now=now)
    return f"{result.stored} carrier events, {result.moved} package moves, {result.orders_moved} order moves"
