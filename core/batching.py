"""Batches for the scheduled rules: short transactions, rows locked with SKIP LOCKED on
PostgreSQL so two workers running the same rule split the rows instead of waiting."""

import time
from contextlib import contextmanager

from django.db import transaction
from django.db.models import F

from .locks import lock_skipping
from .sql import InIds

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


def due_chunks(queryset, batch_size=1000):
    """Yield, each inside its own transaction, `queryset` narrowed to the next chunk of
    the rows that were due when the run started; lock it with `core.locks.lock_skipping()`.

    The due rows are listed once, without locks (one scan of the rule's index, however
    large the backlog); each chunk then re-checks that its rows are still due. So a row
    is handed out at most once per run, whether the caller moves it or leaves it due, no
    chunk re-reads what earlier ones handled, and rows that fall due during the run wait
    for the next run.
    """
    due = list(queryset.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(due), batch_size):
        started = time.perf_counter()
        with transaction.atomic():
            yield queryset.filter(InIds(F("pk"), due[start:start + batch_size])).order_by()
        if _timings is not None:
            _timings.append(time.perf_counter() - started)


def locked_batches(queryset, fields, batch_size=1000):
    """Yield lists of `fields` tuples (pk first) of the due rows (see due_chunks), each
    batch inside its own transaction with its rows locked; the caller changes them
    before asking for the next batch."""
    for chunk in due_chunks(queryset, batch_size):
        # In primary-key order: locks are taken in pk order (no deadlock with an action locking
        # the same rows), and the caller sees the rows in the order they fell due, whatever
        # index the database chose for the rule's filter.
        rows = list(lock_skipping(chunk.order_by("pk")).values_list("pk", *fields))
        if rows:
            yield rows
