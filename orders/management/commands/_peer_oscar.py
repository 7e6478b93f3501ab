"""bench_orders --peer oscar: the bench shop's orders copied into django-oscar's tables (its own
database), and the same five reads timed on both sides: page 1, the page at 90 %, one status, a
search (an order number, a SKU) and the CSV export of one day. Oscar runs in its own process with
bench_peer.oscar_settings, so nothing here imports it; our side is timed before and after it."""

import csv
import importlib.util
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import CommandError
from django.db import connection, reset_queries
from django.db.models import OuterRef, Subquery
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.http import urlencode

from orders import listing
from orders.models import Order, OrderLine

DEPTH = 0.9


def pct(values, p):
    ordered = sorted(values)
    return ordered[max(math.ceil(p / 100 * len(ordered)) - 1, 0)]


def body(response):
    return b"".join(response.streaming_content) if response.streaming else response.content


def dump(shop, path):
    """The shop's orders as CSV for bench_peer.oscar_run, with each order's first line."""
    first = OrderLine.objects.filter(order=OuterRef("pk")).order_by("pk")
    rows = (Order.objects.for_shop(shop).order_by("placed_at", "pk")
            .annotate(sku=Subquery(first.values("sku_code")[:1]), quantity=Subquery(first.values("quantity")[:1]))
            .values_list("number", "status", "placed_at", "total", "currency", "buyer_email", "sku", "quantity"))
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["number", "status", "placed_at", "total", "currency", "email", "sku", "quantity"])
        for number, status, placed, total, currency, email, sku, quantity in rows.iterator(chunk_size=5000):
            writer.writerow([number, status, placed.isoformat(), total, currency, email, sku or "", quantity or 1])


def cases(shop):
    """(name, our query string, Oscar's query string) of each timed read."""
    orders = Order.objects.for_shop(shop).order_by("-placed_at", "-pk")
    total = orders.count()
    deep = orders.only("pk", "placed_at")[int(total * DEPTH)]
    middle = orders[total // 2]
    line = OrderLine.objects.filter(order=middle).order_by("pk").first()
    day = middle.placed_at.astimezone(shop.tzinfo).date().isoformat()
    status = Order.Status.AWAITING_SHIPMENT
    return [
        ("page 1", "", ""),
        ("at 90%", urlencode({"after": listing._encode(deep, "placed_at")}), "page={deep_page}"),
        (f"status {status.label}", urlencode({"tab": status}), urlencode({"status": status})),
        ("search: an order number", urlencode({"q": middle.number}), urlencode({"order_number": middle.number})),
        ("search: a SKU", urlencode({"q": line.sku_code}), urlencode({"partner_sku": line.sku_code})),
        (f"CSV of {day}", urlencode({"placed_from": day, "placed_to": day}),
         urlencode({"response_format": "csv", "date_from": day, "date_to": day})),
    ]


def ours(command, client, shop, named_cases):
    list_url = reverse("orders:list", kwargs={"shop": shop.slug})
    export_url = reverse("orders:export", kwargs={"shop": shop.slug})
    urls = {name: f"{export_url if name.startswith('CSV') else list_url}{'?' + q if q else ''}"
            for name, q, _ in named_cases}
    info = {}
    for name, url in urls.items():
        body(client.get(url))
        reset_queries()
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
            content = body(response)
        if response.status_code != 200:
            raise CommandError(f"GET {url} answered {response.status_code}")
        info[name] = {"queries": len(captured), "status": response.status_code, "bytes": len(content)}
    times = {name: [] for name in urls}
    for _ in range(command.repeat):
        for name, url in urls.items():
            started = time.perf_counter()
            body(client.get(url))
            times[name].append(time.perf_counter() - started)
    for name in urls:
        info[name].update(p50=pct(times[name], 50), p95=pct(times[name], 95))
    return info


def oscar_side_by_side(command, client, shop):
    w = command.stdout.write
    if importlib.util.find_spec("oscar") is None:
        raise CommandError("django-oscar is not installed: pip install -e '.[bench]' (a benchmark-only extra).")
    db = connection.settings_dict
    default_url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}_oscar"
    oscar_url = os.environ.get("OSCAR_DATABASE_URL", default_url)
    named = cases(shop)
    w("")
    w(f"Peer: django-oscar's dashboard order list on the same orders, its own database ({oscar_url.rsplit('/', 1)[-1]}); "
      f"--repeat {command.repeat}; ours timed before and after Oscar's process; times in ms")
    with tempfile.TemporaryDirectory(prefix="bench-peer-") as tmp:
        data, case_file = Path(tmp) / "orders.csv", Path(tmp) / "cases.json"
        started = time.perf_counter()
        dump(shop, data)
        w(f"  {Order.objects.for_shop(shop).count()} orders of {shop.slug} written for Oscar in "
          f"{time.perf_counter() - started:.1f} s (one line each on Oscar's side: the order's first)")
        case_file.write_text(json.dumps({name: oscar for name, _, oscar in named}))
        before = ours(command, client, shop, named)
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench_peer.oscar_settings", "OSCAR_DATABASE_URL": oscar_url,
               "PYTHONPATH": str(settings.BASE_DIR)}
        result = subprocess.run(
            [sys.executable, "-m", "bench_peer.oscar_run", "--data", str(data), "--cases", str(case_file),
             "--repeat", str(command.repeat)],
            env=env, cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=3600,
        )
        if result.returncode != 0:
            raise CommandError("Oscar's side failed (migrate its database first: DJANGO_SETTINGS_MODULE="
                               "bench_peer.oscar_settings python -m django migrate):\n" + result.stderr[-3000:])
        peer = json.loads(result.stdout.strip().splitlines()[-1])
        after = ours(command, client, shop, named)
    w(f"  Oscar {peer['oscar']}: {peer['orders']} orders"
      + (f" (loaded this run in {peer['load_s']:.1f} s)" if peer["loaded"] else " (loaded by an earlier run)"))
    header = (f"{'case':<26} {'ours q':>6} {'ours p50':>9} {'ours p95':>9} {'(after)':>8} {'Oscar q':>7} "
              f"{'Oscar p50':>9} {'Oscar p95':>9} {'ours/Oscar p50':>14}  notes")
    w(header)
    w("-" * len(header))
    for name, _, _ in named:
        o, a, p = before[name], after[name], peer["cases"][name]
        mine = min(o["p50"], a["p50"])
        notes = f"Oscar {p['status']}" + (" (its exact-number redirect)" if p["status"] == 302 else "")
        if name.startswith("CSV"):
            notes += f"; {o['bytes']} bytes ours, {p['bytes']} Oscar's"
        w(f"{name:<26} {o['queries']:>6} {o['p50'] * 1000:>9.2f} {o['p95'] * 1000:>9.2f} {a['p50'] * 1000:>8.2f} "
          f"{p['queries']:>7} {p['p50'] * 1000:>9.2f} {p['p95'] * 1000:>9.2f} {mine / p['p50']:>14.3f}  {notes}")
