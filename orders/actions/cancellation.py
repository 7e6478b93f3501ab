"""Cancelling orders: by the seller or staff (cancel_orders), by a rule (cancel_due_orders),
and the set-based writes both share (_write_cancellations)."""

from collections import Counter

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import sql
from core.locks import lock, lock_skipping
from shops.models import SKU, Notification, StockChange, Warehouse, WarehouseStock

from .. import history, transitions
from ..models import Order, OrderEvent, OrderLine, OrderMessage
from ..transitions import RESERVING, InvalidTransition
from .counters import bump_status_counts
from .results import ActionRefused, BulkResult, _raise_refusal, _refuse_missing

S = Order.Status
# What the cancellation reads of each order it cancels.
PICKED = ["id", "shop_id", "status", "number", "warehouse_id"]
SELLER_CANCEL_REASONS = [
    Order.CancelReason.OUT_OF_STOCK,
    Order.CancelReason.DAMAGED_OR_EXPIRED,
    Order.CancelReason.BUYER_REQUESTED,
    Order.CancelReason.PRICING_ERROR,
    Order.CancelReason.OTHER,
]


def _clean_cancel_reason(actor, reason, note):
    if reason not in Order.CancelReason.values:
        raise ActionRefused(_("Choose a cancellation reason from the list."))
    if actor.for_seller and reason not in SELLER_CANCEL_REASONS:
        raise ActionRefused(_("Choose a cancellation reason from the list."))
    if reason == Order.CancelReason.OTHER and not note.strip():
        raise ActionRefused(_("Say why when the reason is “Other”."))


@transaction.atomic
def cancel_orders(*, shop, order_ids, actor, reason, note="", action="cancel", explain=None, at=None):
    """Cancel many orders of one shop (or, for the platform, shop=None: any shop) with one
    reason; reserved stock is released and the buyer is told on the order's messages.
    `explain` is added to each history row (a policy's rule and version)."""
    _clean_cancel_reason(actor, reason, note)
    if shop is None and (actor.for_seller or actor.kind == OrderEvent.ActorKind.BUYER):
        raise ActionRefused(_("A seller's or buyer's cancellation names the shop."))
    result = BulkResult()
    orders = list(lock(_scope(shop).filter(pk__in=list(order_ids))))
    _refuse_missing(result, order_ids, orders)
    for order in orders:
        if transitions.allowed(action, order.status):
            result.done.append(order)
        else:
            result.refused[order.number] = InvalidTransition(action, order.status, order.number)
    if not result.done:
        return result
    now = at or timezone.now()
    _write_cancellations(_picked_by_id([o.pk for o in result.done], PICKED),
                         actor=actor, reason=reason, note=note, action=action, explain=explain, at=now)
    for order in result.done:
        order.status, order.cancel_reason, order.cancel_note, order.cancelled_at = S.CANCELLED, reason, note, now
        order.status_changed_at = order.updated_at = now
        order.auto_cancel_at = None
    return result


@transaction.atomic
def cancel_due_orders(*, due, actor, reason, note, action="cancel", explain=None, deadline_field=None, at=None):
    """The platform cancels the orders a rule found due: `due` is an Order queryset
    (core.batching.due_chunks), locked here, skipping rows another worker holds. The
    same writes as cancel_orders without reading the orders into Python: on PostgreSQL
    the lock and every write are one statement. Orders no longer in a cancellable status
    are left alone. `deadline_field` names the deadline that fired, recorded in each
    history row; `at` is the rule's "as of" time (the refund rule, later in the same run,
    sees these cancellations). Returns [(shop_id, how many, earliest deadline)]."""
    _clean_cancel_reason(actor, reason, note)
    columns = [*PICKED, *([deadline_field] if deadline_field else [])]
    if sql.postgres():
        picked = lock_skipping(due).values_list(*columns).query.sql_with_params()
    else:
        ids = list(due.values_list("pk", flat=True))
        picked = _picked_by_id(ids, columns)
    return _write_cancellations(picked, actor=actor, reason=reason, note=note, action=action, explain=explain,
                                deadline_field=deadline_field, at=at or timezone.now())


def _picked_by_id(order_ids, columns):
    ids_sql, ids = sql.in_ids("o.id", order_ids)
    return f"SELECT {', '.join('o.' + c for c in columns)} FROM {Order._meta.db_table} o WHERE {ids_sql}", ids


