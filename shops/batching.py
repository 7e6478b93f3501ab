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

    Rows the caller leaves due are not handed out twice in one run.
    """
    seen = set()
    while True:
        started = time.perf_counter()
        with transaction.atomic():
            qs = queryset.exclude(pk__in=seen) if seen else queryset
            qs = qs.order_by("pk")
            if connection.features.has_select_for_update_skip_locked:
                qs = qs.select_for_update(skip_locked=True, of=("self",))
            rows = list(qs.values_list("pk", *fields)[:batch_size])
            if not rows:
                return
            seen.update(r[0] for r in rows)
            yield rows
        if _timings is not None:
            _timings.append(time.perf_counter() - started)
