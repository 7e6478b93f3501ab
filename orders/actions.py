"""The only code that changes an order's state.

Each action locks the rows it changes, checks the move against transitions.TRANSITIONS,
writes one history row per order and keeps the per-shop status counters exact in the
same transaction. Bulk actions are set-based: a fixed number of queries for any number
of orders, and each order is either fully applied or refused with a reason.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import Case, F, IntegerField, Value, When
from django.utils import timezone

from core import sql
from core.actor import Actor
from core.locks import lock, lock_one, lock_skipping
from core.refusals import Refused
from shops import policy_windows
from shops.actions import settle_new_orders
from shops.models import SKU, Notification

from . import history, registry, transitions
from .models import Order, OrderEvent, OrderLine, OrderMessage, OrderStatusCount
from .transitions import CANCELLABLE, PRE_HANDOVER, RESERVING, InvalidTransition

S = Order.Status
SELLER_CANCEL_REASONS = [
    Order.CancelReason.OUT_OF_STOCK,
    Order.CancelReason.DAMAGED_OR_EXPIRED,
    Order.CancelReason.BUYER_REQUESTED,
    Order.CancelReason.PRICING_ERROR,
    Order.CancelReason.OTHER,
]


class ActionRefused(Refused):
    """An action that cannot be applied for a reason other than the order's status."""


@dataclass
class BulkResult:
    """What a bulk action did, per order: applied, or refused with the reason."""

    done: list = field(default_factory=list)  # Orders
    refused: dict = field(default_factory=dict)  # number -> InvalidTransition or ActionRefused

    def summary(self, verb):
        parts = [f"{len(self.done)} {verb}"]
        if self.refused:
            reasons = "; ".join(str(v) for v in list(self.refused.values())[:5])
            more = f" and {len(self.refused) - 5} more" if len(self.refused) > 5 else ""
            parts.append(f"{len(self.refused)} refused: {reasons}{more}")
        return "; ".join(parts)


# --- building blocks ---------------------------------------------------------------


def bump_status_counts(deltas):
    """Apply {(shop_id, status): delta} to the counters in one statement whatever the
    number of keys (two more the first time a shop has orders in a status). Counter
    rows are locked in (shop, status) order, so concurrent transactions never deadlock."""
    keys = sorted(k for k, delta in deltas.items() if delta)
    if not keys:
        return
    missing = sorted(set(keys) - _bump_counters(keys, deltas))
    if missing:
        OrderStatusCount.objects.bulk_create(
            [OrderStatusCount(shop_id=shop_id, status=status, count=0) for shop_id, status in missing],
            ignore_conflicts=True,
        )
        _bump_counters(missing, deltas)


def _bump_counters(keys, deltas):
    """One UPDATE adding each key's delta to its counter row; returns the keys it found."""
    table = OrderStatusCount._meta.db_table
    values = [(shop_id, str(status), deltas[(shop_id, status)]) for shop_id, status in keys]
    if sql.postgres():
        rows = "unnest(%s::bigint[], %s::text[], %s::bigint[]) AS d(shop_id, status, delta)"
        params = [list(column) for column in zip(*values, strict=True)]
    else:
        rows = "(" + " UNION ALL ".join(["SELECT %s AS shop_id, %s AS status, %s AS delta"] * len(values)) + ") AS d"
        params = [v for row in values for v in row]
    lock = " ORDER BY c.shop_id, c.status FOR UPDATE OF c" if connection.features.has_select_for_update else ""
    found = sql.fetch(
        f"UPDATE {table} SET count = {table}.count + d.delta FROM (SELECT c.id, d.delta FROM {table} c "
        f"JOIN {rows} ON c.shop_id = d.shop_id AND c.status = d.status{lock}) AS d "
        f"WHERE {table}.id = d.id RETURNING {table}.shop_id, {table}.status",
        params,
    )
    return set(found)


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