def _write_cancellations(picked, *, actor, reason, note, action, at, explain=None, deadline_field=None):
    """Cancel orders in a fixed number of statements: the database writes each history
    row and buyer message from the order itself (INSERT ... SELECT), releases reserved
    stock from the lines, and the counters move by the per-shop totals. `picked` is a
    SELECT (sql, params) of the orders' id, shop_id, status, number[, deadline_field],
    locked or locking. On PostgreSQL it is one statement: the orders are read once and
    every write takes them from there (data-modifying WITH); SQLite runs the writes one
    by one. Returns [(shop_id, how many, earliest deadline)]."""
    from_states, to_status = transitions.TRANSITIONS[action]
    orders, lines, sku = Order._meta.db_table, OrderLine._meta.db_table, SKU._meta.db_table
    states_sql, states = sql.in_values("o.status", from_states)
    reserving_sql, reserving = sql.in_values("o.status", RESERVING)
    picked_sql, picked_params = picked
    due_sql, due_params = f"SELECT * FROM ({picked_sql}) o WHERE {states_sql}", [*picked_params, *states]
    base = {"reason": reason, **(explain or {})}
    data_sql, data_params = (sql.json_with_time(base, "deadline", f"o.{deadline_field}") if deadline_field
                             else sql.json_constant(base))
    # The seller's note is written to the buyer; a staff member's reason is internal (it may
    # say "fraud suspected") and stays in the history only.
    buyer_note = f" {note}" if note and actor.for_seller else ""
    label = Order.CancelReason(reason).label
    when = sql.when(at)
    # Each write reads the due orders, as they were before this cancellation, from {due}.
    release_stock = (
        # Stock rows are locked in id order, as confirm does, so the two never deadlock.
        f"UPDATE {sku} SET reserved = {sku}.reserved - r.quantity FROM (SELECT s.id, q.quantity FROM {sku} s "
        f"JOIN (SELECT l.sku_id, SUM(l.quantity) AS quantity FROM {lines} l JOIN {{due}} ON o.id = l.order_id "
        f"WHERE {reserving_sql} GROUP BY l.sku_id) q ON q.sku_id = s.id"
        + (" ORDER BY s.id FOR UPDATE OF s" if connection.features.has_select_for_update else "")
        + f") r WHERE {sku}.id = r.id",
        reserving,
    )
    # The warehouse rows give back the same quantities (the order's warehouse; the shop's default for an
    # order reserved before warehouses were recorded), and the ledger gets one row per order and SKU,
    # its figures chained in order id within each warehouse row. On PostgreSQL every write reads the rows
    # as they were before the statement; on SQLite the ledger is written before the rows change.
    ws, changes, warehouses = WarehouseStock._meta.db_table, StockChange._meta.db_table, Warehouse._meta.db_table
    released = (
        f"SELECT l.sku_id, COALESCE(o.warehouse_id, (SELECT w.id FROM {warehouses} w WHERE w.shop_id = o.shop_id "
        f"AND w.is_default)) AS warehouse_id, o.id AS order_id, o.number, SUM(l.quantity) AS quantity "
        f"FROM {lines} l JOIN {{due}} ON o.id = l.order_id WHERE {reserving_sql} "
        f"GROUP BY l.sku_id, o.warehouse_id, o.shop_id, o.id, o.number"
    )
    pg = sql.postgres()
    if pg:
        # Written after the SKU rows (it joins what w0 returns), so the lock order is confirm's.
        release_stock = (release_stock[0] + f" RETURNING {sku}.id", release_stock[1])
    release_rows = (
        f"UPDATE {ws} SET reserved = {ws}.reserved - r.quantity FROM (SELECT x.warehouse_id, x.sku_id, "
        f"SUM(x.quantity) AS quantity FROM ({released}) x GROUP BY x.warehouse_id, x.sku_id) r "
        + ("JOIN w0 ON w0.id = r.sku_id " if pg else "")
        + f"WHERE {ws}.warehouse_id = r.warehouse_id AND {ws}.sku_id = r.sku_id"
        + (f" RETURNING {ws}.warehouse_id, {ws}.sku_id, {ws}.on_hand, {ws}.reserved" if pg else ""),
        reserving,
    )
    # PostgreSQL: the ledger reads the rows as the UPDATE left them (w1); SQLite: as they are before it.
    ledger = (
        f"INSERT INTO {changes} (sku_id, warehouse_id, at, actor_kind, actor_id, actor_label, reason, note, "
        f"on_hand_before, on_hand_after, reserved_before, reserved_after, version, order_id, order_number) "
        f"SELECT x.sku_id, x.warehouse_id, %s, %s, %s, %s, %s, '', ws.on_hand, ws.on_hand, "
        f"ws.reserved + {'x.total' if pg else '0'} - x.taken + x.quantity, ws.reserved + {'x.total' if pg else '0'} "
        f"- x.taken, s.stock_version, x.order_id, x.number "
        f"FROM (SELECT y.*, SUM(y.quantity) OVER (PARTITION BY y.warehouse_id, y.sku_id ORDER BY y.order_id) AS taken, "
        f"SUM(y.quantity) OVER (PARTITION BY y.warehouse_id, y.sku_id) AS total FROM ({released}) y) x "
        f"JOIN {'w1' if pg else ws} ws ON ws.warehouse_id = x.warehouse_id AND ws.sku_id = x.sku_id "
        f"JOIN {sku} s ON s.id = x.sku_id",
        [when, str(actor.kind), actor.user.pk if actor.user else None, actor.label,
         StockChange.Reason.RELEASED.value, *reserving],
    )
    events = history.bulk_record_sql("{due}", action, actor, at=at, to_status=to_status, note_params=[note],
                                     data_sql=data_sql, data_params=data_params)
    feed = history.bulk_feed_sql("{due}", action, at=at, to_status=to_status)
    message = history.bulk_post_messages_sql(
        "{due}", OrderMessage.Sender.PLATFORM, body_sql="'Your order ' || o.number || %s",
        body_params=[f" was cancelled. Reason: {label}.{buyer_note}"], at=at,
    )
    # A cancelled order no longer awaits confirmation: its "new order" bell is settled.
    settle = (
        f"UPDATE {Notification._meta.db_table} SET read_at = %s WHERE kind = %s AND read_at IS NULL "
        f"AND about_order IN (SELECT o.id FROM {{due}})",
        [when, Notification.Kind.NEW_ORDER.value],
    )
    status = (
        f"UPDATE {orders} SET status = %s, status_changed_at = %s, cancelled_at = %s, cancel_reason = %s, "
        f"cancel_note = %s, updated_at = %s, auto_cancel_at = NULL WHERE id IN (SELECT o.id FROM {{due}})",
        [str(to_status), when, when, str(reason), note, when],
    )
    first = f"MIN(o.{deadline_field})" if deadline_field else "NULL"
    count = f"SELECT o.shop_id, o.status, COUNT(*), {first} FROM {{due}} GROUP BY o.shop_id, o.status"

    if sql.postgres():
        writes = [release_stock, release_rows, ledger, events, feed, message, settle, status]
        ctes = ", ".join(f"w{i} AS ({text.format(due='due o')})" for i, (text, _) in enumerate(writes))
        # The orders are picked (and locked) first, then filtered: left to itself, the
        # planner may AND the id list with the status index, reading every open order's entry.
        grouped = sql.fetch(
            f"WITH picked AS MATERIALIZED ({picked_sql}), due AS MATERIALIZED (SELECT * FROM picked o WHERE {states_sql}), "
            f"{ctes} {count.format(due='due o')}",
            [*picked_params, *states, *(p for _, params in writes for p in params)],
        )
    else:
        due = f"({due_sql}) o"
        grouped = sql.fetch(*sql.bind(count, [], "due", due, due_params))
        writes = [events, feed, message, settle, status]
        if any(s in RESERVING for _, s, _, _ in grouped):
            writes[:0] = [ledger, release_rows, release_stock]
        for text, params in writes:
            sql.execute(*sql.bind(text, params, "due", due, due_params))
    deltas, by_shop = Counter(), {}
    for shop_id, from_status, n, earliest in grouped:
        earliest = sql.read_time(earliest)
        deltas[(shop_id, from_status)] -= n
        deltas[(shop_id, to_status)] += n
        count_before, earliest_before = by_shop.get(shop_id, (0, None))
        by_shop[shop_id] = (count_before + n, min(d for d in (earliest, earliest_before) if d) if earliest or
                            earliest_before else None)
    bump_status_counts(deltas)
    return [(shop_id, n, earliest) for shop_id, (n, earliest) in by_shop.items()]


def cancel_order(*, order, actor, reason, note="", at=None):
    result = cancel_orders(shop=order.shop, order_ids=[order.pk], actor=actor, reason=reason, note=note, at=at)
    _raise_refusal(result, order)
    return result.done[0]


def cancel_in_transit(*, order, actor, reason=Order.CancelReason.DELIVERY_FAILED, note="", at=None):
    """Lost or abnormal delivery: the platform cancels an order already with the carrier."""
    result = cancel_orders(
        shop=order.shop, order_ids=[order.pk], actor=actor, reason=reason, note=note, action="cancel_in_transit", at=at
    )
    _raise_refusal(result, order)
    return result.done[0]


def _scope(shop):
    """A seller's bulk action reaches one shop; the platform (shop=None) reaches all."""
    return Order.objects.all() if shop is None else Order.objects.for_shop(shop)
