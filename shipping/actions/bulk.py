"""Ship by platform at volume: arrange many orders' shipment (pickup with a slot, or drop-off
at a point) and mark them ready, set-based: the same statements for 5 orders or 500, each
order applied whole or refused with its reason (orders.actions.BulkResult, as bulk confirm).

The one-order actions (handover.arrange_platform_shipment, handover.mark_ready) stay the
page's per-order path; these do the same moves and write the same history rows.
"""

from collections import defaultdict

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core.locks import lock
from orders import actions as order_actions
from orders.actions import ActionRefused, BulkResult
from orders.actions.results import _refuse_missing
from orders.models import Order, OrderLine
from shops import policy_windows

from .. import carriers
from ..models import Package, PackageEvent, PackageItem
from ..transitions import AT_SELLER, READY_OR_LATER
from .events import _event
from .handover import pickup_slots
from .packages import _new_numbers

P = Package.Status
S = Order.Status
MAX_BULK = 1000  # orders in one bulk action, as Manage Orders' bulk bar


def handover_choice(shop, handover, pickup_slot, dropoff_point, at):
    """(slot start, slot end, point) of a valid choice, or ActionRefused naming what is wrong."""
    if handover == Package.Handover.PICKUP:
        slots = dict(pickup_slots(shop, at))
        if pickup_slot not in slots:
            raise ActionRefused("Choose one of the offered pickup time slots.")
        return pickup_slot, slots[pickup_slot], ""
    if handover == Package.Handover.DROP_OFF:
        if dropoff_point not in dict(carriers.DROPOFF_POINTS):
            raise ActionRefused("Choose a drop-off point from the list.")
        return None, None, dropoff_point
    raise ActionRefused("Choose pickup or drop-off.")


def _locked_orders(shop, order_ids, result):
    """The selected orders and the orders whose packages travel in theirs (combined: they move
    together), locked in one statement."""
    order_ids = list(dict.fromkeys(order_ids))
    if len(order_ids) > MAX_BULK:
        raise ActionRefused(_("At most %(max)d orders at once; narrow the selection.") % {"max": MAX_BULK})
    riders = Package.objects.active().filter(parcel__order_id__in=order_ids).values("order_id")
    orders = list(lock(Order.objects.for_shop(shop).filter(Q(pk__in=order_ids) | Q(pk__in=riders))))
    _refuse_missing(result, order_ids, [o for o in orders if o.pk in set(order_ids)])
    return orders


def _rides_refusal(order, parcel_order_number):
    return ActionRefused(_("Order %(number)s travels in the combined package of order %(parcel)s; select that order.")
                         % {"number": order.number, "parcel": parcel_order_number})


def _awaiting_platform_shipment(orders, result):
    eligible = []
    for order in orders:
        if order.shipping_model != Order.ShippingModel.PLATFORM:
            result.refused[order.number] = ActionRefused(
                f"Order {order.number} ships by seller; enter your carrier's tracking number instead.")
        elif order.status != S.AWAITING_SHIPMENT:
            result.refused[order.number] = ActionRefused(
                f"Order {order.number} is {S(order.status).label.lower()}; packages are made while it awaits shipment.")
        else:
            eligible.append(order)
    return eligible


def _parcel_number(follower, numbers_of):
    """The order number of the package `follower` travels in (read only when not among the orders)."""
    number = numbers_of.get(getattr(follower, "parcel_order_id", None))
    return number or Package.objects.filter(pk=follower.parcel_id).values_list("order__number", flat=True).first()


def _packages_of(orders):
    """The orders' packages (void ones too, for the next seq), and the packages combined into
    theirs (which follow their parcel), locked, in one statement."""
    ids = [o.pk for o in orders]
    return list(lock(Package.objects.filter(Q(order_id__in=ids) | Q(parcel__order_id__in=ids, parcel__status__in=AT_SELLER))))


