"""The per-shop status counters, kept exact in the same transaction as each move."""

from django.db import connection

from core import sql

from ..models import OrderStatusCount


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
