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


def locked_batches(queryset, fields, batch_size=500):
    """Yield lists of `fields` tuples (pk first), each batch inside its own transaction
    with its rows locked; the caller changes them before asking for the next batch.

    Batches walk the primary key upwards (keyset), so rows the caller leaves due, and
    rows another worker holds, are not handed out again in this run.
    """
    last = None
    while True:
        started = time.perf_counter()
        with transaction.atomic():
            qs = queryset.filter(pk__gt=last) if last is not None else queryset
            qs = qs.order_by("pk")
            if connection.features.has_select_for_update_skip_locked:
                qs = qs.select_for_update(skip_locked=True, of=("self",))
            rows = list(qs.values_list("pk", *fields)[:batch_size])
            if not rows:
                return
            last = rows[-1][0]
            yield rows
        if _timings is not None:
            _timings.append(time.perf_counter() - started)
