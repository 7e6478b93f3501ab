"""Confirming orders: stock reserved for each or the order refused, oldest first."""

from collections import Counter, defaultdict

from django.db import transaction
from django.db.models import Case, IntegerField, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from core.locks import lock
from shops import feed, stock
from shops.actions import settle_new_orders
from shops.models import StockChange

from .. import history, transitions
from ..models import Order, OrderLine
from ..transitions import InvalidTransition
from .counters import bump_status_counts
from .results import ActionRefused, BulkResult, _raise_refusal, _refuse_missing

S = Order.Status


@transaction.atomic
def confirm_orders(*, shop, order_ids, actor, note="", at=None):
    """Confirm many orders of one shop: reserve every line's stock or refuse the order.

    Orders are served oldest first, so when stock runs short the earliest buyers get it.
    """
    result = BulkResult()
    # Locked in pk order like every lock, served in placed order.
    orders = sorted(lock(Order.objects.for_shop(shop).filter(pk__in=list(order_ids))), key=lambda o: (o.placed_at, o.pk))
    _refuse_missing(result, order_ids, orders)
    eligible = []
    for order in orders:
        if transitions.allowed("confirm", order.status):
            eligible.append(order)
        else:
            result.refused[order.number] = InvalidTransition("confirm", order.status, order.number)
    if not eligible:
        return result

    # The lines and their SKUs in one read, the SKU rows locked in id order (the lines only read: an
    # order's lines never change); the warehouse rows are read after, under those locks.
    wanted, skus = defaultdict(Counter), {}
    for line in (OrderLine.objects.filter(order_id__in=[o.pk for o in eligible]).select_related("sku")
                 .select_for_update(of=("sku",)).order_by("sku_id", "pk")):
        wanted[line.order_id][line.sku_id] += line.quantity
        skus.setdefault(line.sku_id, line.sku)
    sku_ids = sorted(skus)
    rows = stock.warehouse_rows(sku_ids)
    default = next((w.warehouse_id for by_wh in rows.values() for w in by_wh.values() if w.warehouse.is_default), None)
    available = {pk: s.available for pk, s in skus.items()}
    now = at or timezone.now()
    moves, ledger, reserve, chosen = Counter(), [], Counter(), {}
    for order in eligible:
        need = wanted.get(order.pk, Counter())
        warehouse_id = order.warehouse_id or _warehouse_with(need, rows, default)
        short = sorted(skus[pk].code for pk, qty in need.items()
                       if warehouse_id is None or rows.get(pk, {}).get(warehouse_id) is None
                       or rows[pk][warehouse_id].available < qty)
        if short:
            result.refused[order.number] = ActionRefused(
                _("Order %(number)s cannot be confirmed: SKU %(items)s is out of stock.") % {"number": order.number, "items": ", ".join(short)}
            )
            continue
        for pk, qty in sorted(need.items()):
            row = rows[pk][warehouse_id]
            ledger.append(stock.ledger_row(row=row, sku=skus[pk], reason=StockChange.Reason.RESERVED, actor=actor,
                                           at=now, order_id=order.pk, order_number=order.number, reserved_delta=qty))
            moves[row] += qty
            available[pk] -= qty
            reserve[pk] += qty
        chosen[order.pk] = warehouse_id
        result.done.append(order)
    if not result.done:
        return result

    stock.apply_order_moves({row: (0, qty) for row, qty in moves.items()}, ledger)
    _announce_low_stock(skus, reserve, now)
    done_ids = [o.pk for o in result.done]
    by_warehouse = Counter(chosen.values())
    common = by_warehouse.most_common(1)[0][0]
    warehouse = Case(*[When(pk=pk, then=Value(w)) for pk, w in chosen.items() if w != common], default=Value(common),
                     output_field=IntegerField()) if len(by_warehouse) > 1 else Value(common)
    Order.objects.filter(pk__in=done_ids).update(
        status=S.AWAITING_SHIPMENT, status_changed_at=now, confirmed_at=now, updated_at=now, warehouse_id=warehouse
    )
    events = []
    for order in result.done:
        events.append(
            history.event(order, "confirm", actor, from_status=order.status, to_status=S.AWAITING_SHIPMENT, at=now,
                          note=note)
        )
        order.status, order.status_changed_at, order.confirmed_at = S.AWAITING_SHIPMENT, now, now
        order.warehouse_id = chosen[order.pk]
    history.record_each(events)
    n = len(result.done)
    bump_status_counts({(shop.pk, S.AWAITING_CONFIRMATION): -n, (shop.pk, S.AWAITING_SHIPMENT): n})
    settle_new_orders(done_ids, at=now)
    return result


def _warehouse_with(need, rows, default):
    """Where an order without a warehouse reserves: the default when it has every line, else the first
    warehouse (oldest) that has, else the default (and the order is refused there as out of stock)."""
    def has_all(warehouse_id):
        return all(rows.get(pk, {}).get(warehouse_id) is not None and rows[pk][warehouse_id].available >= qty
                   for pk, qty in need.items())

    if default is not None and has_all(default):
        return default
    candidates = sorted({w for pk in need for w in rows.get(pk, {})})
    return next((w for w in candidates if has_all(w)), default)


def _announce_low_stock(skus, reserve, now):
    """stock.low in the shop's change feed for the SKUs these reservations took below the line
    (one INSERT, only when some did)."""
    before = {pk: skus[pk].available for pk in reserve}
    for pk, qty in reserve.items():
        skus[pk].reserved += qty
    feed.write(feed.low_stock([skus[pk] for pk in reserve], before, at=now, action="reserved"))


def confirm_order(*, order, actor, note="", at=None):
    """Confirm one order; raises InvalidTransition or ActionRefused (naming the short SKU)."""
    result = confirm_orders(shop=order.shop, order_ids=[order.pk], actor=actor, note=note, at=at)
    _raise_refusal(result, order)
    return result.done[0]
