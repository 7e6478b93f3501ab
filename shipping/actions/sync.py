"""The order follows its packages: when every package of an order is ready, it is arranged
(awaiting collection); when every one is with the carrier, in transit; when every one is
delivered, delivered. `sync_order` is the single place that decides that, and it moves the
order only through orders.actions."""

from core.locks import lock
from orders import actions as order_actions
from orders import transitions as order_transitions
from orders.models import Order
from orders.transitions import InvalidTransition

from ..models import Package
from ..transitions import HANDED_OVER, READY_OR_LATER

P = Package.Status
S = Order.Status


def order_moves(order_status, packages, *, at=None):
    """The moves an order in `order_status` makes given its active packages, as
    (status, collected_at, delivered_at) triples: a list of (orders.actions function name,
    note, time), empty when it stays. Pure: sync_order reads the packages only once it
    holds the order's lock, so two requests handing over two packages of one order at
    once cannot each miss the other."""
    moves = []
    if not packages:
        return moves
    several = len(packages) > 1
    statuses = [s for s, _, _ in packages]
    if order_status in order_transitions.TO_SHIP and all(s in HANDED_OVER for s in statuses):
        when = max((c for _, c, _ in packages if c), default=None) or at
        moves.append(("mark_in_transit", "Every package is with the carrier." if several else
                      "The package is with the carrier.", when))
        order_status = S.IN_TRANSIT
    if order_status == S.IN_TRANSIT and all(s == P.DELIVERED for s in statuses):
        when = max((d for _, _, d in packages if d), default=None) or at
        moves.append(("mark_delivered", "Every package is delivered." if several else "The package is delivered.", when))
    elif order_status == S.AWAITING_SHIPMENT and all(s in READY_OR_LATER for s in statuses):
        moves.append(("arrange_shipment", "Every package is ready for handover." if several else
                      "The package is ready for handover.", at))
    return moves


def sync_order(order_id, actor, *, at=None):
    """Move the order as far as its active packages allow. Returns the order when it
    moved, None when it did not (cancelled meanwhile, or not every package there yet).

    The order is locked first and its packages read after: under READ COMMITTED that read
    sees every package a concurrent request committed while this one waited for the lock."""
    order = lock(Order.objects.filter(pk=order_id)).first()
    if order is None:
        return None
    packages = list(Package.objects.active().filter(order_id=order_id).values_list("status", "collected_at", "delivered_at"))
    moves = order_moves(order.status, packages, at=at)
    if not moves:
        return None
    data = {"packages": len(packages)}
    before = order.status
    try:
        for action, note, when in moves:
            order = getattr(order_actions, action)(order=order, actor=actor, note=note, data=data, at=when)
    except InvalidTransition:
        pass
    return order if order.status != before else None
