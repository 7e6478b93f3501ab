"""Row locks, taken one way everywhere.

Rows are locked in primary-key order, so two transactions locking overlapping sets wait
for each other instead of deadlocking, and only the rows of the queryset's own table are
locked (`of=("self",)`): a join that only reads (the order's shop) must not lock the joined
rows, or every order of a shop would queue behind one. On SQLite (one writer at a time)
select_for_update is a no-op.
"""

from django.db import connection


def lock(queryset, *, also_lock=()):
    """`queryset`'s rows locked FOR UPDATE, in primary-key order. `also_lock`: related rows
    (select_related) locked in the same statement."""
    return queryset.select_related(*also_lock).select_for_update(of=("self", *also_lock)).order_by("pk")


def lock_one(queryset, pk, *, read=(), also_lock=()):
    """Re-read one row under a lock (the caller's copy may be stale); DoesNotExist if it is gone.

    `read`: related rows fetched in the same query and not locked. `also_lock`: related rows
    locked in the same statement, after this one (a package, then its order: the order the
    carrier feed takes them in)."""
    return queryset.select_related(*read, *also_lock).select_for_update(of=("self", *also_lock)).get(pk=pk)


def lock_skipping(queryset):
    """Lock the rows, skipping those another worker holds (PostgreSQL), so two workers running
    the same rule split the rows instead of waiting; SQLite has one writer at a time anyway."""
    if connection.features.has_select_for_update_skip_locked:
        return queryset.select_for_update(skip_locked=True, of=("self",))
    return queryset
