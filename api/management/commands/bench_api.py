"""Benchmark of the seller API on the bench shop generate_orders made, side by side with the
HTML list it stands beside: a page of 100 orders (page 1 and at 90% depth) through
GET /api/v1/orders and through Manage Orders, interleaved in one run, then a bulk confirm of
500 orders through POST /api/v1/orders/confirm (queries and time).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sc_bench python manage.py generate_orders --orders 1000000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sc_bench python manage.py bench_api

Adds 500 paid orders to the bench shop on each run (they end confirmed) and one API key.
Webhook fan-out is not measured: webhooks are not built yet.
"""

import json
import time
import warnings

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse

from orders.management.commands.bench_orders import (
    BENCH_SHOP,
    BENCH_USER,
    CONFIRM_SKU,
    load,
    paid_orders,
    pct,
)
from orders.models import Order
from shops.models import SKU, Shop

from ... import keys
from ...pages import next_token

DEPTH = 0.9
PAGE = 100
BULK = 500
# Targets (issue "Seller API"): fixed query count; API p50 <= 1.5 x the HTML list's page 1; bulk <= 12 queries.
MAX_OVER_HTML = 1.5
MAX_BULK_QUERIES = 12


class Command(BaseCommand):
    help = "Benchmark GET /api/v1/orders against the Manage Orders page, and a 500-order bulk confirm through the API."

    def add_arguments(self, parser):
        parser.add_argument("--repeat", type=int, default=30)

    def handle(self, *args, repeat, **options):
        shop = Shop.objects.filter(slug=BENCH_SHOP).first()
        user = get_user_model().objects.filter(username=BENCH_USER).first()
        if shop is None or user is None:
            raise CommandError(f"No {BENCH_SHOP} shop or {BENCH_USER} user: run generate_orders first.")
        warnings.filterwarnings("ignore", message="No directory at")
        _, key = keys.create_key(shop=shop, name="bench_api", scopes=["orders:read", "orders:write"])
        auth = {"Authorization": f"Bearer {key}"}
        w = self.stdout.write
        failures = []
        with override_settings(DEBUG=False, API_RATE_LIMIT_PER_MINUTE=10**9):
            html, api = Client(), Client()
            html.force_login(user)
            total = Order.objects.for_shop(shop).count()
            w(f"{connection.vendor}, shop {shop.slug}: {total} orders of {Order.objects.count()}; --repeat {repeat}; "
              f"DEBUG off; times in ms; {load()}")
            row = Order.objects.for_shop(shop).order_by("-placed_at", "-pk").only("pk", "placed_at")[int(total * DEPTH)]
            html_url = reverse("orders:list", kwargs={"shop": shop.slug})
            from orders import listing
            cases = [
                ("HTML page 1", html, f"{html_url}?size={PAGE}", {}),
                ("API page 1", api, f"/api/v1/orders?page_size={PAGE}", auth),
                ("HTML at 90%", html, f"{html_url}?size={PAGE}&after={listing._encode(row, 'placed_at')}", {}),
                ("API at 90%", api, f"/api/v1/orders?page_size={PAGE}&page_token={next_token(row.placed_at, row.pk)}",
                 auth),
            ]
            times = {name: [] for name, *_ in cases}
            queries = {name: set() for name, *_ in cases}
            for name, client, url, headers in cases:  # warm up
                assert client.get(url, headers=headers).status_code == 200, (name, url)
            for _ in range(repeat):  # interleaved, so drift hits every case alike
                for name, client, url, headers in cases:
                    with CaptureQueriesContext(connection) as q:
                        started = time.perf_counter()
                        response = client.get(url, headers=headers)
                        times[name].append(time.perf_counter() - started)
                    assert response.status_code == 200
                    queries[name].add(len(q))
            w("")
            w(f"Orders, newest first, {PAGE} per page. Targets: fixed queries; API p50 <= {MAX_OVER_HTML} x HTML page 1 p50")
            header = f"{'case':<14} {'queries':>8} {'p50':>8} {'p95':>8} {'/ HTML p1':>10}  result"
            w(header)
            w("-" * len(header))
            base = pct(times["HTML page 1"], 50)
            for name, *_ in cases:
                p50, p95 = pct(times[name], 50), pct(times[name], 95)
                ratio = p50 / base
                fixed = len(queries[name]) == 1
                ok = fixed and (not name.startswith("API") or ratio <= MAX_OVER_HTML)
                if not ok:
                    failures.append(name)
                w(f"{name:<14} {'/'.join(map(str, sorted(queries[name]))):>8} {p50 * 1000:8.2f} {p95 * 1000:8.2f} "
                  f"{ratio:10.2f}  {'PASS' if ok else 'FAIL'}")

            sku, _ = SKU.objects.get_or_create(shop=shop, code=CONFIRM_SKU,
                                               defaults={"name": "Bench confirm", "price": 10, "stock_on_hand": 0})
            SKU.objects.filter(pk=sku.pk).update(stock_on_hand=sku.reserved + BULK)
            ids = paid_orders(shop, SKU.objects.get(pk=sku.pk), BULK)
            numbers = list(Order.objects.filter(pk__in=ids).values_list("number", flat=True))
            body = json.dumps({"numbers": numbers})
            with CaptureQueriesContext(connection) as q:
                started = time.perf_counter()
                response = api.post("/api/v1/orders/confirm", body, content_type="application/json", headers=auth)
                took = time.perf_counter() - started
            done = len(response.json()["done"])
            ok = response.status_code == 200 and done == BULK and len(q) <= MAX_BULK_QUERIES
            if not ok:
                failures.append("bulk confirm")
            w("")
            w(f"Bulk confirm of {BULK} through the API: {done} confirmed, {len(q)} queries (target <= {MAX_BULK_QUERIES}), "
              f"{took * 1000:.0f} ms  {'PASS' if ok else 'FAIL'}")
        w("")
        w(load())
        w(f"FAILED: {', '.join(failures)}" if failures else "all targets PASS")