@transaction.atomic
def arrange_orders(*, shop, order_ids, actor, handover, pickup_slot=None, dropoff_point="", at=None):
    """Arrange the platform's shipment of many orders: each unpacked order gets one package
    with everything, each package still with the seller the platform carrier's number and
    label, the handover chosen. A package combined into another takes its parcel's number.
    Returns a BulkResult (done: the orders arranged)."""
    at = at or timezone.now()
    slot_start, slot_end, point = handover_choice(shop, handover, pickup_slot, dropoff_point, at)
    result = BulkResult()
    orders = _locked_orders(shop, order_ids, result)
    eligible = _awaiting_platform_shipment(orders, result)
    if not eligible:
        return result
    by_order, followers, last_seq = defaultdict(list), [], defaultdict(int)
    for p in _packages_of(eligible):
        last_seq[p.order_id] = max(last_seq[p.order_id], p.seq)
        if p.status == P.VOID:
            continue
        if p.parcel_id:
            followers.append(p)  # moves with its parcel, below
        else:
            by_order[p.order_id].append(p)
    riding = {f.order_id: f for f in followers}
    unpacked = [o for o in eligible if o.pk not in by_order and o.pk not in riding]
    moving = []
    for order in eligible:
        if order.pk in by_order:
            movable = [p for p in by_order[order.pk] if p.status in AT_SELLER]
            if not movable:
                result.refused[order.number] = ActionRefused("Every package is already with the carrier.")
                continue
            moving += movable
        if order.pk in by_order or order in unpacked:
            result.done.append(order)
    parcel_ids = {p.pk for p in moving}
    numbers_of = {o.pk: o.number for o in orders}
    for order in eligible:
        f = riding.get(order.pk)
        if f is not None and order.pk not in by_order:
            if f.parcel_id in parcel_ids:
                result.done.append(order)
            else:
                result.refused[order.number] = _rides_refusal(order, _parcel_number(f, numbers_of))
    lines = defaultdict(list)
    for order_id, line_id, code, quantity in (OrderLine.objects.filter(order__in=unpacked)
                                              .values_list("order_id", "pk", "sku_code", "quantity")):
        lines[order_id].append((line_id, code, quantity))
    todo = [p for p in moving if not p.tracking_number]
    numbers = iter(_new_numbers(len(todo) + len(unpacked)))
    for pkg in todo:
        pkg.carrier, pkg.tracking_number, pkg.tracking_set_at = carriers.PLATFORM_CARRIER, next(numbers), at
    fields = dict(handover=handover, pickup_slot_start=slot_start, pickup_slot_end=slot_end, dropoff_point=point,
                  updated_at=at)
    new = [Package(order=o, shop_id=o.shop_id, seq=last_seq[o.pk] + 1, status=P.PACKING, status_at=at,
                   carrier=carriers.PLATFORM_CARRIER, tracking_number=next(numbers), tracking_set_at=at,
                   label_generated_at=at, **fields) for o in unpacked]
    Package.objects.bulk_create(new)
    PackageItem.objects.bulk_create(PackageItem(package=p, line_id=line_id, quantity=q)
                                    for p in new for line_id, _code, q in lines[p.order_id])
    parcels = {p.pk: p for p in moving}
    followers = [f for f in followers if f.parcel_id in parcels and f.status in AT_SELLER]
    for pkg in moving:
        pkg.label_generated_at = pkg.label_generated_at or at
        for name, value in fields.items():
            setattr(pkg, name, value)
    for f in followers:
        parcel = parcels[f.parcel_id]
        f.carrier, f.tracking_number, f.tracking_set_at = parcel.carrier, parcel.tracking_number, at
        f.label_generated_at = f.label_generated_at or at
        for name, value in fields.items():
            setattr(f, name, value)
    Package.objects.bulk_update(
        [*moving, *followers], ["carrier", "tracking_number", "tracking_set_at", "label_generated_at", *fields])
    detail = {"handover": handover}
    if slot_start:
        detail["pickup_slot"] = [slot_start.isoformat(), slot_end.isoformat()]
    if point:
        detail["dropoff_point"] = point
    events = [_event(p, "create", actor, at=at, from_status="", to_status=P.PACKING,
                     data={"items": {code: q for _id, code, q in lines[p.order_id]}}) for p in new]
    events += [_event(p, "arrange", actor, at=at,
                      data={**detail, "carrier": p.carrier, "tracking_number": p.tracking_number})
               for p in [*new, *moving, *followers]]
    PackageEvent.objects.bulk_create(events)
    return result


