"""Benchmark of the seller API on the bench shop generate_orders made, side by side with the
HTML list it stands beside: a page of 100 orders (page 1 and at 90% depth) through
GET /api/v1/orders and through Manage Orders, interleaved in one run, then a bulk confirm of
500 orders through POST /api/v1/orders/confirm (queries and time) without and with two webhooks
listening, and the fan-out of the 1,000 deliveries those make to a local receiver.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sc_bench python manage.py generate_orders --orders 1000000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sc_bench python manage.py bench_api

Adds 500 paid orders per bulk round to the bench shop (they end confirmed), one API key and two
webhooks (removed at the end; their delivery rows stay, as every delivery log does).
"""

import json
import subprocess
import sys
import time
import warnings

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse
from django.utils import timezone

from orders.management.commands.bench_orders import (
    BENCH_SHOP,
    BENCH_USER,
    CONFIRM_SKU,
    load,
    paid_orders,
    pct,
)
from orders.models import Order
from shops import stock
from shops.models import SKU, Shop

from ... import keys, outbox
from ...models import Webhook
from ...pages import next_token

DEPTH = 0.9
PAGE = 100
BULK = 500
# Targets (issue "Seller API"): fixed query count; API p50 <= 1.5 x the HTML list's page 1; bulk <= 12 queries.
MAX_OVER_HTML = 1.5
MAX_BULK_QUERIES = 12
MAX_WITH_HOOKS = 1.3
MIN_DELIVERIES_PER_S = 500

# A receiver that answers 204 at once, kept-alive, in a process of its own (as a real one would be).
RECEIVER = """
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *args):
        pass
server = ThreadingHTTPServer(("127.0.0.1", 0), H)
print(server.server_port, flush=True)
server.serve_forever()
"""


class Command(BaseCommand):
    help = "Benchmark GET /api/v1/orders against the Manage Orders page, and a 500-order bulk confirm through the API."

    def add_arguments(self, parser):
        parser.add_argument("--repeat", type=int, default=30)
        parser.add_argument("--rounds", type=int, default=3, help="bulk confirms of 500 with and without webhooks")

    def handle(self, *args, repeat, rounds, **options):
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

            failures += self.bulk_and_fan_out(shop, api, auth, rounds=rounds)
        w("")
        w(load())
        w(f"FAILED: {', '.join(failures)}" if failures else "all targets PASS")

    def bulk_confirm(self, shop, api, auth):
        """(seconds, queries, confirmed) of one POST /orders/confirm of BULK fresh paid orders."""
        sku, _ = SKU.objects.get_or_create(shop=shop, code=CONFIRM_SKU,
                                           defaults={"name": "Bench confirm", "price": 10, "stock_on_hand": 0})
        # A margin over the low-stock line: crossing it is one more INSERT (stock.low), once, which
        # bench_orders keeps out of its figures too.
        SKU.objects.filter(pk=sku.pk).update(stock_on_hand=sku.reserved + BULK + settings.STOCK_LOW_THRESHOLD)
        stock.reconcile(SKU.objects.filter(pk=sku.pk))  # into the default warehouse, where the orders reserve
        ids = paid_orders(shop, SKU.objects.get(pk=sku.pk), BULK)
        body = json.dumps({"numbers": list(Order.objects.filter(pk__in=ids).values_list("number", flat=True))})
        with CaptureQueriesContext(connection) as q:
            started = time.perf_counter()
            response = api.post("/api/v1/orders/confirm", body, content_type="application/json", headers=auth)
            took = time.perf_counter() - started
        assert response.status_code == 200, response.content
        return took, len(q), len(response.json()["done"])

    def bulk_and_fan_out(self, shop, api, auth, *, rounds):
        """Bulk confirms of 500 without and with two webhooks listening (interleaved rounds), and the
        fan-out of each "with" round's 1,000 deliveries to a receiver in its own process."""
        w, failures = self.stdout.write, []
        receiver = subprocess.Popen([sys.executable, "-c", RECEIVER], stdout=subprocess.PIPE, text=True)
        try:
            port = int(receiver.stdout.readline())
            with override_settings(WEBHOOKS_ALLOW_PRIVATE_URLS=True):
                outbox.run_once()  # nothing of earlier runs left to send
                hooks = [outbox.create_webhook(shop=shop, url=f"http://127.0.0.1:{port}/hook/{i}",
                                               events=["order.status_changed"], by="bench_api").pk for i in range(2)]
                runs = {"without": [], "with": []}
                fan_out = []
                for round_ in range(rounds):
                    # Alternate which goes first, so neither pays a round's warm-up every time.
                    for mode in ("without", "with") if round_ % 2 == 0 else ("with", "without"):
                        Webhook.objects.filter(pk__in=hooks).update(
                            removed_at=None if mode == "with" else timezone.now())
                        runs[mode].append(self.bulk_confirm(shop, api, auth))
                        started = time.perf_counter()
                        sequenced = outbox.sequence()
                        sequenced_at = time.perf_counter()
                        result = outbox.run_once()
                        done = time.perf_counter()
                        if mode == "with":
                            fan_out.append((sequenced, sequenced_at - started, result.sent, result.succeeded,
                                            done - sequenced_at))
                Webhook.objects.filter(pk__in=hooks).update(removed_at=timezone.now())
        finally:
            receiver.terminate()
            receiver.wait()
        w("")
        w(f"Bulk confirm of {BULK} through the API, {rounds} rounds each, interleaved (first one, then the other first). Targets: <= {MAX_BULK_QUERIES} "
          f"queries; with 2 webhooks p50 <= {MAX_WITH_HOOKS} x without")
        header = f"{'case':<22} {'queries':>8} {'p50 ms':>8} {'max ms':>8} {'ratio':>6}  result"
        w(header)
        w("-" * len(header))
        base = pct([t for t, *_ in runs["without"]], 50)
        for mode in ("without", "with"):
            took = [t for t, *_ in runs[mode]]
            queries = sorted({n for _, n, _ in runs[mode]})
            confirmed = all(done == BULK for *_, done in runs[mode])
            ratio = pct(took, 50) / base
            ok = confirmed and max(queries) <= MAX_BULK_QUERIES and (mode == "without" or ratio <= MAX_WITH_HOOKS)
            if not ok:
                failures.append(f"bulk confirm {mode} webhooks")
            w(f"{mode + ' webhooks':<22} {'/'.join(map(str, queries)):>8} {pct(took, 50) * 1000:8.0f} "
              f"{max(took) * 1000:8.0f} {ratio:6.2f}  {'PASS' if ok else 'FAIL'}")
        w("")
        w(f"Webhook fan-out to a local receiver (its own process), one sender with {settings.WEBHOOK_CONCURRENCY} "
          f"threads. Target >= {MIN_DELIVERIES_PER_S} deliveries/s")
        for sequenced, seq_s, sent, ok_n, send_s in fan_out:
            rate = sent / send_s if send_s else 0
            ok = sent == ok_n == 2 * BULK and rate >= MIN_DELIVERIES_PER_S
            if not ok:
                failures.append("fan-out")
            w(f"  {sequenced} events sequenced in {seq_s * 1000:.0f} ms; {sent} deliveries ({ok_n} answered 2xx) in "
              f"{send_s * 1000:.0f} ms = {rate:.0f}/s  {'PASS' if ok else 'FAIL'}")
        return failures
