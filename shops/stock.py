"""Stock, per warehouse, and its ledger.

- `change_stock`: a seller or their system sets or moves one SKU's stock on hand in one warehouse:
  locked, checked against the version the writer read (a stale write is refused), never below what
  confirmed orders have reserved there, recorded as a StockChange.
- `apply_order_moves`: the orders app's reservations, releases and shipments, set-based: the
  warehouse rows, the SKU totals and the ledger rows in one statement on PostgreSQL (three on
  SQLite), whatever the number of orders.
- `reconcile`: a write that set a SKU's totals directly (a new SKU, the admin, generated data)
  puts the difference into the SKU's default warehouse row, so the rows add up to the totals.

Lock order: the SKU rows first (in id order), then their warehouse rows. Every writer takes the
SKU row lock before it touches that SKU's warehouse rows, so the SKU lock guards them all.
"""

import json

from django.db import IntegrityError, transaction
from django.db.models import Case, F, IntegerField, OuterRef, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from core import sql
from core.locks import lock_one
from core.refusals import Refused

from . import feed
from .models import SKU, StockChange, Warehouse, WarehouseStock

MAX_STOCK = 10**9


class StockRefused(Refused):
    """A stock change that cannot be applied; the message says why."""


class StaleStock(StockRefused):
    def __init__(self, sku):
        self.current = sku.stock_version
        super().__init__(_("SKU %(code)s changed since you read it (now version %(version)s, %(on_hand)s on hand); "
                           "read it again and resend.") % {"code": sku.code, "version": sku.stock_version,
                                                          "on_hand": sku.stock_on_hand})


def default_warehouse(shop_id):
    """The shop's default warehouse, made ("Main warehouse") the first time a shop needs one."""
    found = Warehouse.objects.filter(shop_id=shop_id, is_default=True).first()
    if found:
        return found
    try:
        with transaction.atomic():
            return Warehouse.objects.create(shop_id=shop_id, name=_unused_name(shop_id), is_default=True)
    except IntegrityError:  # another transaction made it first
        return Warehouse.objects.get(shop_id=shop_id, is_default=True)


def _unused_name(shop_id):
    names = set(Warehouse.objects.filter(shop_id=shop_id).values_list("name", flat=True))
    name, n = "Main warehouse", 1
    while name in names:
        n += 1
        name = f"Main warehouse {n}"
    return name


def reconcile(skus):
    """Make `skus` (a SKU queryset) have a row in their shop's default warehouse, and set that row
    to the SKU's totals less what its other warehouses hold. Set-based: a few statements for any
    number of SKUs. A SKU whose other warehouses hold more than its total fails the row's
    constraint: totals must not be set below what is placed elsewhere."""
    shop_ids = set(skus.order_by().values_list("shop_id", flat=True).distinct())
    if not shop_ids:
        return
    defaults = {shop_id: default_warehouse(shop_id).pk for shop_id in shop_ids}
    WarehouseStock.objects.bulk_create(
        [WarehouseStock(warehouse_id=defaults[shop_id], sku_id=sku_id)
         for sku_id, shop_id in skus.order_by().values_list("pk", "shop_id")],
        ignore_conflicts=True, batch_size=2000,
    )
    others = WarehouseStock.objects.filter(sku_id=OuterRef("sku_id")).exclude(
        warehouse__is_default=True).order_by().values("sku_id")
    total = SKU.objects.filter(pk=OuterRef("sku_id"))
    WarehouseStock.objects.filter(warehouse__is_default=True, sku__in=skus.order_by().values("pk")).update(
        on_hand=Subquery(total.values("stock_on_hand")[:1])
        - Coalesce(Subquery(others.annotate(n=Sum("on_hand")).values("n")[:1]), 0),
        reserved=Subquery(total.values("reserved")[:1])
        - Coalesce(Subquery(others.annotate(n=Sum("reserved")).values("n")[:1]), 0),
    )


