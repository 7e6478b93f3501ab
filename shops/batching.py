"""Batches for the scheduled rules: short transactions, rows locked with SKIP LOCKED on
PostgreSQL so two workers running the same rule split the rows instead of waiting."""

import time
from contextlib import contextmanager

from django.db import connection, transaction

_timings = None  # a list while measure_batches() is active


@contextmanager
def measure_batches():
    """Collect the wall time of every batch transaction (for the policy benchmark)."""
    global _timings
    _timings = []
    try:
        yield _timings
    finally:
        _timings = None


def locked_batches(queryset, fields, batch_size=500, *, leaves=False):
    """Yield lists of `fields` tuples (pk first), each batch inside its own transaction
    with its rows locked; the caller changes them before asking for the next batch.

    By default batches walk the primary key upwards (keyset), so rows the caller leaves
    due, and rows another worker holds, are not handed out again in this run.

    leaves=True says the caller takes every row it is handed out of `queryset` (a
    cancellation changes the status the rule selects on). Then each batch is simply the
    next due rows in the order of the rule's own index, with no sort of everything still
    due: on a large backlog a keyset on the primary key would sort all remaining due rows
    for every batch. A row handed out that stays due anyway (the caller refused it) is
    excluded from later batches, so the run ends.
    """
    last = None
    seen, stuck = set(), set()
    while True:
        started = time.perf_counter()
        with transaction.atomic():
            while True:
                if leaves:
                    qs = (queryset.exclude(pk__in=stuck) if stuck else queryset).order_by()
                else:
                    qs = (queryset.filter(pk__gt=last) if last is not None else queryset).order_by("pk")
                if connection.features.has_select_for_update_skip_locked:
                    qs = qs.select_for_update(skip_locked=True, of=("self",))
                rows = list(qs.values_list("pk", *fields)[:batch_size])
                if not leaves:
                    break
                again = {row[0] for row in rows if row[0] in seen}
                rows = [row for row in rows if row[0] not in seen]
                seen.update(row[0] for row in rows)
                stuck.update(again)  # handed out before and still due: never ask for them again
                if rows or not again:
                    break
            if not rows:
                return
            last = rows[-1][0]
            yield rows
        if _timings is not None:
            _timings.append(time.perf_counter() - started)
