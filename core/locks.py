"""Row locks, taken one way everywhere.

Rows are locked in primary-key order, so two transactions locking overlapping sets wait
for each other instead of deadlocking, and only the rows of the queryset's own table are
locked (`of=("self",)`): a join that only reads (the order's shop) must not lock the joined
rows, or every order of a shop would queue behind one. On SQLite (one writer at a time)
select_for_update is a no-op.

Scheduled jobs that must not run twice at once take run_alone() (a session lock, not a row lock).
"""

import fcntl
import hashlib
import os
import tempfile
from contextlib import contextmanager

from django.db import connection, connections


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


@contextmanager
def run_alone(name, *, using="default"):
    """Yield True when this process is the only one running `name` (a scheduled job), False
    when another process already is; the caller then does nothing.

    PostgreSQL: a session advisory lock, held across the job's many transactions and released
    by PostgreSQL when the holder's connection ends, so a killed worker frees it (see
    docs/operations.md on dead machines). While held, the session's application_name says
    which process holds it ("policy-run pid 4242" in pg_stat_activity). SQLite (one machine):
    an flock on a file in the temporary directory, released by the kernel when the holder dies.
    """
    conn = connections[using]
    if conn.vendor == "postgresql":
        key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
        with conn.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
            if not cursor.fetchone()[0]:
                yield False
                return
            cursor.execute("SELECT set_config('application_name', %s, false)", [f"{name} pid {os.getpid()}"])
        try:
            yield True
        finally:
            with conn.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
                cursor.execute("RESET application_name")
        return
    db = hashlib.sha256(str(conn.settings_dict["NAME"]).encode()).hexdigest()[:16]
    path = os.path.join(tempfile.gettempdir(), f"seller-center-{db}-{name}.lock")
    with open(path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