def stock_row(sku, warehouse):
    """The locked row of `sku` in `warehouse` (made empty if it has none). The caller holds the SKU lock."""
    row = WarehouseStock.objects.select_for_update().filter(sku=sku, warehouse=warehouse).first()
    if row is None:
        WarehouseStock.objects.bulk_create([WarehouseStock(sku=sku, warehouse=warehouse)], ignore_conflicts=True)
        row = WarehouseStock.objects.select_for_update().get(sku=sku, warehouse=warehouse)
    return row


@transaction.atomic
def change_stock(*, sku, actor, reason, on_hand=None, delta=None, note="", expected_version=None, at=None,
                 warehouse=None, bin_location=None):
    """Set stock on hand in `warehouse` (default: the shop's default) to `on_hand`, or move it by
    `delta`. `actor` has kind, user and label. `bin_location`, if given, is saved with it."""
    if (on_hand is None) == (delta is None):
        raise StockRefused(_("Give either the new stock on hand or the change, not both."))
    if reason not in StockChange.MANUAL:
        raise StockRefused(_("Choose a reason: %(reasons)s.") % {"reasons": ", ".join(StockChange.MANUAL)})
    note = (note or "").strip()
    if reason == StockChange.Reason.OTHER and not note:
        raise StockRefused(_("Say why when the reason is “other”."))
    if len(note) > 500:
        raise StockRefused(_("The note is at most 500 characters."))
    locked = lock_one(SKU.objects, sku.pk)
    if expected_version is not None and expected_version != locked.stock_version:
        raise StaleStock(locked)
    if warehouse is None:
        warehouse = default_warehouse(locked.shop_id)
    elif warehouse.shop_id != locked.shop_id or warehouse.archived_at is not None:
        raise StockRefused(_("That warehouse is not an open warehouse of this shop."))
    row = stock_row(locked, warehouse)
    after = on_hand if on_hand is not None else row.on_hand + delta
    if not 0 <= after <= MAX_STOCK:
        raise StockRefused(_("Stock on hand must be between 0 and %(max)s.") % {"max": f"{MAX_STOCK:,}"})
    if after < row.reserved:
        raise StockRefused(_("SKU %(code)s: %(n)s are reserved by confirmed orders in %(warehouse)s; stock on hand "
                             "there cannot go below that.") % {"code": locked.code, "n": row.reserved,
                                                                "warehouse": warehouse.name})
    before = row.on_hand
    row.on_hand = after
    fields = ["on_hand"]
    if bin_location is not None:
        row.bin_location = bin_location.strip()[:32]
        fields.append("bin_location")
    row.save(update_fields=fields)
    available_before = locked.available
    locked.stock_on_hand += after - before
    locked.stock_version += 1
    SKU.objects.filter(pk=locked.pk).update(stock_on_hand=locked.stock_on_hand, stock_version=locked.stock_version)
    at = at or timezone.now()
    StockChange.objects.create(sku=locked, warehouse=warehouse, at=at, actor_kind=actor.kind, actor=actor.user,
                               actor_label=actor.label, reason=reason, note=note, on_hand_before=before,
                               on_hand_after=after, reserved_before=row.reserved, reserved_after=row.reserved,
                               version=locked.stock_version)
    feed.write([feed.sku_row(locked, feed.Type.STOCK_CHANGED, at=at, action=reason,
                             available_before=available_before, data={"warehouse": warehouse.name}),
                *feed.low_stock([locked], {locked.pk: available_before}, at=at, action=reason)])
    return locked


def warehouse_rows(sku_ids):
    """{sku_id: {warehouse_id: WarehouseStock}} of open warehouses' rows, read under the caller's SKU locks."""
    out = {}
    rows = WarehouseStock.objects.filter(sku_id__in=sku_ids, warehouse__archived_at__isnull=True)
    for row in rows.select_related("warehouse").order_by("pk"):
        out.setdefault(row.sku_id, {})[row.warehouse_id] = row
    return out


