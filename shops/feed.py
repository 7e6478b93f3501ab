"""Writing the shop's change feed (ShopEvent): the outbox the event feed and the webhooks read.

Every change is written here in the transaction that makes it, so a rollback leaves no event
and a commit always leaves one. Three ways in, each one INSERT whatever the number of rows:

- `write(rows)`: rows built in Python by `row()`;
- `insert_from(queryset)`: INSERT ... SELECT of a queryset whose values() are the feed's columns
  (each app builds it over its own tables with the ORM: see `columns()`);
- `insert_sql(source_sql)`: the INSERT for the orders app's single-statement cancellation,
  which builds its rows from a locked FROM fragment.

The app that changed the object knows what changed; this module knows only the feed's columns.
"""

from django.conf import settings
from django.db.models import F, JSONField, Value
from django.utils import timezone

from core import sql

from .models import FeedSequencer, ShopEvent

Type = ShopEvent.Type

# The columns an INSERT ... SELECT fills, in this order (id and position are left to the database
# and the sequencer).
COLUMNS = ("shop_id", "type", "object_type", "object_id", "object_key", "order_number", "action", "from_status",
           "to_status", "at", "recorded_at", "data")


def row(*, shop_id, type, object_type, object_id, object_key, at, order_number="", action="", from_status="",
        to_status="", data=None):
    """An unsaved feed row, for write()."""
    return ShopEvent(shop_id=shop_id, type=Type(type), object_type=object_type, object_id=object_id,
                     object_key=str(object_key)[:64], order_number=order_number, action=action,
                     from_status=from_status or "", to_status=to_status or "", at=at, recorded_at=timezone.now(),
                     data=data or {})


def write(rows):
    rows = list(rows)
    if rows:
        ShopEvent.objects.bulk_create(rows)
    return len(rows)


def columns(*, shop_id, type, object_type, object_id, object_key, at, order_number="", action="", from_status="",
            to_status="", data=None):
    """The annotate() keywords that make a queryset's values() the feed's columns: each argument is
    an ORM expression over the caller's own model (F("order__shop_id"), a Case over its action);
    `data` a dict or a JSONObject of its fields."""
    def as_value(v):
        return v if hasattr(v, "resolve_expression") else Value(v)

    return {
        "f_shop_id": as_value(shop_id), "f_type": as_value(type), "f_object_type": as_value(object_type),
        "f_object_id": as_value(object_id), "f_object_key": as_value(object_key),
        "f_order_number": as_value(order_number), "f_action": as_value(action),
        "f_from_status": as_value(from_status), "f_to_status": as_value(to_status), "f_at": as_value(at),
        "f_recorded_at": Value(timezone.now()),
        "f_data": data if hasattr(data, "resolve_expression") else Value(data or {}, output_field=JSONField()),
    }


def insert_from(queryset, **cols):
    """One INSERT ... SELECT of a feed row per row of `queryset`, `cols` as for columns().
    Returns how many rows were written."""
    qs = queryset.order_by().annotate(**columns(**cols)).values_list(*(f"f_{c}" for c in COLUMNS))
    select_sql, params = qs.query.sql_with_params()
    return sql.execute(f"INSERT INTO {ShopEvent._meta.db_table} ({', '.join(COLUMNS)}) {select_sql}", list(params))


def insert_sql(select_sql):
    """`INSERT INTO <feed> (<columns>) <select_sql>`: select_sql yields COLUMNS in order."""
    return f"INSERT INTO {ShopEvent._meta.db_table} ({', '.join(COLUMNS)}) {select_sql}"


def crossed_low(before, after):
    """Available stock fell below the low-stock line (STOCK_LOW_THRESHOLD) with this change."""
    return before >= settings.STOCK_LOW_THRESHOLD > after


def sku_row(sku, type, *, at, action, available_before, data=None):
    """A feed row about a SKU (stock.changed, stock.low)."""
    return row(shop_id=sku.shop_id, type=type, object_type="sku", object_id=sku.pk, object_key=sku.code, at=at,
               action=action, data={"available_before": available_before, "available": sku.available,
                                    "stock_on_hand": sku.stock_on_hand, "reserved": sku.reserved,
                                    "stock_version": sku.stock_version, **(data or {})})


def low_stock(skus, available_before, *, at, action):
    """stock.low rows for the SKUs whose available stock crossed the line: `available_before` maps a
    SKU's id to what it was; the SKUs carry what it is now."""
    return [sku_row(s, Type.STOCK_LOW, at=at, action=action, available_before=available_before[s.pk],
                    data={"threshold": settings.STOCK_LOW_THRESHOLD})
            for s in skus if crossed_low(available_before[s.pk], s.available)]


def _lock_sequencer(now):
    """Take the sequencer's lock: an UPDATE of its one row (a row lock on PostgreSQL, the write
    lock on SQLite), made first if it is missing."""
    if FeedSequencer.objects.filter(pk=1).update(ran_at=now):
        return
    FeedSequencer.objects.bulk_create([FeedSequencer(pk=1)], ignore_conflicts=True)
    FeedSequencer.objects.filter(pk=1).update(ran_at=now)


def sequence(*, now, limit):
    """Inside the caller's transaction: give up to `limit` committed events without a position the
    next positions, in id order, one sequencer at a time. Returns (first, last) of what it gave
    (last < first: nothing). A transaction that commits after this one read gets later positions,
    so a reader paging by position never skips it."""
    _lock_sequencer(now)
    base = FeedSequencer.objects.values_list("last_position", flat=True).get(pk=1)
    events = ShopEvent._meta.db_table
    n = sql.execute(
        f"UPDATE {events} SET position = r.pos FROM (SELECT id, %s + ROW_NUMBER() OVER (ORDER BY id) AS pos "
        f"FROM {events} WHERE position IS NULL ORDER BY id LIMIT %s) r WHERE {events}.id = r.id",
        [base, limit],
    )
    if n:
        FeedSequencer.objects.filter(pk=1).update(last_position=F("last_position") + n)
    return base + 1, base + n
