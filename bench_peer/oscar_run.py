"""The Oscar side of bench_orders --peer oscar, run as its own process with bench_peer.oscar_settings:

    python -m bench_peer.oscar_run --data orders.csv --cases cases.json --repeat 30

Loads the orders of the CSV that bench_orders wrote (the bench shop's orders: number, status, time
placed, total, buyer, first line's SKU) into Oscar's tables, those its database does not hold yet, then times Oscar's dashboard order list as a staff user, the cases taking turns in each round
(page 1, the page at 90 %, a status, an order number, a SKU, the CSV export of a date range), and
prints one JSON line of figures for bench_orders to show beside its own."""

import argparse
import csv
import json
import math
import os
import sys
import time
import warnings
from datetime import datetime
from decimal import Decimal


def pct(values, p):
    ordered = sorted(values)
    return ordered[max(math.ceil(p / 100 * len(ordered)) - 1, 0)]


def load(path):
    from django.db import transaction
    from oscar.core.loading import get_model

    Order, Line = get_model("order", "Order"), get_model("order", "Line")
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    # What an earlier run loaded stays: only the orders added to the shop since (bench_orders adds
    # some on each run) are inserted, and any Oscar holds that the shop no longer has are removed.
    existing = set(Order.objects.values_list("number", flat=True))
    wanted = {r["number"] for r in rows}
    gone = existing - wanted
    new = [r for r in rows if r["number"] not in existing]
    if not new and not gone:
        return len(rows), False
    with transaction.atomic():
        if gone:
            Line.objects.filter(order__number__in=gone).delete()
            Order.objects.filter(number__in=gone).delete()
        for start in range(0, len(new), 5000):
            chunk = new[start:start + 5000]
            orders = Order.objects.bulk_create(
                Order(number=r["number"], currency=r["currency"], total_incl_tax=Decimal(r["total"]),
                      total_excl_tax=Decimal(r["total"]), shipping_incl_tax=0, shipping_excl_tax=0,
                      status=r["status"], guest_email=r["email"], date_placed=datetime.fromisoformat(r["placed_at"]),
                      shipping_method="Standard", shipping_code="standard")
                for r in chunk
            )
            Line.objects.bulk_create(
                Line(order=o, partner_name="Bench", partner_sku=r["sku"], title=r["sku"], upc=r["sku"],
                     quantity=int(r["quantity"]), line_price_incl_tax=Decimal(r["total"]),
                     line_price_excl_tax=Decimal(r["total"]), line_price_before_discounts_incl_tax=Decimal(r["total"]),
                     line_price_before_discounts_excl_tax=Decimal(r["total"]), num_allocated=0, status=r["status"])
                for o, r in zip(orders, chunk, strict=True)
            )
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return len(rows), True


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--cases", required=True, help="JSON: {name: query string of /dashboard/orders/}")
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench_peer.oscar_settings")
    import django

    django.setup()
    warnings.filterwarnings("ignore")
    from django.contrib.auth import get_user_model
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from oscar.core.loading import get_model

    started = time.perf_counter()
    count, loaded = load(args.data)
    load_s = time.perf_counter() - started
    User = get_user_model()
    user = User.objects.filter(username="bench").first() or User.objects.create_user(
        "bench", "bench@example.com", "bench", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(user)
    cases = json.loads(open(args.cases).read())
    # Oscar pages with ?page=N; the 90 % page of the whole list, as our deep page.
    per_page = 50
    urls = {}
    for name, query in cases.items():
        query = query.replace("{deep_page}", str(max(int(count * 0.9) // per_page, 1)))
        urls[name] = f"/dashboard/orders/{'?' + query if query else ''}"
    info = {}
    for name, url in urls.items():
        response = client.get(url)
        reset_queries()
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        body = response.content
        info[name] = {"url": url, "status": response.status_code, "queries": len(captured), "bytes": len(body)}
        if response.status_code not in (200, 302):
            raise SystemExit(f"{url} answered {response.status_code}")
    times = {name: [] for name in urls}
    for _ in range(args.repeat):
        for name, url in urls.items():
            started = time.perf_counter()
            client.get(url)
            times[name].append(time.perf_counter() - started)
    for name in urls:
        info[name].update(p50=pct(times[name], 50), p95=pct(times[name], 95))
    Order = get_model("order", "Order")
    print(json.dumps({"oscar": __import__("oscar").get_version(), "orders": Order.objects.count(), "loaded": loaded,
                      "load_s": load_s, "cases": info}))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