def ledger_row(*, row, sku, reason, actor, at, order_id, order_number, on_hand_delta=0, reserved_delta=0):
    """An unsaved ledger row for an order's move of `row` (a WarehouseStock), applied to `row` as well,
    so the next move of the same row chains from it."""
    change = StockChange(sku_id=row.sku_id, warehouse_id=row.warehouse_id, at=at, actor_kind=actor.kind,
                         actor_id=actor.user.pk if actor.user else None, actor_label=actor.label, reason=reason,
                         on_hand_before=row.on_hand, on_hand_after=row.on_hand + on_hand_delta,
                         reserved_before=row.reserved, reserved_after=row.reserved + reserved_delta,
                         version=sku.stock_version, order_id=order_id, order_number=order_number)
    row.on_hand += on_hand_delta
    row.reserved += reserved_delta
    return change


def apply_order_moves(moves, ledger):
    """Move warehouse rows and the SKU totals together and write the ledger rows. `moves` maps a
    WarehouseStock (with pk and sku_id) to (on_hand delta, reserved delta); `ledger` is StockChange
    rows from ledger_row(). One statement on PostgreSQL, three on SQLite."""
    moves = {ws: d for ws, d in moves.items() if d != (0, 0)}
    if not moves:
        return
    cols = ("sku_id", "warehouse_id", "at", "actor_kind", "actor_id", "actor_label", "reason", "note",
            "on_hand_before", "on_hand_after", "reserved_before", "reserved_after", "version", "order_id",
            "order_number")
    ws, sku, changes = WarehouseStock._meta.db_table, SKU._meta.db_table, StockChange._meta.db_table
    if sql.postgres():
        types = ("bigint", "bigint", "timestamptz", "text", "integer", "text", "text", "text", "integer", "integer",
                 "integer", "integer", "integer", "bigint", "text")
        arrays = [[getattr(c, col) for c in ledger] for col in cols]
        sql.execute(
            f"WITH d AS (SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::integer[], %s::integer[]) "
            f"AS d(id, sku_id, on_hand, reserved)), "
            f"s AS (UPDATE {sku} SET stock_on_hand = {sku}.stock_on_hand + t.on_hand, "
            f"reserved = {sku}.reserved + t.reserved FROM (SELECT sku_id, SUM(on_hand) AS on_hand, "
            f"SUM(reserved) AS reserved FROM d GROUP BY sku_id) t WHERE {sku}.id = t.sku_id RETURNING {sku}.id), "
            # Joined to s, so the SKU rows are written (and locked) before their warehouse rows.
            f"w AS (UPDATE {ws} SET on_hand = {ws}.on_hand + d.on_hand, reserved = {ws}.reserved + d.reserved "
            f"FROM d JOIN s ON s.id = d.sku_id WHERE {ws}.id = d.id RETURNING {ws}.id) "
            f"INSERT INTO {changes} ({', '.join(cols)}) SELECT * FROM unnest({', '.join(f'%s::{t}[]' for t in types)})",
            [[w.pk for w in moves], [w.sku_id for w in moves], [d[0] for d in moves.values()],
             [d[1] for d in moves.values()], *arrays],
        )
        return
    per_sku = {}
    for w, (on_hand, reserved) in moves.items():
        a, b = per_sku.get(w.sku_id, (0, 0))
        per_sku[w.sku_id] = (a + on_hand, b + reserved)

    def case(deltas, i):
        return Case(*[When(pk=pk, then=Value(d[i])) for pk, d in deltas.items()], default=Value(0),
                    output_field=IntegerField())

    # reserved falls before stock on hand in the same row of each UPDATE, so both constraints hold.
    SKU.objects.filter(pk__in=list(per_sku)).update(stock_on_hand=F("stock_on_hand") + case(per_sku, 0),
                                                    reserved=F("reserved") + case(per_sku, 1))
    by_pk = {w.pk: d for w, d in moves.items()}
    WarehouseStock.objects.filter(pk__in=list(by_pk)).update(on_hand=F("on_hand") + case(by_pk, 0),
                                                             reserved=F("reserved") + case(by_pk, 1))
    # One INSERT for any number of rows (bulk_create would split by SQLite's variable limit).
    rows = [[sql.when(c.at) if col == "at" else getattr(c, col) for col in cols] for c in ledger]
    sql.execute(f"INSERT INTO {changes} ({', '.join(cols)}) SELECT "
                + ", ".join(f"json_extract(value, '$[{i}]')" for i in range(len(cols)))
                + " FROM json_each(%s)", [json.dumps(rows)])