def _sku_update(changes, field_name):
    """One UPDATE adding changes[sku_id] to `field_name` of each SKU."""
    if not changes:
        return
    SKU.objects.filter(pk__in=list(changes)).update(
        **{
            field_name: F(field_name)
            + Case(
                *[When(pk=pk, then=Value(delta)) for pk, delta in changes.items()],
                default=Value(0),
                output_field=IntegerField(),
            )
        }
    )


def _lines_by_order(order_ids):
    per_order = defaultdict(Counter)
    from .models import OrderLine

    # order_by(): the default ordering would join and sort by the order for nothing.
    for order_id, sku_id, qty in OrderLine.objects.filter(order_id__in=order_ids).order_by().values_list(
        "order_id", "sku_id", "quantity"
    ):
        per_order[order_id][sku_id] += qty
    return per_order


# --- storefront ----------------------------------------------------------------------


@transaction.atomic
def receive_order(*, shop, number, placed_at, paid_at, currency, shipping_model, buyer, lines, digest="", at=None):
    """Create an order pushed by the storefront. `lines` are (sku, quantity, unit_price).
    `at` is when the platform received it (default now; the demo tells a story in the past);
    the payment is recorded when it happened if that is later, never in the future."""
    from .models import OrderLine

    now = at or timezone.now()
    address = buyer["address"]
    windows = policy_windows.current()
    order = Order.objects.create(
        number=number,
        shop=shop,
        status=S.UNPAID,
        shipping_model=shipping_model,
        placed_at=placed_at,
        status_changed_at=now,
        ship_by=placed_at + windows["P2"].delta,
        handover_by=placed_at + windows["P4"].delta,
        auto_cancel_at=placed_at + windows["P1"].delta,
        buyer_name=buyer["name"],
        buyer_email=buyer.get("email", ""),
        buyer_phone=buyer.get("phone", ""),
        address_line1=address["line1"],
        address_line2=address.get("line2", ""),
        city=address["city"],
        region=address.get("region", ""),
        postal_code=address.get("postal_code", ""),
        country=address["country"],
        currency=currency,
        total=sum((price * qty for _, qty, price in lines), start=0),
        item_count=sum(qty for _, qty, _ in lines),
        items_summary=_summary(lines),
        source_digest=digest,
    )
    OrderLine.objects.bulk_create(
        OrderLine(order=order, sku=sku, sku_code=sku.code, name=sku.name, quantity=qty, unit_price=price)
        for sku, qty, price in lines
    )
    actor = Actor.storefront()
    history.record(order, "place", actor, from_status="", to_status=S.UNPAID, at=now,
                   data={"placed_at": placed_at.isoformat()})
    bump_status_counts({(shop.pk, S.UNPAID): 1})
    if paid_at is not None:
        event = _move(order, "pay", actor, at=max(now, min(paid_at, timezone.now())), paid_at=paid_at,
                      auto_cancel_at=placed_at + windows["P5"].delta, data={"paid_at": paid_at.isoformat()})
        _announce_new_order(order, at=event.at)
    return order


def _announce_new_order(order, at=None):
    """A paid order awaits confirmation: ring the bell and email the shop."""
    from django.urls import reverse

    from shops.actions import notify
    from shops.models import Notification

    notify(
        shop=order.shop,
        kind=Notification.Kind.NEW_ORDER,
        text=f"New order {order.number}: {order.items_summary} — {order.total} {order.currency}. Confirm it to reserve stock.",
        url=reverse("orders:detail", kwargs={"shop": order.shop.slug, "number": order.number}),
        email_subject=f"New order {order.number} awaits confirmation",
        about_order=order.pk,
        at=at,
    )


def _summary(lines):
    text = ", ".join(f"{qty}× {sku.code}" for sku, qty, _ in lines[:3])
    if len(lines) > 3:
        text += f" +{len(lines) - 3} more"
    return text[:200]


@transaction.atomic
def pay_order(*, order, actor, paid_at=None, note="", at=None):
    order = lock_one(Order.objects, order.pk)
    at = at or timezone.now()
    paid_at = paid_at or at
    untracked = order.placed_at + policy_windows.window("P5").delta
    _move(order, "pay", actor, note=note, at=at, paid_at=paid_at, auto_cancel_at=untracked,
          data={"paid_at": paid_at.isoformat()})
    _announce_new_order(order, at=at)
    return order