@transaction.atomic
def mark_orders_ready(*, shop, order_ids, actor, at=None):
    """Mark every package still being packed of many orders ready for handover (the P3 window
    starts); an order whose packages are then all ready is arranged (awaiting collection).
    An order with a package that has no label yet is refused whole. Returns a BulkResult."""
    at = at or timezone.now()
    result = BulkResult()
    orders = _locked_orders(shop, order_ids, result)
    selected = set(order_ids)
    eligible = []
    for order in orders:
        if order.status != S.AWAITING_SHIPMENT:
            if order.pk not in selected:
                continue
            result.refused[order.number] = ActionRefused(
                f"Order {order.number} is {S(order.status).label.lower()}; only orders awaiting shipment are marked ready.")
        else:
            eligible.append(order)
    if not eligible:
        return result
    by_order, followers = defaultdict(list), []
    for p in _packages_of(eligible):
        if p.status == P.VOID:
            continue
        (followers if p.parcel_id else by_order[p.order_id]).append(p)
    ready = []
    riding = {f.order_id: f for f in followers}
    for order in eligible:
        packages = by_order.get(order.pk, [])
        packing = [p for p in packages if p.status == P.PACKING]
        unlabelled = [p for p in packing if not p.tracking_number]
        if order.pk in riding and not packages:
            continue  # follows its parcel, below
        if unlabelled:
            result.refused[order.number] = ActionRefused(
                f"Package {unlabelled[0].seq} of order {order.number} has no label yet: arrange shipment first.")
        elif not packing:
            result.refused[order.number] = ActionRefused(
                _("Order %(number)s has no package waiting to be marked ready.") % {"number": order.number})
        else:
            ready += packing
            result.done.append(order)
    ids = {p.pk for p in ready}
    numbers_of = {o.pk: o.number for o in orders}
    for order in eligible:
        f = riding.get(order.pk)
        if f is None or order.pk in by_order:
            continue
        if f.parcel_id in ids:
            result.done.append(order)
        elif order.pk in selected:
            result.refused[order.number] = _rides_refusal(order, _parcel_number(f, numbers_of))
    if not ready:
        return result
    follow = [f for f in followers if f.parcel_id in ids and f.status == P.PACKING]
    window = policy_windows.window("P3")
    collect_by = at + window.delta
    moved = [*ready, *follow]
    Package.objects.filter(pk__in=[p.pk for p in moved]).update(
        status=P.READY, status_at=at, ready_at=at, collect_by=collect_by, updated_at=at)
    data = {"collect_by": collect_by.isoformat(), **window.explain()}
    PackageEvent.objects.bulk_create(
        _event(p, "mark_ready", actor, at=at, from_status=P.PACKING, to_status=P.READY, data=data) for p in moved)
    for p in moved:
        p.status = P.READY
    # An order moves once every active package of it is ready (sync_order's rule, for many).
    status_of = defaultdict(list)
    for p in [*(p for ps in by_order.values() for p in ps), *followers]:
        status_of[p.order_id].append(p.status)
    arranged = [o for o in orders if status_of.get(o.pk) and all(s in READY_OR_LATER for s in status_of[o.pk])
                and o.status == S.AWAITING_SHIPMENT]
    order_actions.arrange_shipments(orders=arranged, actor=actor, at=at, note="Every package is ready for handover.")
    return result
