"""What the platform marks on packages (lost, delayed, late collection) and staff's moves
for what the carrier's feed missed; the P3 deadline following a changed window; the
orders admin's guard on shipment overrides."""

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core.locks import lock
from orders import transitions as order_transitions
from orders.actions import ActionRefused
from orders.models import Order

from .. import transitions
from ..models import Package, PackageEvent
from .ship import PROMISED_TRANSIT
from .sync import sync_order

P = Package.Status
S = Order.Status


@transaction.atomic
def mark_lost(*, package_ids, actor, at=None, note="", data=None):
    """Declare packages Lost (P6, P7, P8, or staff). Set-based; returns how many moved.
    The order's cancellation and refund (P10) is the policies' next step."""
    at = at or timezone.now()
    # A combined package is lost with its box (P7 reads each order's own placing time: the box goes at the first).
    rows = list(lock(Package.objects.filter(Q(pk__in=package_ids) | Q(parcel_id__in=package_ids),
                                            status__in=transitions.TRANSITIONS["mark_lost"][0]))
                .values_list("pk", "status"))
    if not rows:
        return 0
    Package.objects.filter(pk__in=[pk for pk, _ in rows]).update(status=P.LOST, status_at=at, lost_at=at, updated_at=at)
    PackageEvent.objects.bulk_create(
        PackageEvent(package_id=pk, at=at, actor_kind=actor.kind, actor=actor.user, actor_label=actor.label,
                     action="mark_lost", from_status=status, to_status=P.LOST, note=note,
                     data=(data or {}).get(pk) or {})
        for pk, status in rows
    )
    return len(rows)


@transaction.atomic
def mark_delayed(*, package_ids, actor, at=None, note="", data=None):
    """The Delayed marker (P9): past the promised delivery date, still with the carrier."""
    at = at or timezone.now()
    rows = list(lock(Package.objects.filter(pk__in=package_ids, is_delayed=False,
                                            status__in=transitions.TRANSITIONS["mark_delayed"][0]))
                .values_list("pk", "status"))
    if not rows:
        return 0
    Package.objects.filter(pk__in=[pk for pk, _ in rows]).update(is_delayed=True, delayed_at=at, updated_at=at)
    PackageEvent.objects.bulk_create(
        PackageEvent(package_id=pk, at=at, actor_kind=actor.kind, actor=actor.user, actor_label=actor.label,
                     action="mark_delayed", from_status=status, to_status=status, note=note,
                     data=(data or {}).get(pk) or {})
        for pk, status in rows
    )
    return len(rows)


@transaction.atomic
def flag_late_collection(*, package_ids, actor, at=None, note="", data=None):
    """P3: the carrier (pickup) or the seller (drop-off) missed the 48 h handover window."""
    at = at or timezone.now()
    rows = list(lock(Package.objects.filter(pk__in=package_ids, status=P.READY, late_collection_at__isnull=True))
                .values_list("pk", "status"))
    if not rows:
        return 0
    Package.objects.filter(pk__in=[pk for pk, _ in rows]).update(late_collection_at=at, updated_at=at)
    PackageEvent.objects.bulk_create(
        PackageEvent(package_id=pk, at=at, actor_kind=actor.kind, actor=actor.user, actor_label=actor.label,
                     action="late_collection", from_status=status, to_status=status, note=note,
                     data=(data or {}).get(pk) or {})
        for pk, status in rows
    )
    return len(rows)


@transaction.atomic
def staff_move_packages(*, package_ids, action, actor, note):
    """Platform staff record what the carrier's feed did not: the packages were collected
    (`staff_collected`) or delivered (`staff_delivered`). Each moved package gets a history
    row with the staff member's reason, and its order follows through sync_order, the same
    way a carrier event moves it. Returns (moved, order numbers that moved)."""
    if not (note or "").strip():
        raise ActionRefused(_("Say why staff step in; the reason is kept in each package's history."))
    sources, target = transitions.TRANSITIONS[action]
    at = timezone.now()
    # FOR UPDATE without OF on purpose: it locks the packages and, through the join, their
    # orders (package, then order, as lock_one(..., also_lock=("order",)) does elsewhere).
    # A combined package moves with its parcel: what staff record for the box is true of each order in it.
    rows = list(Package.objects.filter(Q(pk__in=package_ids) | Q(parcel_id__in=package_ids), status__in=sources)
                .exclude(order__status=S.CANCELLED)
                .select_for_update().order_by("pk").values_list("pk", "status", "order_id"))
    if not rows:
        return 0, []
    stamp = {"collected_at": at} if target == P.COLLECTED else {"delivered_at": at}
    if target == P.COLLECTED:
        stamp["promised_delivery_at"] = at + PROMISED_TRANSIT
    Package.objects.filter(pk__in=[pk for pk, _, _ in rows]).update(status=target, status_at=at, updated_at=at, **stamp)
    PackageEvent.objects.bulk_create(
        PackageEvent(package_id=pk, at=at, actor_kind=actor.kind, actor=actor.user, actor_label=actor.label,
                     action=action, from_status=status, to_status=target, note=note)
        for pk, status, _ in rows
    )
    moved = [sync_order(order_id, actor, at=at) for order_id in sorted({o for _, _, o in rows})]
    return len(rows), [order.number for order in moved if order is not None]


@transaction.atomic
def follow_window(*, before, after, actor, at=None):
    """Staff changed a rule's window: a ready package's collection deadline (P3) is its
    ready time plus the new window (one UPDATE); later runs of P3 read it. Returns how many moved."""
    if after.rule != "P3" or after.hours == before.hours:
        return 0
    return Package.objects.filter(status=P.READY, ready_at__isnull=False, late_collection_at__isnull=True).update(
        collect_by=F("ready_at") + after.delta, updated_at=at or timezone.now())


def order_override_refusal(order, name):
    """Staff overrides of an order's shipment moves (orders admin) would leave its packages
    behind: an order with packages moves with them (Packages admin), not on its own. An
    order without packages cannot be arranged or handed over by an override either: it
    would await a collection (or be in transit) with nothing to collect or track, and no
    next step for anyone; the seller packs and labels it, or staff cancel it."""
    if name not in ("arrange_shipment", "mark_in_transit", "mark_delivered") or not order_transitions.allowed(
            name, order.status):
        return None  # the status refuses it, in its own words
    if Package.objects.active().filter(order=order).exists():
        return (f"Order {order.number} ships in packages: move them in Shipping → Packages "
                "(mark ready, collected or delivered) and the order follows.")
    if name == "mark_delivered":
        return None
    what = "await collection with nothing to collect" if name == "arrange_shipment" else "be in transit with nothing to track"
    return (f"Order {order.number} has no packages yet; it would {what}. The seller arranges shipment on the order "
            "page (the platform label, or their carrier's tracking number) and the order follows; cancel it instead "
            "if it cannot ship.")
