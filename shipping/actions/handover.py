"""Handing packages to the carrier: ship by platform (a pickup slot or a drop-off point),
ready for handover (the P3 window starts)."""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.locks import lock, lock_one
from orders.actions import ActionRefused
from orders.models import Order
from shops import policy_windows

from .. import carriers, transitions
from ..models import Package, PackageEvent
from .events import _event
from .packages import _arrange, _open_for_packing, _order_still_shipping, ensure_packages
from .sync import sync_order

P = Package.Status
PICKUP_SLOT_HOURS = ((9, 12), (13, 17))


def pickup_slots(shop, now=None, days=3):
    """The carrier's next pickup slots, in the shop's time zone (start, end)."""
    now = now or timezone.now()
    tz = shop.tzinfo
    local = now.astimezone(tz)
    slots = []
    for d in range(days + 1):
        day = (local + timedelta(days=d)).date()
        for start_h, end_h in PICKUP_SLOT_HOURS:
            start = datetime(day.year, day.month, day.day, start_h, tzinfo=tz)
            if start > now + timedelta(hours=1):
                slots.append((start, datetime(day.year, day.month, day.day, end_h, tzinfo=tz)))
    return slots[: days * len(PICKUP_SLOT_HOURS)]


@transaction.atomic
def arrange_platform_shipment(*, order, actor, handover, pickup_slot=None, dropoff_point="", at=None):
    """Ship by platform: choose pickup (a slot) or drop-off (a point); each package gets the
    platform carrier's tracking number and label. `at`: when (default now); the slots
    offered are those of that time."""
    at = at or timezone.now()
    order = lock_one(Order.objects, order.pk, read=("shop",))
    if order.shipping_model != Order.ShippingModel.PLATFORM:
        raise ActionRefused(_("Order %(number)s ships by seller; enter your carrier's tracking number instead.") % {"number": order.number})
    _open_for_packing(order)
    slot_start = slot_end = None
    if handover == Package.Handover.PICKUP:
        slots = dict(pickup_slots(order.shop, at))
        if pickup_slot not in slots:
            raise ActionRefused(_("Choose one of the offered pickup time slots."))
        slot_start, slot_end, dropoff_point = pickup_slot, slots[pickup_slot], ""
    elif handover == Package.Handover.DROP_OFF:
        if dropoff_point not in dict(carriers.DROPOFF_POINTS):
            raise ActionRefused(_("Choose a drop-off point from the list."))
    else:
        raise ActionRefused(_("Choose pickup or drop-off."))
    packages = ensure_packages(order, actor, at=at)
    inside = next((p for p in packages if p.parcel_id), None)
    if inside is not None:
        raise ActionRefused(_("Order %(number)s travels in a combined package; arrange the order whose package "
                              "carries it.") % {"number": order.number})
    movable = [p for p in packages if p.can("set_tracking")]
    if not movable:
        raise ActionRefused(_("Every package is already with the carrier."))
    _arrange(movable, actor, at, handover, slot_start, slot_end, dropoff_point)
    _follow_arrange(movable, actor, at)
    return movable


def _follow_arrange(parcels, actor, at):
    """The packages combined into `parcels` take their number and handover, with a history row each."""
    from .combine import SHARED, follow

    by_parcel = {p.pk: p for p in parcels}
    members = list(lock(Package.objects.filter(parcel_id__in=list(by_parcel))))
    if not members:
        return
    for m in members:
        follow(by_parcel[m.parcel_id], [m])
        m.updated_at = at
    Package.objects.bulk_update(members, [*SHARED, "updated_at"])
    PackageEvent.objects.bulk_create(
        _event(m, "arrange", actor, at=at, data={"handover": m.handover, "carrier": m.carrier,
                                                 "tracking_number": m.tracking_number, "parcel": m.parcel_id})
        for m in members)


@transaction.atomic
def mark_ready(*, package, actor, at=None):
    """Packed and labelled: the 48 h collection / drop-off window (P3) starts now (or `at`)."""
    package = lock_one(Package.objects, package.pk, also_lock=("order",))
    to_status = transitions.check("mark_ready", package)
    _order_still_shipping(package)
    if package.parcel_id:
        raise ActionRefused(_("Package %(seq)d of order %(number)s travels in a combined package; it is ready when "
                              "that package is.") % {"seq": package.seq, "number": package.order.number})
    if not package.tracking_number:
        raise ActionRefused(_("Package %(seq)s has no label yet: arrange shipment or enter a tracking number first.") % {"seq": package.seq})
    now = at or timezone.now()
    window = policy_windows.window("P3")
    from_status = package.status
    package.status, package.status_at, package.ready_at = to_status, now, now
    package.collect_by = now + window.delta
    package.save(update_fields=["status", "status_at", "ready_at", "collect_by", "updated_at"])
    data = {"collect_by": package.collect_by.isoformat(), **window.explain()}
    _event(package, "mark_ready", actor, at=now, from_status=from_status, data=data).save()
    members = list(lock(Package.objects.filter(parcel=package, status=from_status)))
    if members:
        Package.objects.filter(pk__in=[m.pk for m in members]).update(
            status=to_status, status_at=now, ready_at=now, collect_by=package.collect_by, updated_at=now)
        PackageEvent.objects.bulk_create(
            _event(m, "mark_ready", actor, at=now, from_status=from_status, to_status=to_status,
                   data={**data, "parcel": package.pk}) for m in members)
    for order_id in sorted({package.order_id, *(m.order_id for m in members)}):
        sync_order(order_id, actor, at=now)
    return package


def mark_all_ready(*, order, actor, at=None):
    done = []
    for pkg in Package.objects.active().filter(order=order, status=P.PACKING, parcel=None).order_by("seq"):
        done.append(mark_ready(package=pkg, actor=actor, at=at))
    if not done:
        raise ActionRefused(_("No package is waiting to be marked ready."))
    return done
