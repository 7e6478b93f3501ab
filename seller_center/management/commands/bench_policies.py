"""Benchmark of the policy runner on PostgreSQL: a full run on a large table, the longest
batch transaction, and P1 against one hand-written UPDATE of the same rows."""

import statistics
import time
from datetime import timedelta

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from core.batching import measure_batches
from core.sql import constant_list
from orders.models import Order
from orders.transitions import CANCELLABLE
from seller_center import policies

OPEN = constant_list(CANCELLABLE)  # every order P1 or P5 may cancel
# One hand-written UPDATE doing what P1 and P5 do to the orders table, and nothing else.
BARE = f"""
UPDATE orders_order SET status = 'CANCELLED',
       cancel_reason = CASE WHEN status = 'UNPAID' THEN 'unpaid' ELSE 'no_tracking' END,
       cancelled_at = %(now)s, status_changed_at = %(now)s, updated_at = %(now)s, auto_cancel_at = NULL
 WHERE status IN {OPEN}
   AND auto_cancel_at <= %(as_of)s
   AND (deadlines_paused_until IS NULL OR deadlines_paused_until <= %(as_of)s)
"""
SAVED = ("id", "status", "cancel_reason", "cancelled_at", "status_changed_at", "updated_at", "auto_cancel_at")
CANCELLING = ("cancel_unpaid", "cancel_untracked")


def vacuum():
    """Start each measurement from the same state: no dead rows left by the last one, and
    a fresh checkpoint, so that neither side alone pays the full-page writes that follow
    a checkpoint (the rolled-back UPDATEs write enough WAL to trigger one)."""
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE orders_order")
        try:
            cursor.execute("CHECKPOINT")
        except DatabaseError:
            pass  # not a superuser: figures are noisier


class Command(BaseCommand):
    help = "Time a full policy run on N orders with D due (PostgreSQL); print figures and ratios."

    def add_arguments(self, parser):
        parser.add_argument("--orders", type=int, default=1_000_000)
        parser.add_argument("--due", type=int, default=100_000)
        parser.add_argument("--shops", type=int, default=50)
        parser.add_argument("--batch-size", type=int, default=policies.BATCH_SIZE, help="as the schedule runs it")

    def handle(self, *args, orders, due, shops, batch_size, **options):
        if connection.vendor != "postgresql":
            raise CommandError("bench_policies needs PostgreSQL: set DATABASE_URL=postgres://...")
        have = Order.objects.count()
        if have < orders:
            self.stdout.write(f"generating {orders - have} orders ...")
            call_command("generate_orders", orders=orders - have, shops=shops, stdout=self.stdout)
        as_of = timezone.now()
        with connection.cursor() as cursor:
            # Bench setup only: exactly `due` open orders (unpaid first, then paid ones not
            # yet handed over) are past their auto-cancel time; every other open order's
            # auto-cancel time is tomorrow, so P1 and P5 have `due` rows to cancel.
            cursor.execute(f"UPDATE orders_order SET auto_cancel_at = %s WHERE status IN {OPEN}",
                           [as_of + timedelta(days=1)])
            cursor.execute(
                f"UPDATE orders_order SET auto_cancel_at = %s WHERE id IN (SELECT id FROM orders_order "
                f"WHERE status IN {OPEN} ORDER BY (status = 'UNPAID') DESC, id LIMIT %s)",
                [as_of - timedelta(hours=1), due],
            )
        vacuum()
        total = Order.objects.count()
        n_due = Order.objects.filter(auto_cancel_at__lte=as_of).count()
        self.stdout.write(f"orders: {total}, due for P1/P5 cancellation: {n_due}, batch size {batch_size}")

        bare = []
        for _ in range(3):
            vacuum()  # each measurement starts from the same table, without the last one's dead rows
            with connection.cursor() as cursor:
                # Untimed: what the UPDATE changes, to put back after it. The UPDATE commits,
                # as each batch of the runner does: a rolled-back one never waits for its WAL
                # to reach the disk, so it would be measured without its durable cost.
                cursor.execute(f"CREATE TEMP TABLE bench_saved AS SELECT {', '.join(SAVED)} FROM orders_order "
                               f"WHERE {BARE.split(' WHERE ', 1)[1]}", {"as_of": as_of})
                started = time.perf_counter()
                with transaction.atomic():
                    cursor.execute(BARE, {"now": as_of, "as_of": as_of})
                bare.append(time.perf_counter() - started)
                changed = cursor.rowcount
                cursor.execute(f"UPDATE orders_order o SET {', '.join(f'{c} = s.{c}' for c in SAVED[1:])} "
                               f"FROM bench_saved s WHERE o.id = s.id")
                cursor.execute("DROP TABLE bench_saved")
        bare_s = statistics.median(bare)
        self.stdout.write(f"hand-written UPDATE of the same {changed} rows: {bare_s:.3f} s (median of 3, each committed, then put back)")

        vacuum()
        with measure_batches() as p1_batches:
            started = time.perf_counter()
            lines = policies.run(as_of=as_of, funcs=CANCELLING, batch_size=batch_size)
            p1_s = time.perf_counter() - started
        for line in lines:
            self.stdout.write(f"  {line['text']}")
        self.stdout.write(f"P1 + P5 cancellations through the runner (status, history row, buyer message, "
                          f"counters, stock, bell per order): {p1_s:.3f} s; {len(p1_batches)} batches, "
                          f"longest {max(p1_batches or [0]):.3f} s")
        ratio = p1_s / bare_s
        self.stdout.write(f"ratio runner / hand-written UPDATE: {ratio:.2f}x (target <= 2x) {'PASS' if ratio <= 2 else 'FAIL'}")

        vacuum()
        with measure_batches() as all_batches:
            started = time.perf_counter()
            lines = policies.run(as_of=as_of, batch_size=batch_size)
            full_s = time.perf_counter() - started
        for line in lines:
            self.stdout.write(f"  {line['text']}")
        longest = max([*p1_batches, *all_batches] or [0])
        self.stdout.write(f"full run after P1 (every rule): {full_s:.3f} s, {len(all_batches)} batches")
        self.stdout.write(f"longest transaction: {longest:.3f} s (target < 1 s) {'PASS' if longest < 1 else 'FAIL'}")
        again_started = time.perf_counter()
        again = policies.run(as_of=as_of, batch_size=batch_size)
        self.stdout.write(f"second run (idempotence): {sum(line['count'] for line in again)} changes in "
                          f"{time.perf_counter() - again_started:.3f} s")
