"""Benchmark of the carrier tracking feed: events per second through the HTTP endpoint
(gunicorn workers on loopback), single events and batches, and the ingest function alone.

Run it against a database of its own (it adds a "bench-tracking" shop and its events):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sc_bench python manage.py migrate
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sc_bench python manage.py bench_tracking
"""

import http.client
import json
import os
import random
import socket
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone

from orders import actions as order_actions
from seller_center.signing import sign
from shipping import actions, tracking
from shipping.models import Package, TrackingEvent
from shops.models import SKU, Shop

P = Package.Status
ACTOR = order_actions.Actor.policy("bench")
TAGS = [("InTransit", "InTransit_003")] * 8 + [("OutForDelivery", "OutForDelivery_001"), ("AttemptFail", "AttemptFail_001")]


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Command(BaseCommand):
    help = "Events/s of the carrier feed over HTTP (single and batched) and µs/event of the ingest function."

    def add_arguments(self, parser):
        parser.add_argument("--packages", type=int, default=300, help="Packages in transit to send events for.")
        parser.add_argument("--single", type=int, default=4000, help="Single-event requests.")
        parser.add_argument("--batches", type=int, default=60, help="Batched requests.")
        parser.add_argument("--batch-size", type=int, default=500)
        parser.add_argument("--workers", type=int, default=max(2, min(8, (os.cpu_count() or 2))))
        parser.add_argument("--clients", type=int, default=16, help="Concurrent client threads.")
        parser.add_argument("--duplicates", type=float, default=0.1, help="Share of events sent twice.")
        parser.add_argument("--ingest-events", type=int, default=20000, help="Events for the in-process ingest timing.")
        parser.add_argument("--async-commit", action="store_true",
                            help="Run with CARRIER_FEED_ASYNC_COMMIT on (PostgreSQL: commits do not wait for the WAL flush).")

    def handle(self, *args, **opt):
        if connection.vendor == "sqlite" and ":memory:" in str(connection.settings_dict["NAME"]):
            raise CommandError("bench_tracking needs a database file or server that gunicorn can share.")
        # As in production: DEBUG would record every query's SQL and skew the in-process timing.
        settings.DEBUG = False
        self.rng = random.Random(7)
        self.async_commit = opt["async_commit"]
        settings.CARRIER_FEED_ASYNC_COMMIT = self.async_commit
        self.clock = timezone.now()
        packages = self.setup(opt["packages"])
        self.stdout.write(f"database: {connection.vendor}; {len(packages)} packages in transit; "
                          f"{opt['workers']} gunicorn workers, {opt['clients']} client threads; "
                          f"commits {'asynchronous (CARRIER_FEED_ASYNC_COMMIT)' if self.async_commit else 'durable (default)'}")

        # 1. The ingest function alone, in this process.
        per_event = self.bench_ingest(packages, opt["ingest_events"], opt["batch_size"])
        self.stdout.write(f"ingest function alone: {per_event:.1f} µs/event "
                          f"({1e6 / per_event:,.0f} events/s, batches of {opt['batch_size']})")

        # 2. HTTP through gunicorn.
        port = _free_port()
        server = self.start_gunicorn(port, opt["workers"])
        try:
            run = uuid.uuid4().hex[:8]
            # Calibration: the same harness on GET /healthz (one SELECT 1), the ceiling of this machine.
            rate, codes, elapsed = self.fire(port, [None] * min(opt["single"], 1000), opt["clients"], min(opt["single"], 1000))
            self.stdout.write(f"baseline GET /healthz: {rate:,.0f} requests/s (responses {codes})")
            singles = self.make_events(packages, opt["single"], f"s{run}")
            bodies = [json.dumps(e).encode() for e in self.with_duplicates(singles, opt["duplicates"])]
            rate, codes, elapsed = self.fire(port, bodies, opt["clients"], len(bodies))
            stored = TrackingEvent.objects.filter(event_id__startswith=f"s{run}-").count()
            self.report("single events", rate, codes, elapsed, len(bodies), len(singles), stored, target=500)

            events = self.make_events(packages, opt["batches"] * opt["batch_size"], f"b{run}")
            sent = self.with_duplicates(events, opt["duplicates"])
            size = opt["batch_size"]
            bodies = [json.dumps({"events": sent[i:i + size]}).encode() for i in range(0, len(sent), size)]
            rate, codes, elapsed = self.fire(port, bodies, opt["clients"], len(sent))
            stored = TrackingEvent.objects.filter(event_id__startswith=f"b{run}-").count()
            self.report(f"batches of {size}", rate, codes, elapsed, len(sent), len(events), stored, target=10_000)
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()

    # --- setup ------------------------------------------------------------------------------

    def setup(self, n):
        shop, _ = Shop.objects.get_or_create(slug="bench-tracking", defaults={"name": "Bench tracking", "currency": "USD"})
        sku, _ = SKU.objects.get_or_create(shop=shop, code="BENCH", defaults={"name": "Bench item", "price": Decimal("1.00"),
                                                                             "stock_on_hand": 10**9})
        have = list(Package.objects.filter(shop=shop, status__in=[P.IN_TRANSIT, P.OUT_FOR_DELIVERY, P.FAILED_ATTEMPT]))
        if len(have) < n:
            self.stdout.write(f"creating {n - len(have)} orders in transit through the actions ...")
            now = timezone.now()
            for i in range(n - len(have)):
                order = order_actions.receive_order(
                    shop=shop, number=f"BENCH-{uuid.uuid4().hex[:12]}", placed_at=now - timedelta(hours=2), paid_at=now,
                    currency="USD", shipping_model="PLATFORM", lines=[(sku, 1, Decimal("1.00"))],
                    buyer={"name": f"Bench {i}", "email": "b@example.com",
                           "address": {"line1": "1 Bench St", "city": "Loop", "country": "US"}},
                )
                order_actions.confirm_order(order=order, actor=ACTOR)
                (pkg,) = actions.arrange_platform_shipment(order=order, actor=ACTOR, handover="DROP_OFF",
                                                           dropoff_point="SCX-DP-001")
                pkg = actions.mark_ready(package=pkg, actor=ACTOR)
                tracking.receive([{"event_id": f"bench-start-{pkg.pk}", "carrier": pkg.carrier,
                                   "tracking_number": pkg.tracking_number, "tag": "InTransit", "subtag": "",
                                   "occurred_at": now.isoformat(), "location": "", "message": ""}])
            have = list(Package.objects.filter(shop=shop, status__in=[P.IN_TRANSIT, P.OUT_FOR_DELIVERY, P.FAILED_ATTEMPT]))
        return have[:n]

    def make_events(self, packages, n, prefix):
        events = []
        for i in range(n):
            pkg = packages[i % len(packages)]
            tag, subtag = self.rng.choice(TAGS)
            self.clock += timedelta(milliseconds=1)
            events.append({"event_id": f"{prefix}-{i}", "carrier": pkg.carrier, "tracking_number": pkg.tracking_number,
                           "tag": tag, "subtag": subtag, "occurred_at": self.clock.isoformat(),
                           "location": "Regional hub", "message": "bench"})
        return events

    def with_duplicates(self, events, share):
        dups = self.rng.sample(events, int(len(events) * share))
        out = events + dups
        self.rng.shuffle(out)
        return out

    # --- measuring ---------------------------------------------------------------------------

    def bench_ingest(self, packages, n, size):
        events = self.make_events(packages, n, f"i{uuid.uuid4().hex[:8]}")
        start = time.perf_counter()
        for i in range(0, n, size):
            tracking.receive(events[i:i + size])
        return (time.perf_counter() - start) / n * 1e6

    def start_gunicorn(self, port, workers):
        env = {**os.environ, "DEBUG": "false", "SECURE_SSL_REDIRECT": "false", "LOG_LEVEL": "WARNING",
               "DJANGO_SETTINGS_MODULE": "shipping.bench_settings" if self.async_commit else "seller_center.settings",
               "CARRIER_SECRET": settings.CARRIER_SECRET}
        cmd = [sys.executable, "-m", "gunicorn", "seller_center.wsgi:application", "-w", str(workers),
               "-b", f"127.0.0.1:{port}", "--log-level", "warning", "--backlog", "2048", "--timeout", "120"]
        server = subprocess.Popen(cmd, env=env, cwd=settings.BASE_DIR)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    # Warm every worker (imports, DB connection) before timing.
                    self.fire(port, [b"{}"] * workers * 4, workers, 0)
                    return server
            except OSError:
                time.sleep(0.2)
        server.terminate()
        raise CommandError("gunicorn did not start")

    def fire(self, port, bodies, clients, events):
        secret = settings.CARRIER_SECRET
        signed = [(b, sign(b, secret) if b is not None else "") for b in bodies]

        def post(item):
            body, signature = item
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            if body is None:
                conn.request("GET", "/healthz", headers={"Host": "127.0.0.1"})
            else:
                conn.request("POST", "/api/carriers/events/", body,
                             {"Content-Type": "application/json", "X-Signature": signature, "Host": "127.0.0.1"})
            response = conn.getresponse()
            response.read()
            conn.close()
            return response.status

        start = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            codes = list(pool.map(post, signed))
        elapsed = time.perf_counter() - start
        counts = {}
        for c in codes:
            counts[c] = counts.get(c, 0) + 1
        return (events / elapsed if elapsed else 0), counts, elapsed

    def report(self, label, rate, codes, elapsed, sent, unique, stored, *, target):
        ok = "meets" if rate >= target else "BELOW"
        dup_ok = "every duplicate stored once" if stored == unique else f"MISMATCH: {stored} stored for {unique} unique"
        self.stdout.write(f"HTTP {label}: {rate:,.0f} events/s ({sent} events incl. {sent - unique} repeats in "
                          f"{elapsed:.2f} s; responses {dict(sorted(codes.items()))}) — {ok} the {target:,}/s target; {dup_ok}")
