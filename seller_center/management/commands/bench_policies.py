"""Benchmark of the policy runner on PostgreSQL: a full run on a large table, the longest
batch transaction, and P1 against one hand-written UPDATE of the same rows."""

import statistics
import time
from datetime import timedelta

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from orders.models import Order
from seller_center import policies
from shops.batching import measure_batches

BARE_P1 = """
UPDATE orders_order SET status = 'CANCELLED', cancel_reason = 'unpaid', cancelled_at = %(now)s,
       status_changed_at = %(now)s, updated_at = %(now)s, auto_cancel_at = NULL
 WHERE status = 'UNPAID' AND auto_cancel_at <= %(as_of)s
   AND (deadlines_paused_until IS NULL OR deadlines_paused_until <= %(as_of)s)
"""


class Command(BaseCommand):
    help = "Time a full policy run on N orders with D due (PostgreSQL); print figures and ratios."

    def add_arguments(self, parser):
        parser.add_argument("--orders", type=int, default=1_000_000)
        parser.add_argument("--due", type=int, default=100_000)
        parser.add_argument("--shops", type=int, default=50)
        parser.add_argument("--batch-size", type=int, default=2000)

    def handle(self, *args, orders, due, shops, batch_size, **options):
        if connection.vendor != "postgresql":
            raise CommandError("bench_policies needs PostgreSQL: set DATABASE_URL=postgres://...")
        have = Order.objects.count()
        if have < orders:
            self.stdout.write(f"generating {orders - have} orders ...")
            call_command("generate_orders", orders=orders - have, shops=shops, stdout=self.stdout)
        as_of = timezone.now()
        with connection.cursor() as cursor:
            # Bench setup only: make exactly `due` unpaid orders due for P1.
            cursor.execute(
                "UPDATE orders_order SET auto_cancel_at = %s WHERE status = 'UNPAID' AND id IN "
                "(SELECT id FROM orders_order WHERE status = 'UNPAID' ORDER BY id LIMIT %s)",
                [as_of - timedelta(hours=1), due],
            )
            cursor.execute(
                "UPDATE orders_order SET auto_cancel_at = %s WHERE status = 'UNPAID' AND auto_cancel_at <= %s "
                "AND id NOT IN (SELECT id FROM orders_order WHERE status = 'UNPAID' ORDER BY id LIMIT %s)",
                [as_of + timedelta(days=1), as_of, due],
            )
            cursor.execute("ANALYZE orders_order")
        total = Order.objects.count()
        n_due = Order.objects.filter(status="UNPAID", auto_cancel_at__lte=as_of).count()
        self.stdout.write(f"orders: {total}, due for P1: {n_due}, batch size {batch_size}")

        bare = []
        for _ in range(3):
            with transaction.atomic(), connection.cursor() as cursor:
                started = time.perf_counter()
                cursor.execute(BARE_P1, {"now": as_of, "as_of": as_of})
                bare.append(time.perf_counter() - started)
                changed = cursor.rowcount
                transaction.set_rollback(True)
        bare_s = statistics.median(bare)
        self.stdout.write(f"hand-written UPDATE of the same {changed} rows: {bare_s:.3f} s (median of 3, rolled back)")

        with measure_batches() as p1_batches:
            started = time.perf_counter()
            lines = policies.run(as_of=as_of, only={"P1"}, batch_size=batch_size)
            p1_s = time.perf_counter() - started
        self.stdout.write(f"P1 through the runner: {lines[0]['text']} in {p1_s:.3f} s; "
                          f"{len(p1_batches)} batches, longest {max(p1_batches or [0]):.3f} s")
        self.stdout.write(f"ratio P1 / hand-written UPDATE: {p1_s / bare_s:.2f}x (target <= 2x)")

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
