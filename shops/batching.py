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


def locked_batches(queryset, fields, batch_size=1000):
    """Yield lists of `fields` tuples (pk first), each batch inside its own transaction
    with its rows locked; the caller changes them before asking for the next batch.

    The rows due when the run starts are listed once, without locks (one scan of the
    rule's index, however large the backlog); each batch then locks the next of them that
    are still due, skipping rows another worker holds. So a row is handed out at most
    once per run, whether the caller moves it or leaves it due, no batch re-reads what
    earlier batches handled, and rows that fall due during the run wait for the next run.
    """
    due = list(queryset.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(due), batch_size):
        started = time.perf_counter()
        with transaction.atomic():
            qs = queryset.filter(pk__in=due[start:start + batch_size]).order_by()
            if connection.features.has_select_for_update_skip_locked:
                qs = qs.select_for_update(skip_locked=True, of=("self",))
            rows = list(qs.values_list("pk", *fields))
            if rows:
                yield rows
        if _timings is not None:
            _timings.append(time.perf_counter() - started)
