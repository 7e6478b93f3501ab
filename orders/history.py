"""The only code that writes an order's history (OrderEvent) and its messages (OrderMessage).

One row (`record`, `post_message`), rows built in Python and written by one INSERT
(`event` + `record_each`), or set-based rows the database builds from the orders
themselves, one INSERT ... SELECT for any number of orders (`bulk_record`,
`bulk_post_messages`). A higher app passes orders (a queryset or ids) and, where each order
reads differently, an ORM expression evaluated per order (a refund's amount, from its own
table), never SQL text. The history columns are spelled here only.

Each history row also writes its row of the shop's change feed (shops.feed), in the same
statement's transaction: OrderEvent's own bulk_create does for rows built in Python, and
bulk_record / bulk_feed_sql for set-based ones. A message written one at a time is a
message.created event; the platform's notices written set-based go with a status change the
feed already carries.

The `*_sql` builders serve the orders app's own statements that share one set of locked
rows (a cancellation is one WITH on PostgreSQL): they return the INSERT for rows `o` of a
FROM fragment, to be bound by the caller.
"""

import json

from django.db.models import F, QuerySet
from django.utils import timezone

from core import sql
from core.sql import InIds
from shops import feed as shop_feed

from .models import Order, OrderEvent, OrderMessage

EVENT_COLUMNS = "order_id, at, actor_kind, actor_id, actor_label, action, from_status, to_status, note, data"
MESSAGE_COLUMNS = "order_id, sender, author_id, body, created_at"


def _action(action):
    """The action as one of OrderEvent.Action, so a set-based write cannot hold a typo either."""
    try:
        return OrderEvent.Action(action)
    except ValueError:
        raise ValueError(OrderEvent(action=action).unknown_action()) from None


# --- one row, or rows built in Python ---------------------------------------------------


def event(order, action, actor, *, from_status, to_status, at, note="", data=None):
    """An unsaved history row of `order` (an Order or its id), for record_each()."""
    where = {"order": order} if isinstance(order, Order) else {"order_id": order}
    return OrderEvent(
        **where,
        at=at,
        actor_kind=actor.kind,
        actor=actor.user,
        actor_label=actor.label,
        action=action,
        from_status=from_status,
        to_status=to_status,
        note=note,
        data=data or {},
    )


def record(order, action, actor, *, from_status, to_status, at, note="", data=None):
    """One history row, saved."""
    row = event(order, action, actor, from_status=from_status, to_status=to_status, at=at, note=note, data=data)
    row.save()
    return row


def record_each(events, *, feed=True):
    """Rows built by event(), each with its own statuses and data, in one INSERT (and one more for
    the shop's change feed; feed=False only for generated test data). On PostgreSQL the two are one
    statement: the feed rows are made from the history rows the INSERT returns. Returns how many."""
    events = list(events)
    if not (feed and events and sql.postgres()):
        return len(OrderEvent.objects.bulk_create(events, feed=feed))
    arrays = [[] for _ in range(10)]
    for e in events:
        for column, value in zip(arrays, (
                e.order_id, e.at, e.actor_kind, e.actor_id, e.actor_label, str(_action(e.action)), e.from_status,
                e.to_status, e.note, json.dumps(e.data or {})), strict=True):
            column.append(value)
    types = ("bigint", "timestamptz", "text", "integer", "text", "text", "text", "text", "text", "jsonb")
    unnest = ", ".join(f"%s::{t}[]" for t in types)
    T = shop_feed.Type
    feed_sql = (
        f"SELECT o.shop_id, CASE WHEN h.action = %s THEN %s WHEN h.from_status <> h.to_status THEN %s ELSE %s END, "
        f"'order', o.id, o.number, o.number, h.action, h.from_status, h.to_status, h.at, %s, '{{}}'::jsonb "
        f"FROM h JOIN {Order._meta.db_table} o ON o.id = h.order_id "
        f"UNION ALL SELECT o.shop_id, %s, 'order', o.id, o.number, o.number, h.action, h.from_status, h.to_status, "
        f"h.at, %s, '{{}}'::jsonb FROM h JOIN {Order._meta.db_table} o ON o.id = h.order_id WHERE h.action = %s"
    )
    now = timezone.now()
    sql.execute(
        f"WITH h AS (INSERT INTO {OrderEvent._meta.db_table} ({EVENT_COLUMNS}) SELECT * FROM unnest({unnest}) "
        f"RETURNING order_id, action, from_status, to_status, at) {shop_feed.insert_sql(feed_sql)}",
        [*arrays, OrderEvent.Action.PLACE.value, T.ORDER_CREATED.value, T.ORDER_STATUS_CHANGED.value,
         T.ORDER_UPDATED.value, now, T.ORDER_PAID.value, now, OrderEvent.Action.PAY.value],
    )
    return len(events)


