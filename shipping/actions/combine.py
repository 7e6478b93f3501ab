"""Combine Package: orders of one shop going to the same buyer at the same address share one
box, one label and one tracking number, until they are handed over.

Each order keeps its own package (its items, its history, its status): the packages of the
other orders point to the one whose box they travel in (`Package.parcel`) and carry its
carrier, number and handover. Whatever moves the parcel moves them in the same step (arrange,
mark ready, the carrier's feed, staff moves), so every order's status, deadlines (P3 to P10)
and the buyer's page follow their box. Once the label is printed the box may already be
taped: combining or uncombining is refused until the label is voided (a new number).
"""

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core.locks import lock, lock_one
from orders.actions import ActionRefused
from orders.models import Order

from .. import carriers
from ..models import Package, PackageEvent
from ..transitions import AT_SELLER
from .events import _event
from .packages import _new_numbers, ensure_packages

P = Package.Status
S = Order.Status
MAX_COMBINED = 20
# What a combined package takes from its parcel.
SHARED = ("carrier", "tracking_number", "tracking_set_at", "handover", "pickup_slot_start", "pickup_slot_end",
          "dropoff_point", "label_generated_at")
_SAME_ADDRESS = ("buyer_name", "address_line1", "address_line2", "city", "region", "postal_code", "country")


def _same_buyer(order):
    """What must be equal for two orders to share a box: the buyer (email, else phone) and the address."""
    who = (order.buyer_email or "").strip().lower() or "".join(ch for ch in order.buyer_phone if ch.isdigit())
    return (who, *(" ".join(str(getattr(order, f)).split()).lower() for f in _SAME_ADDRESS))


def _printed(package):
    return package.label_printed_at is not None


def follow(parcel, members, fields=SHARED):
    """Copy the parcel's `fields` onto its members in memory (the caller writes them)."""
    for m in members:
        for name in fields:
            setattr(m, name, getattr(parcel, name))


@transaction.atomic
def combine_orders(*, shop, order_ids, actor, at=None):
    """Put the orders' items in one package: the first arranged one (else the oldest order's)
    is the parcel, the others travel in it. Refused whole, naming the order, when one is not
    awaiting shipment, ships by seller, is split, goes to another buyer or address, or has a
    printed label. Returns the parcel."""
    at = at or timezone.now()
    order_ids = list(dict.fromkeys(order_ids))
    if len(order_ids) < 2:
        raise ActionRefused(_("Choose at least two orders to combine."))
    if len(order_ids) > MAX_COMBINED:
        raise ActionRefused(_("At most %(max)d orders in one package.") % {"max": MAX_COMBINED})
    orders = list(lock(Order.objects.for_shop(shop).filter(pk__in=order_ids)))
    if len(orders) != len(order_ids):
        raise ActionRefused(_("Some of those orders are not orders of this shop."))
    orders.sort(key=lambda o: (o.placed_at, o.pk))
    for order in orders:
        if order.shipping_model != Order.ShippingModel.PLATFORM:
            raise ActionRefused(_("Order %(number)s ships by seller; only ship-by-platform orders are combined.")
                                % {"number": order.number})
        if order.status != S.AWAITING_SHIPMENT:
            raise ActionRefused(_("Order %(number)s is %(status)s; orders are combined while they await shipment.")
                                % {"number": order.number, "status": S(order.status).label.lower()})
    if len({_same_buyer(o) for o in orders}) > 1:
        raise ActionRefused(_("Only orders of the same buyer to the same address can share a package."))
    packages = {}
    for order in orders:
        active = ensure_packages(order, actor, at=at)
        if len(active) != 1:
            raise ActionRefused(_("Order %(number)s ships in %(count)d packages; combine orders that ship in one.")
                                % {"number": order.number, "count": len(active)})
        packages[order.pk] = active[0]
    ids = [p.pk for p in packages.values()]
    # The packages, and any already travelling in them, locked.
    locked = {p.pk: p for p in lock(Package.objects.filter(Q(pk__in=ids) | Q(parcel_id__in=ids)).exclude(status=P.VOID))}
    for order in orders:
        pkg = locked[packages[order.pk].pk]
        if pkg.status != P.PACKING:
            raise ActionRefused(_("Order %(number)s is already marked ready; combine orders before they are ready.")
                                % {"number": order.number})
        if _printed(pkg):
            raise ActionRefused(_("The label of order %(number)s is printed; void it first, then combine.")
                                % {"number": order.number})
        if pkg.parcel_id and pkg.parcel_id not in ids:
            raise ActionRefused(_("Order %(number)s already travels in another combined package; uncombine it first.")
                                % {"number": order.number})
    chosen = [locked[packages[o.pk].pk] for o in orders]
    parcel = next((p for p in chosen if p.parcel_id is None and p.combined.exists()), None) or \
        next((p for p in chosen if p.tracking_number), chosen[0])
    members = [p for p in locked.values() if p.pk != parcel.pk]
    dropped = {m.pk: m.tracking_number for m in members if m.tracking_number and m.tracking_number != parcel.tracking_number}
    for m in members:
        m.parcel = parcel
        m.updated_at = at
    follow(parcel, members)
    Package.objects.bulk_update(members, ["parcel", *SHARED, "updated_at"])
    numbers = [o.number for o in orders]
    PackageEvent.objects.bulk_create(
        [_event(parcel, "combine", actor, at=at, note=_("Carries orders %(numbers)s.") % {"numbers": ", ".join(numbers)},
                data={"orders": numbers})]
        + [_event(m, "combine", actor, at=at,
                  note=_("Travels in the package of order %(number)s.") % {"number": parcel.order.number}
                  + (" " + _("Its own tracking number %(old)s is no longer used.") % {"old": dropped[m.pk]}
                     if m.pk in dropped else ""),
                  data={"parcel": parcel.pk, "orders": numbers, **({"dropped": dropped[m.pk]} if m.pk in dropped else {})})
           for m in members])
    return parcel


