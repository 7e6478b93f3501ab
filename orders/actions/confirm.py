"""Confirming orders: stock reserved for each or the order refused, oldest first."""

from collections import Counter

from django.db import transaction
from django.utils import timezone

from core.locks import lock
from shops import feed
from shops.actions import settle_new_orders
from shops.models import SKU

from .. import history, transitions
from ..models import Order
from ..transitions import InvalidTransition
from .counters import bump_status_counts
from .results import ActionRefused, BulkResult, _raise_refusal, _refuse_missing
from .stock import _lines_by_order, _sku_update

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

    wanted = _lines_by_order([o.pk for o in eligible])
    sku_ids = sorted({sku_id for need in wanted.values() for sku_id in need})
    skus = {s.pk: s for s in lock(SKU.objects.filter(pk__in=sku_ids))}
    available = {pk: s.available for pk, s in skus.items()}
    reserve = Counter()
    for order in eligible:
        need = wanted.get(order.pk, Counter())
        short = [skus[pk].code for pk, qty in need.items() if available[pk] < qty]
        if short:
            result.refused[order.number] = ActionRefused(
                f"Order {order.number} cannot be confirmed: SKU {', '.join(sorted(short))} is out of stock."
            )
            continue
        for pk, qty in need.items():
            available[pk] -= qty
            reserve[pk] += qty
        result.done.append(order)
    if not result.done:
        return result

    now = at or timezone.now()
    _sku_update(reserve, "reserved")
    _announce_low_stock(skus, reserve, now)
    done_ids = [o.pk for o in result.done]
    Order.objects.filter(pk__in=done_ids).update(
        status=S.AWAITING_SHIPMENT, status_changed_at=now, confirmed_at=now, updated_at=now
    )
    events = []
    for order in result.done:
        events.append(
            history.event(order, "confirm", actor, from_status=order.status, to_status=S.AWAITING_SHIPMENT, at=now,
                          note=note)
        )
        order.status, order.status_changed_at, order.confirmed_at = S.AWAITING_SHIPMENT, now, now
    history.record_each(events)
    n = len(result.done)
    bump_status_counts({(shop.pk, S.AWAITING_CONFIRMATION): -n, (shop.pk, S.AWAITING_SHIPMENT): n})
    settle_new_orders(done_ids, at=now)
    return result


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