def post_message(order, sender, body, *, author=None, at):
    """One message on the order (the caller has checked its text), and its message.created event."""
    message = OrderMessage.objects.create(order=order, sender=sender, author=author, body=body, created_at=at)
    shop_feed.write([shop_feed.row(shop_id=order.shop_id, type=shop_feed.Type.MESSAGE_CREATED, object_type="message",
                                   object_id=message.pk, object_key=str(message.pk), order_number=order.number,
                                   action=str(sender), to_status=order.status, at=at)])
    return message


# --- set-based: the database builds a row per order --------------------------------------


def _orders(orders):
    if isinstance(orders, QuerySet):
        return orders.order_by()
    return Order.objects.filter(InIds(F("pk"), list(orders))).order_by()


def _per_order(orders, value):
    """(FROM fragment of rows o with id, status and value, params, SQL of the value):
    `value` is constant text or an ORM expression evaluated per order."""
    qs = _orders(orders)
    if hasattr(value, "resolve_expression"):
        qs = qs.annotate(h_value=value).values_list("id", "status", "shop_id", "number", "h_value")
        value_sql, value_params = "o.h_value", []
    else:
        qs = qs.values_list("id", "status", "shop_id", "number")
        value_sql, value_params = "%s", [value]
    source_sql, source_params = qs.query.sql_with_params()
    return f"({source_sql}) o", list(source_params), value_sql, value_params


def bulk_record(orders, action, actor, *, at, note="", data=None, to_status=None):
    """One history row per order of `orders` (a queryset or ids) in one INSERT ... SELECT:
    from its status as it is now to `to_status` (default: the same, a row that changes no
    status). `note` is text, or an expression per order (Concat of its fields, a Subquery
    of a higher app's table). Returns how many rows were written."""
    source, source_params, note_sql, note_params = _per_order(orders, note)
    data_sql, data_params = sql.json_constant(data or {})
    text, params = bulk_record_sql(source, action, actor, at=at, to_status=to_status, note_sql=note_sql,
                                   note_params=note_params, data_sql=data_sql, data_params=data_params)
    written = sql.execute(text, [*params, *source_params])
    if written:
        feed_text, feed_params = bulk_feed_sql(source, action, at=at, to_status=to_status)
        sql.execute(feed_text, [*feed_params, *source_params])
    return written


def bulk_record_sql(source, action, actor, *, at, to_status=None, note_sql="%s", note_params=("",), data_sql,
                    data_params):
    """The INSERT ... SELECT of one history row per row `o` of the FROM fragment `source`
    (o.id, o.status), as (sql, params); `source`'s own parameters come after these."""
    to_sql, to_params = ("o.status", []) if to_status is None else ("%s", [str(to_status)])
    return (
        f"INSERT INTO {OrderEvent._meta.db_table} ({EVENT_COLUMNS}) "
        f"SELECT o.id, %s, %s, %s, %s, %s, o.status, {to_sql}, {note_sql}, {data_sql} FROM {source}",
        [sql.when(at), actor.kind, getattr(actor.user, "pk", None), actor.label, str(_action(action)), *to_params,
         *note_params, *data_params],
    )


def bulk_feed_sql(source, action, *, at, to_status=None):
    """The INSERT ... SELECT of the change-feed row (shops.feed) that goes with each history row of
    bulk_record_sql: rows `o` of `source` (o.id, o.status, o.shop_id, o.number)."""
    to_sql, to_params = ("o.status", []) if to_status is None else ("%s", [str(to_status)])
    type_sql = f"CASE WHEN o.status = {to_sql} THEN %s ELSE %s END"
    data_sql, data_params = sql.json_constant({})
    when = sql.when(at)
    return (
        shop_feed.insert_sql(f"SELECT o.shop_id, {type_sql}, 'order', o.id, o.number, o.number, %s, o.status, "
                             f"{to_sql}, %s, %s, {data_sql} FROM {source}"),
        [*to_params, shop_feed.Type.ORDER_UPDATED.value, shop_feed.Type.ORDER_STATUS_CHANGED.value,
         str(_action(action)), *to_params, when, sql.when(timezone.now()), *data_params],
    )


def bulk_post_messages(orders, sender, body, *, at):
    """One message per order of `orders` (a queryset or ids) in one INSERT ... SELECT, with
    no author (platform notices): `body` is text or an expression per order. Returns how
    many were written."""
    source, source_params, body_sql, body_params = _per_order(orders, body)
    text, params = bulk_post_messages_sql(source, sender, body_sql=body_sql, body_params=body_params, at=at)
    return sql.execute(text, [*params, *source_params])


def bulk_post_messages_sql(source, sender, *, body_sql, body_params, at):
    """The INSERT ... SELECT of one message per row `o` of `source` (o.id), as (sql, params)."""
    return (
        f"INSERT INTO {OrderMessage._meta.db_table} ({MESSAGE_COLUMNS}) "
        f"SELECT o.id, %s, NULL, {body_sql}, %s FROM {source}",
        [str(sender), *body_params, sql.when(at)],
    )
