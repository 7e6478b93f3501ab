"""Benchmark of fulfilment at volume, on a fresh shop of its own (run it on a database you may
write to): bulk arrange and mark ready of N ship-by-platform orders against the same moves one
order at a time (queries and time side by side), the print of 600 labels in one document in
each format, and the pick list and packing lists of N orders."""

import os
import time
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal

from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.utils import timezone

from core.actor import Actor
from orders import actions as order_actions
from orders.models import Order
from shipping import actions, labels, picklist
from shipping.models import Package, PrintJob
from shops import stock
from shops.models import SKU, Shop

MAX_BULK_QUERIES = 15
MIN_SPEEDUP = 20.0
LABELS = 600


@contextmanager
def measured():
    """{"s": seconds, "q": statements} of the block (every statement, savepoints included; counted
    by an execute wrapper, which has no cap, unlike the debug query log)."""
    out = {"q": 0}

    def count(execute, sql, params, many, context):
        out["q"] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        start = time.perf_counter()
        yield out
        out["s"] = time.perf_counter() - start


def verdict(ok):
    return "PASS" if ok else "FAIL"


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--orders", type=int, default=500, help="orders per side (bulk, one by one)")
        parser.add_argument("--labels", type=int, default=LABELS, dest="n_labels", help="labels in the one print")

    def handle(self, *args, orders, n_labels, **options):
        n = orders
        one, five, _ = os.getloadavg()
        self.stdout.write(f"bench_fulfilment on {connection.vendor}; {n} orders a side; load {one:.2f}/{five:.2f} "
                          f"on {os.cpu_count()} CPUs")
        shop = self._shop()
        actor = Actor.policy("bench")
        bulk_ids, single_ids = self._orders(shop, n), self._orders(shop, n)
        # Warm-up, not timed: the shop's first order awaiting collection creates its counter row
        # (two statements, once per shop and status), which neither side should pay.
        warm = self._orders(shop, 1)
        actions.arrange_orders(shop=shop, order_ids=warm, actor=actor, handover="DROP_OFF", dropoff_point="SCX-DP-001")
        actions.mark_orders_ready(shop=shop, order_ids=warm, actor=actor)

        with measured() as arrange_bulk, transaction.atomic():
            r = actions.arrange_orders(shop=shop, order_ids=bulk_ids, actor=actor, handover="DROP_OFF",
                                       dropoff_point="SCX-DP-001")
        assert len(r.done) == n, r.summary("arranged")
        with measured() as ready_bulk, transaction.atomic():
            r = actions.mark_orders_ready(shop=shop, order_ids=bulk_ids, actor=actor)
        assert len(r.done) == n, r.summary("ready")

        singles = list(Order.objects.filter(pk__in=single_ids).order_by("pk"))
        with measured() as arrange_one:
            for order in singles:
                actions.arrange_platform_shipment(order=order, actor=actor, handover="DROP_OFF",
                                                  dropoff_point="SCX-DP-001")
        with measured() as ready_one:
            for order in singles:
                actions.mark_all_ready(order=order, actor=actor)
        moved = Order.objects.filter(pk__in=bulk_ids + single_ids, status=Order.Status.AWAITING_COLLECTION).count()
        assert moved == 2 * n, moved

        rows = [("arrange", arrange_bulk, arrange_one), ("mark ready", ready_bulk, ready_one),
                ("both", {"s": arrange_bulk["s"] + ready_bulk["s"], "q": max(arrange_bulk["q"], ready_bulk["q"])},
                 {"s": arrange_one["s"] + ready_one["s"], "q": arrange_one["q"] + ready_one["q"]})]
        self.stdout.write(f"\n{'':12}{'bulk queries':>14}{'bulk ms':>10}{'one-by-one queries':>20}"
                          f"{'one-by-one ms':>15}{'speed-up':>10}")
        for name, bulk, single in rows:
            self.stdout.write(f"{name:12}{bulk['q']:>14}{bulk['s'] * 1000:>10.1f}{single['q']:>20}"
                              f"{single['s'] * 1000:>15.1f}{single['s'] / bulk['s']:>9.1f}x")
        worst_q = max(arrange_bulk["q"], ready_bulk["q"])
        speedup = rows[2][2]["s"] / rows[2][1]["s"]
        self.stdout.write(f"bulk queries per action <= {MAX_BULK_QUERIES}: {worst_q} {verdict(worst_q <= MAX_BULK_QUERIES)}")
        self.stdout.write(f"speed-up >= {MIN_SPEEDUP:.0f}x: {speedup:.1f}x {verdict(speedup >= MIN_SPEEDUP)}")

        packages = list(Package.objects.filter(shop=shop).select_related("order").order_by("pk")[:n_labels])
        self.stdout.write(f"\nprint of {len(packages)} labels in one document (record + read + render):")
        for size in (PrintJob.Size.FOUR_BY_SIX, PrintJob.Size.A4, PrintJob.Size.ZPL):
            with measured() as pr, transaction.atomic():
                job = actions.record_print(shop=shop, packages=packages, kind="label", size=size, actor=actor)
                document = labels.render(labels.packages_for_print(Package.objects.filter(pk__in=[p.pk for p in packages])),
                                         kind=job.kind, size=job.size)
            self.stdout.write(f"  {size:4} {pr['s'] * 1000:8.0f} ms  {pr['q']:3} queries  {len(document) / 1024:8.0f} KiB")

        orders_qs = Order.objects.filter(pk__in=bulk_ids)
        with measured() as pick:
            document = picklist.pick_list(shop, orders_qs)
        self.stdout.write(f"\npick list of {n} orders: {pick['s'] * 1000:.0f} ms, {pick['q']} queries, "
                          f"{len(document) / 1024:.0f} KiB")
        with measured() as pack:
            document = picklist.packing_lists(shop, orders_qs)
        self.stdout.write(f"packing lists of {n} orders: {pack['s'] * 1000:.0f} ms, {pack['q']} queries, "
                          f"{len(document) / 1024:.0f} KiB")

    def _shop(self):
        stamp = timezone.now().strftime("%Y%m%d%H%M%S%f")
        shop = Shop.objects.create(name=f"Bench fulfilment {stamp}", slug=f"bench-ful-{stamp}"[:50])
        SKU.objects.bulk_create(SKU(shop=shop, code=f"BF-{i:03d}", name=f"Bench item {i}", price=Decimal("9.90"),
                                    stock_on_hand=1_000_000) for i in range(40))
        stock.reconcile(SKU.objects.filter(shop=shop))  # bulk_create skips save(): put it in the default warehouse
        return shop

    def _orders(self, shop, n):
        """n ship-by-platform orders awaiting shipment, made by the storefront's and confirm's actions."""
        skus = list(SKU.objects.filter(shop=shop).order_by("pk"))
        placed = timezone.now() - timedelta(hours=2)
        storefront = Actor.storefront()
        ids = []
        base = Order.objects.filter(shop=shop).count()
        for i in range(n):
            k = base + i
            order = order_actions.receive_order(
                shop=shop, number=f"BF{shop.pk:05d}{k:06d}", placed_at=placed, paid_at=placed + timedelta(minutes=5),
                currency=shop.currency, shipping_model="PLATFORM",
                buyer={"name": f"Buyer {k}", "email": f"b{k}@example.com", "phone": "+15550001234",
                       "address": {"line1": f"{k} Market St", "line2": "", "city": "Springfield", "region": "IL",
                                   "postal_code": "62701", "country": "US"}},
                lines=[(skus[(k + j * 7) % len(skus)], 1 + (k + j) % 3, Decimal("9.90")) for j in range(1 + k % 3)])
            ids.append(order.pk)
        result = order_actions.confirm_orders(shop=shop, order_ids=ids, actor=storefront)
        assert len(result.done) == n, result.summary("confirmed")
        return ids
