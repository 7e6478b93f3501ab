"""One order's moves: the shared step (_move) and the moves shipping and the policies call
(arranged, in transit, delivered, completed)."""

from collections import Counter

from django.db import transaction
from django.utils import timezone

from core.locks import lock, lock_one
from shops import stock
from shops.models import SKU, StockChange

from .. import history, registry, transitions
from ..models import Order
from .counters import bump_status_counts
from .stock import _lines_by_order


def _move(order, action, actor, *, note="", data=None, at=None, **fields):
    """Move one locked order by `action`, write its history row and counters."""
    to_status = transitions.check(action, order.status, order.number)
    at = at or timezone.now()
    from_status = order.status
    order.status = to_status
    order.status_changed_at = at
    for name, value in fields.items():
        setattr(order, name, value)
    order.save(update_fields=["status", "status_changed_at", "updated_at", *fields])
    event = history.record(order, action, actor, from_status=from_status, to_status=to_status, at=at, note=note,
                           data=data)
    bump_status_counts({(order.shop_id, from_status): -1, (order.shop_id, to_status): 1})
    return event


@transaction.atomic
def arrange_shipment(*, order, actor, note="", data=None, at=None):
    order = lock_one(Order.objects, order.pk)
    _move(order, "arrange_shipment", actor, note=note, data=data, at=at)
    return order


@transaction.atomic
def arrange_shipments(*, orders, actor, note="", data=None, at=None):
    """Set-based arrange_shipment: the `orders` (locked by the caller, as read under the lock)
    that await shipment move to awaiting collection, one history row each, in a fixed number
    of statements for any number. Returns the ids moved."""
    sources, to_status = transitions.TRANSITIONS["arrange_shipment"]
    at = at or timezone.now()
    rows = [(o.pk, o.shop_id, o.status) for o in orders if o.status in sources]
    if not rows:
        return []
    ids = [pk for pk, _, _ in rows]
    history.bulk_record(ids, "arrange_shipment", actor, at=at, note=note, data=data, to_status=to_status)
    Order.objects.filter(pk__in=ids).update(status=to_status, status_changed_at=at, updated_at=at)
    deltas = Counter()
    for _, shop_id, status in rows:
        deltas[(shop_id, status)] -= 1
        deltas[(shop_id, to_status)] += 1
    bump_status_counts(deltas)
    for order in orders:
        if order.pk in ids:
            order.status, order.status_changed_at = to_status, at
    return ids


@transaction.atomic
def mark_in_transit(*, order, actor, note="", data=None, at=None):
    """Every package is with the carrier: the reserved stock leaves the warehouse."""
    order = lock_one(Order.objects, order.pk)
    transitions.check("mark_in_transit", order.status, order.number)
    need = _lines_by_order([order.pk]).get(order.pk, Counter())
    skus = {s.pk: s for s in lock(SKU.objects.filter(pk__in=sorted(need)))}
    at = at or timezone.now()
    rows = stock.warehouse_rows(list(skus))
    warehouse_id = order.warehouse_id or stock.default_warehouse(order.shop_id).pk
    moves, ledger = {}, []
    for sku_id, qty in sorted(need.items()):
        row = rows.get(sku_id, {}).get(warehouse_id)
        if row is None:  # reserved before warehouses were recorded: it is in the default's row
            row = stock.stock_row(skus[sku_id], stock.default_warehouse(order.shop_id))
        ledger.append(stock.ledger_row(row=row, sku=skus[sku_id], reason=StockChange.Reason.SHIPPED, actor=actor,
                                       at=at, order_id=order.pk, order_number=order.number, on_hand_delta=-qty,
                                       reserved_delta=-qty))
        on_hand, reserved = moves.get(row, (0, 0))
        moves[row] = (on_hand - qty, reserved - qty)
    stock.apply_order_moves(moves, ledger)
    _move(order, "mark_in_transit", actor, note=note, data=data, at=at, shipped_at=at, auto_cancel_at=None)
    return order


@transaction.atomic
def mark_delivered(*, order, actor, note="", data=None, at=None):
    order = lock_one(Order.objects, order.pk)
    at = at or timezone.now()
    _move(order, "mark_delivered", actor, note=note, data=data, at=at, delivered_at=at)
    registry.orders_delivered([order.pk])
    return order


@transaction.atomic
def complete_order(*, order, actor, note="", at=None):
    order = lock_one(Order.objects, order.pk)
    at = at or timezone.now()
    _move(order, "complete", actor, note=note, at=at, completed_at=at)
    return order
