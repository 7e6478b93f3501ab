"""Splitting an order into packages, the one package of an unsplit order, and the platform
carrier's numbers and handover details a package gets when shipment is arranged."""

from collections import Counter

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.locks import lock, lock_one
from orders import transitions as order_transitions
from orders.actions import ActionRefused
from orders.models import Order, OrderLine

from .. import carriers
from ..models import Package, PackageEvent, PackageItem
from .events import _event

P = Package.Status
S = Order.Status
MAX_PACKAGES = 20


def _order_still_shipping(package):
    order = package.order
    if order.status not in order_transitions.TO_SHIP:
        raise ActionRefused(_("Order %(number)s is %(status)s; its packages no longer ship.") % {"number": order.number, "status": S(order.status).label.lower()})


def _open_for_packing(order):
    if order.status != S.AWAITING_SHIPMENT:
        label = S(order.status).label.lower()
        raise ActionRefused(_("Order %(number)s is %(label)s; packages are made while it awaits shipment.") % {"number": order.number, "label": label})


@transaction.atomic
def create_packages(*, order, allocations, actor, at=None):
    """Split an order into packages. `allocations` is a list (one per package) of
    {line_id: quantity}; together they hold every unit of every line exactly once.
    Packages still being packed are replaced (voided, kept for the record). `at`: when
    (default now)."""
    order = lock_one(Order.objects, order.pk, read=("shop",))
    _open_for_packing(order)
    lines = {line.pk: line for line in OrderLine.objects.filter(order=order)}
    allocations = [{int(k): int(v) for k, v in a.items() if int(v)} for a in allocations]
    allocations = [a for a in allocations if a]
    if not allocations:
        raise ActionRefused(_("Put at least one item in a package."))
    if len(allocations) > MAX_PACKAGES:
        raise ActionRefused(_("At most %(max_packages)s packages per order.") % {"max_packages": MAX_PACKAGES})
    packed = Counter()
    for alloc in allocations:
        for line_id, qty in alloc.items():
            if line_id not in lines:
                raise ActionRefused(_("That item is not on this order."))
            if qty < 0:
                raise ActionRefused(_("Quantities cannot be negative."))
            packed[line_id] += qty
    for line_id, line in lines.items():
        if packed[line_id] != line.quantity:
            raise ActionRefused(
                _("%(sku_code)s: %(packed)s of %(quantity)s packed; every unit goes in exactly one package.") % {"sku_code": line.sku_code, "packed": packed[line_id], "quantity": line.quantity}
            )
    existing = sorted(lock(Package.objects.active().filter(order=order)), key=lambda p: p.seq)
    if any(p.parcel_id for p in existing) or Package.objects.active().filter(parcel__in=existing).exists():
        raise ActionRefused(f"Order {order.number} shares a combined package; uncombine it before splitting.")
    blocked = [p for p in existing if not p.can("void")]
    if blocked:
        raise ActionRefused(
            _("Package %(seq)s is already %(status)s; the packages can no longer be re-split.") % {"seq": blocked[0].seq, "status": P(blocked[0].status).label.lower()}
        )
    now = at or timezone.now()
    if existing:
        Package.objects.filter(pk__in=[p.pk for p in existing]).update(status=P.VOID, status_at=now, updated_at=now)
        PackageEvent.objects.bulk_create(
            _event(p, "void", actor, at=now, to_status=P.VOID, note="Replaced by a new split.") for p in existing
        )
    template = existing[0] if existing else None
    start = (Package.objects.filter(order=order).order_by("-seq").values_list("seq", flat=True).first() or 0) + 1
    packages = [
        Package(
            order=order, shop_id=order.shop_id, seq=start + i, status=P.PACKING, status_at=now,
            handover=Package.Handover.SELLER if order.shipping_model == Order.ShippingModel.SELLER else "",
        )
        for i in range(len(allocations))
    ]
    Package.objects.bulk_create(packages)  # sets pks (RETURNING on PostgreSQL and SQLite)
    PackageItem.objects.bulk_create(
        PackageItem(package=pkg, line_id=line_id, quantity=qty)
        for pkg, alloc in zip(packages, allocations, strict=True)
        for line_id, qty in alloc.items()
    )
    PackageEvent.objects.bulk_create(
        _event(pkg, "create", actor, at=now, from_status="", to_status=P.PACKING,
               data={"items": {lines[k].sku_code: v for k, v in alloc.items()}})
        for pkg, alloc in zip(packages, allocations, strict=True)
    )
    if template is not None and template.handover in (Package.Handover.PICKUP, Package.Handover.DROP_OFF):
        # The order was already arranged with the platform: the new boxes get labels too.
        _arrange(packages, actor, now, template.handover, template.pickup_slot_start, template.pickup_slot_end,
                 template.dropoff_point)
    return packages


def ensure_packages(order, actor, *, at=None):
    """The order's active packages; one package with everything when there are none."""
    packages = list(Package.objects.active().filter(order=order).order_by("seq"))
    if packages:
        return packages
    lines = OrderLine.objects.filter(order=order).values_list("pk", "quantity")
    return create_packages(order=order, allocations=[dict(lines)], actor=actor, at=at)


def _new_numbers(n):
    """n platform tracking numbers not used yet (one query to check)."""
    for _attempt in range(5):
        numbers = {carriers.new_platform_number() for _ in range(n)}
        taken = set(Package.objects.filter(carrier=carriers.PLATFORM_CARRIER, tracking_number__in=numbers)
                    .values_list("tracking_number", flat=True))
        numbers -= taken
        if len(numbers) == n:
            return list(numbers)
    raise RuntimeError("could not draw unused tracking numbers")


def _arrange(packages, actor, now, handover, slot_start, slot_end, point):
    todo = [p for p in packages if not p.tracking_number]
    for pkg, number in zip(todo, _new_numbers(len(todo)), strict=True):
        pkg.carrier, pkg.tracking_number, pkg.tracking_set_at = carriers.PLATFORM_CARRIER, number, now
    for pkg in packages:
        pkg.handover, pkg.pickup_slot_start, pkg.pickup_slot_end, pkg.dropoff_point = handover, slot_start, slot_end, point
        pkg.label_generated_at = pkg.label_generated_at or now
        pkg.updated_at = now
    Package.objects.bulk_update(
        packages, ["carrier", "tracking_number", "tracking_set_at", "handover", "pickup_slot_start", "pickup_slot_end",
                   "dropoff_point", "label_generated_at", "updated_at"]
    )
    detail = {"handover": handover}
    if slot_start:
        detail["pickup_slot"] = [slot_start.isoformat(), slot_end.isoformat()]
    if point:
        detail["dropoff_point"] = point
    PackageEvent.objects.bulk_create(
        _event(p, "arrange", actor, at=now, data={**detail, "carrier": p.carrier, "tracking_number": p.tracking_number})
        for p in packages
    )