# --- confirm -------------------------------------------------------------------------


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


def confirm_order(*, order, actor, note="", at=None):
    """Confirm one order; raises InvalidTransition or ActionRefused (naming the short SKU)."""
    result = confirm_orders(shop=order.shop, order_ids=[order.pk], actor=actor, note=note, at=at)
    _raise_refusal(result, order)
    return result.done[0]


# --- cancel --------------------------------------------------------------------------


def _clean_cancel_reason(actor, reason, note):
    if reason not in Order.CancelReason.values:
        raise ActionRefused("Choose a cancellation reason from the list.")
    if actor.for_seller and reason not in SELLER_CANCEL_REASONS:
        raise ActionRefused("Choose a cancellation reason from the list.")
    if reason == Order.CancelReason.OTHER and not note.strip():
        raise ActionRefused("Say why when the reason is “Other”.")


@transaction.atomic
def cancel_orders(*, shop, order_ids, actor, reason, note="", action="cancel", explain=None, at=None):
    """Cancel many orders of one shop (or, for the platform, shop=None: any shop) with one
    reason; reserved stock is released and the buyer is told on the order's messages.
    `explain` is added to each history row (a policy's rule and version)."""
    _clean_cancel_reason(actor, reason, note)
    if shop is None and (actor.for_seller or actor.kind == OrderEvent.ActorKind.BUYER):
        raise ActionRefused("A seller's or buyer's cancellation names the shop.")
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
    _write_cancellations(_picked_by_id([o.pk for o in result.done], ["id", "shop_id", "status", "number"]),
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
    columns = ["id", "shop_id", "status", "number", *([deadline_field] if deadline_field else [])]
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
    events = history.bulk_record_sql("{due}", action, actor, at=at, to_status=to_status, note_params=[note],
                                     data_sql=data_sql, data_params=data_params)
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
        writes = [release_stock, events, message, settle, status]
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
        writes = [events, message, settle, status]
        if any(s in RESERVING for _, s, _, _ in grouped):
            writes.insert(0, release_stock)
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


# --- shipment side (called by shipping) ----------------------------------------------


@transaction.atomic
def arrange_shipment(*, order, actor, note="", data=None, at=None):
    order = lock_one(Order.objects, order.pk)
    _move(order, "arrange_shipment", actor, note=note, data=data, at=at)
    return order


@transaction.atomic
def mark_in_transit(*, order, actor, note="", data=None, at=None):
    """Every package is with the carrier: the reserved stock leaves the warehouse."""
    order = lock_one(Order.objects, order.pk)
    transitions.check("mark_in_transit", order.status, order.number)
    consumed = Counter()
    for need in _lines_by_order([order.pk]).values():
        for sku_id, qty in need.items():
            consumed[sku_id] -= qty
    list(lock(SKU.objects.filter(pk__in=sorted(consumed))).values_list("pk"))
    # reserved first, so reserved <= stock_on_hand holds after each statement.
    _sku_update(consumed, "reserved")
    _sku_update(consumed, "stock_on_hand")
    at = at or timezone.now()
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


# --- notes and messages ---------------------------------------------------------------


@transaction.atomic
def add_note(*, order, actor, text):
    """A seller's or staff member's note: a history row that changes no status."""
    text = (text or "").strip()
    if not text:
        raise ActionRefused("Write the note first.")
    if len(text) > 2000:
        raise ActionRefused("A note is at most 2000 characters.")
    return history.record(order, "note", actor, from_status=order.status, to_status=order.status, at=timezone.now(),
                          note=text)


# --- helpers -----------------------------------------------------------------------


def _scope(shop):
    """A seller's bulk action reaches one shop; the platform (shop=None) reaches all."""
    return Order.objects.all() if shop is None else Order.objects.for_shop(shop)


def _refuse_missing(result, order_ids, orders):
    found = {o.pk for o in orders}
    missing = [i for i in order_ids if i not in found]
    if missing:
        # Another shop's orders are reported as not found, never named.
        result.refused["(not found)"] = ActionRefused(f"{len(missing)} order(s) not found in this shop")


def _raise_refusal(result, order):
    if not result.done:
        raise next(iter(result.refused.values()), ActionRefused("Refused."))


# --- platform flags (policies) --------------------------------------------------------

FLAGS = {
    # action: the timestamp field it sets
    "late_dispatch": "late_dispatch_at",
    "handover_overdue": "handover_overdue_at",
    "tracking_reminder": "tracking_reminder_at",
}


@transaction.atomic
def flag_orders(*, order_ids, action, actor, at, note="", data=None):
    """Mark orders (late dispatch, overdue handover, reminded) without moving their status:
    one UPDATE and one history row per order. `data` maps order id -> history data."""
    field_name = FLAGS[action]
    rows = list(lock(Order.objects.filter(pk__in=order_ids)).values_list("pk", "status"))
    if not rows:
        return 0
    Order.objects.filter(pk__in=[pk for pk, _ in rows]).update(**{field_name: at, "updated_at": at})
    history.record_each(
        history.event(pk, action, actor, from_status=status, to_status=status, at=at, note=note,
                      data=(data or {}).get(pk))
        for pk, status in rows
    )
    return len(rows)


@transaction.atomic
def pause_deadlines(*, order_ids, until, actor, note="", data=None):
    """Force majeure approved (P12): the orders' deadlines stop until `until`, and each
    deadline moves later by the paused time so no rule fires because of the event."""
    now = timezone.now()
    pause = until - now
    if pause.total_seconds() <= 0:
        raise ActionRefused("The pause must end in the future.")
    rows = list(lock(Order.objects.filter(pk__in=order_ids)).values_list("pk", "status"))
    Order.objects.filter(pk__in=[pk for pk, _ in rows]).update(
        deadlines_paused_until=until,
        ship_by=F("ship_by") + pause,
        handover_by=F("handover_by") + pause,
        auto_cancel_at=F("auto_cancel_at") + pause,
        updated_at=now,
    )
    history.record_each(
        history.event(pk, "deadlines_paused", actor, from_status=status, to_status=status, at=now, note=note,
                      data={"until": until.isoformat(), **((data or {}).get(pk) or {})})
        for pk, status in rows
    )
    for hook in registry.PAUSE_HOOKS.values():
        hook.pause(order_ids=[pk for pk, _ in rows], pause=pause, actor=actor, at=now)
    return len(rows)


@transaction.atomic
def recompute_deadlines(*, windows):
    """A window changed: open orders' stored deadlines follow the new version (later runs
    use it; what earlier runs did stays in the history with the version they used)."""
    open_orders = Order.objects.filter(deadlines_paused_until__isnull=True)
    open_orders.filter(status=S.UNPAID).update(auto_cancel_at=F("placed_at") + windows["P1"].delta)
    open_orders.filter(status__in=PRE_HANDOVER).update(auto_cancel_at=F("placed_at") + windows["P5"].delta)
    open_orders.filter(status__in=CANCELLABLE).update(
        ship_by=F("placed_at") + windows["P2"].delta, handover_by=F("placed_at") + windows["P4"].delta
    )


# --- history rows and messages for higher apps -------------------------------------------


def record_event(*, order, actor, action, note="", data=None, at=None):
    """A named history row that changes no status (buyer requests, refunds)."""
    return history.record(order, action, actor, from_status=order.status, to_status=order.status,
                          at=at or timezone.now(), note=note, data=data)


def post_message(*, order, sender, body, author=None, at=None):
    """A message on the order between shop and buyer, or a platform notice."""
    body = (body or "").strip()
    if not body:
        raise ActionRefused("Write the message first.")
    if len(body) > 4000:
        raise ActionRefused("A message is at most 4000 characters.")
    return history.post_message(order, sender, body, author=author, at=at or timezone.now())