@transaction.atomic
def uncombine(*, package, actor, at=None):
    """Take a package out of its combined package (a parcel: every package out of it). Each
    package that leaves gets a tracking number and label of its own when the shipment was
    arranged. Refused after the label is printed (void it first) and after handover."""
    at = at or timezone.now()
    package = lock_one(Package.objects, package.pk, also_lock=("order",))
    parcel = package if package.parcel_id is None else lock_one(Package.objects, package.parcel_id)
    leaving = [package] if package.parcel_id else list(lock(Package.objects.filter(parcel=parcel)))
    if not leaving:
        raise ActionRefused(_("Package %(seq)d of order %(number)s is not combined.")
                            % {"seq": package.seq, "number": package.order.number})
    if parcel.status not in AT_SELLER:
        raise ActionRefused(_("The combined package is already with the carrier."))
    if _printed(parcel) or any(_printed(p) for p in leaving):
        raise ActionRefused(_("The combined package's label is printed; void it first, then uncombine."))
    arranged = [p for p in leaving if p.tracking_number]
    for p, number in zip(arranged, _new_numbers(len(arranged)), strict=True):
        p.tracking_number, p.tracking_set_at, p.label_generated_at = number, at, at
    for p in leaving:
        p.parcel, p.updated_at = None, at
    Package.objects.bulk_update(leaving, ["parcel", "tracking_number", "tracking_set_at", "label_generated_at",
                                          "updated_at"])
    events = [_event(p, "uncombine", actor, at=at, data={"parcel": parcel.pk, "tracking_number": p.tracking_number},
                     note=_("Ships in its own package again.")) for p in leaving]
    if package.parcel_id is None or not parcel.combined.exclude(pk__in=[p.pk for p in leaving]).exists():
        events.append(_event(parcel, "uncombine", actor, at=at, data={"left": [p.pk for p in leaving]},
                             note=_("Carries only its own order again.")))
    PackageEvent.objects.bulk_create(events)
    return leaving


@transaction.atomic
def void_label(*, package, actor, at=None):
    """The printed label is thrown away: a platform package gets a new tracking number (the old
    one is cancelled with the carrier), so the label must be printed again; a combined package's
    members take the new number too. Before handover only."""
    at = at or timezone.now()
    package = lock_one(Package.objects, package.pk, also_lock=("order",))
    if package.parcel_id:
        package = lock_one(Package.objects, package.parcel_id, also_lock=("order",))
    if package.status not in AT_SELLER:
        raise ActionRefused(_("Package %(seq)d of order %(number)s is with the carrier; its label stays.")
                            % {"seq": package.seq, "number": package.order.number})
    if not _printed(package):
        raise ActionRefused(_("The label of package %(seq)d of order %(number)s is not printed.")
                            % {"seq": package.seq, "number": package.order.number})
    members = list(lock(Package.objects.filter(parcel=package)))
    old = package.tracking_number
    if package.carrier == carriers.PLATFORM_CARRIER and old:
        (package.tracking_number,) = _new_numbers(1)
        package.tracking_set_at = package.label_generated_at = at
    package.label_printed_at, package.updated_at = None, at
    follow(package, members)
    for m in members:
        m.label_printed_at, m.updated_at = None, at
    Package.objects.bulk_update([package, *members], ["label_printed_at", *SHARED, "updated_at"])
    PackageEvent.objects.bulk_create(
        _event(p, "void_label", actor, at=at, data={"from": old, "to": p.tracking_number},
               note=_("Label voided; print the new one.")) for p in [package, *members])
    return package
