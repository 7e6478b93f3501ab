"""Fill the database with many orders, fast, for benchmarks.

On PostgreSQL the orders, their lines and their history rows are made by one server-side
INSERT ... SELECT FROM generate_series (data-modifying CTEs), so nothing crosses the wire
per row; elsewhere (SQLite, small N in tests) the same mix is built in Python and
bulk-created in chunks. Either way the status counters are then set from a GROUP BY and
the generated SKUs' reserved stock from the lines of reserving orders, so counters,
stock and history agree with the orders.
"""

import random
import time
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models import Count, OuterRef, Subquery, Sum
from django.utils import timezone

from core.actor import Actor
from core.sql import constant_list
from orders import history
from orders.models import Order, OrderLine, OrderStatusCount
from orders.transitions import HANDED_OVER, PRE_HANDOVER, RESERVING, TO_SHIP
from shops import policy_windows, stock
from shops.models import SKU, Membership, Shop, Warehouse

S = Order.Status
BENCH_SHOP = "bench-main"
BENCH_USER = "bench"
BENCH_PASSWORD = "bench"
SKUS_PER_SHOP = 20
SPARE_STOCK = 500  # available units left on each generated SKU after the reserved ones
NUMBER_DIGITS = 10  # numbers are G0000000001, G0000000002, ...
LOADED_TABLES = ("orders_order", "orders_orderline", "orders_orderevent")
BULK_LOAD_MIN = 50_000  # orders from which dropping and rebuilding indexes pays (PostgreSQL)

# status: (share of orders, youngest and oldest age in hours). Each status is old enough
# for the steps before it (paid within 30 minutes, confirmed 1-4 h later, packed 1-6 h
# later, shipped 6-48 h after confirmation, delivered 1-4 days later, completed after
# the 7-day return window), so every timestamp is in the past and in order.
# UNPAID ages stop inside the P1 payment window (see _mix), so nothing is due at once.
STATUS_MIX = {
    S.UNPAID: (0.03, 0, None),
    S.AWAITING_CONFIRMATION: (0.06, 1, 48),
    S.AWAITING_SHIPMENT: (0.06, 6, 72),
    S.AWAITING_COLLECTION: (0.04, 12, 96),
    S.IN_TRANSIT: (0.08, 72, 240),
    S.DELIVERED: (0.10, 168, 336),
    S.COMPLETED: (0.55, 336, 1440),
    S.CANCELLED: (0.08, 48, 1440),
}
# Which statuses have each timestamp, from the named sets in orders.transitions.
CONFIRMED = TO_SHIP | HANDED_OVER
SHIPPED = HANDED_OVER
DELIVERED = HANDED_OVER - {S.IN_TRANSIT}
OPEN_PAID = PRE_HANDOVER
CITIES = ["Springfield", "Riverton", "Fairview", "Greenville", "Madison"]


def _mix(windows):
    """STATUS_MIX with the UNPAID ages bounded by the current P1 window."""
    mix = dict(STATUS_MIX)
    share, lo, _ = mix[S.UNPAID]
    mix[S.UNPAID] = (share, lo, 0.9 * float(windows["P1"].hours))
    return mix


def sku_code(k):
    return f"GSKU-{k:03d}"


def sku_price(k):
    return Decimal("5.00") + Decimal("2.50") * k


class Command(BaseCommand):
    help = (
        "Generate N orders (one line and one 'generated' history row each) over S shops, in every "
        "status with consistent timestamps, then set the status counters from a GROUP BY and ANALYZE. "
        f"Shop '{BENCH_SHOP}' (owner '{BENCH_USER}', password '{BENCH_PASSWORD}') gets --seller-share "
        "of the orders, the other S-1 shops share the rest. Re-runnable: each run ADDS N orders with "
        "new numbers (continuing after the highest G-number), reusing the shops, SKUs and user; the "
        "counters of the touched shops are recounted. PostgreSQL: set-based SQL (1M orders took ~1 min on "
        "2 idle cores, ~2 min with them busy); when a large run at least doubles the orders, the secondary indexes and foreign keys "
        "of the order, line and history tables are dropped and rebuilt inside the run's transaction. "
        "It locks the order tables against other writers (and, in that case, readers) while it runs: "
        "use it on a benchmark database. Other databases: bulk_create in chunks (small N only)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--orders", type=int, required=True, help="How many orders to add.")
        parser.add_argument("--shops", type=int, default=50, help=f"Shops in all, {BENCH_SHOP} included.")
        parser.add_argument("--seller-share", type=float, default=0.2, help=f"Share of the orders {BENCH_SHOP} gets.")
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args, orders, shops, seller_share, seed, **options):
        if orders < 1 or shops < 1:
            raise CommandError("--orders and --shops must be at least 1.")
        if not 0 <= seller_share <= 1:
            raise CommandError("--seller-share is a fraction between 0 and 1.")
        if shops == 1:
            seller_share = 1.0
        n_bench = round(orders * seller_share)
        started = time.perf_counter()
        windows = policy_windows.current()
        now = timezone.now()
        with transaction.atomic():
            if connection.vendor == "postgresql":
                # Blocks other writers (and a second run) so the recount below is exact.
                with connection.cursor() as cursor:
                    cursor.execute("LOCK TABLE orders_order IN SHARE ROW EXCLUSIVE MODE")
            bench, others = _shops(shops)
            shop_ids = [bench.pk, *[s.pk for s in others]]
            _skus(shop_ids)
            base = _last_number()
            step = time.perf_counter()
            if connection.vendor == "postgresql":
                made, lines = _orders_sql(
                    orders, n_bench, bench.pk, [s.pk for s in others], base, now, windows, seed, log=self.stdout.write
                )
            else:
                made, lines = _orders_python(orders, n_bench, bench.pk, [s.pk for s in others], base, now, windows, seed)
            if made != orders or lines != orders:
                raise CommandError(f"made {made} orders and {lines} lines, expected {orders} of each")
            self.stdout.write(f"orders, lines, history: {orders} each in {time.perf_counter() - step:.1f} s")
            step = time.perf_counter()
            _recount(shop_ids)
            _restock(shop_ids)
            self.stdout.write(f"counters and reserved stock recounted in {time.perf_counter() - step:.1f} s")
        step = time.perf_counter()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "ANALYZE shops_shop, shops_sku, orders_order, orders_orderline, orders_orderevent, "
                    "orders_orderstatuscount"
                )
            self.stdout.write(f"ANALYZE in {time.perf_counter() - step:.1f} s")
        elapsed = time.perf_counter() - started
        self.stdout.write(
            f"generated {orders} orders (G{base + 1:0{NUMBER_DIGITS}d}..G{base + orders:0{NUMBER_DIGITS}d}), "
            f"{n_bench} in {BENCH_SHOP}, over {shops} shops in {elapsed:.1f} s: "
            f"{orders / elapsed:,.0f} orders/s, {3 * orders / elapsed:,.0f} rows/s (order + line + history)"
        )


def _shops(count):
    """The bench shop with its owner, and count-1 other shops; created once, then reused."""
    bench, _ = Shop.objects.get_or_create(slug=BENCH_SHOP, defaults={"name": "Bench main", "currency": "USD"})
    user, created = get_user_model().objects.get_or_create(username=BENCH_USER)
    if created or not user.check_password(BENCH_PASSWORD):
        user.set_password(BENCH_PASSWORD)
        user.save(update_fields=["password"])
    Membership.objects.update_or_create(shop=bench, user=user, defaults={"role": Membership.Role.OWNER})
    slugs = [f"bench-{i:03d}" for i in range(1, count)]
    Shop.objects.bulk_create(
        [Shop(slug=slug, name=f"Bench {slug[6:]}", currency="USD") for slug in slugs], ignore_conflicts=True
    )
    return bench, list(Shop.objects.filter(slug__in=slugs).order_by("slug"))


def _skus(shop_ids):
    SKU.objects.bulk_create(
        [
            SKU(shop_id=shop_id, code=sku_code(k), name=f"Generated item {k:03d}", price=sku_price(k))
            for shop_id in shop_ids
            for k in range(1, SKUS_PER_SHOP + 1)
        ],
        ignore_conflicts=True,
    )


def _last_number():
    """The highest G-number so far, so a new run continues after it."""
    low, high = "G" + "0" * NUMBER_DIGITS, "G" + "9" * NUMBER_DIGITS
    numbers = Order.objects.filter(number__gte=low, number__lte=high).order_by("-number").values_list("number", flat=True)
    for number in numbers[:1000]:
        if len(number) == NUMBER_DIGITS + 1 and number[1:].isdigit():
            return int(number[1:])
    return 0


def _recount(shop_ids):
    """Set every counter of these shops to a GROUP BY of their orders (zero included)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                """
                INSERT INTO orders_orderstatuscount (shop_id, status, count)
                SELECT s.id, st.status, coalesce(g.n, 0)
                  FROM unnest(%(shops)s::bigint[]) AS s(id)
                 CROSS JOIN unnest(%(statuses)s::text[]) AS st(status)
                  LEFT JOIN (SELECT shop_id, status, count(*) AS n FROM orders_order
                              WHERE shop_id = ANY(%(shops)s) GROUP BY shop_id, status) AS g
                         ON (g.shop_id, g.status) = (s.id, st.status)
                ON CONFLICT (shop_id, status) DO UPDATE SET count = EXCLUDED.count
                """,
                {"shops": shop_ids, "statuses": list(S.values)},
            )
        return
    grouped = {
        (r["shop_id"], r["status"]): r["n"]
        for r in Order.objects.filter(shop_id__in=shop_ids).values("shop_id", "status").annotate(n=Count("id"))
    }
    OrderStatusCount.objects.bulk_create(
        [OrderStatusCount(shop_id=sid, status=st, count=grouped.get((sid, st), 0)) for sid in shop_ids for st in S.values],
        update_conflicts=True, unique_fields=["shop", "status"], update_fields=["count"],
    )


def _restock(shop_ids):
    """Reserved = the units of reserving orders on each generated SKU; stock leaves SPARE_STOCK available,
    so later confirm, cancel and in-transit moves keep the SKU constraints. All of it sits in each shop's
    default warehouse, where the reserving orders are recorded."""
    _set_totals(shop_ids)
    skus = SKU.objects.filter(shop_id__in=shop_ids, code__startswith="GSKU-")
    stock.reconcile(skus)
    Order.objects.filter(shop_id__in=shop_ids, status__in=list(RESERVING), warehouse__isnull=True).update(
        warehouse_id=Subquery(Warehouse.objects.filter(shop_id=OuterRef("shop_id"), is_default=True).values("pk")[:1]))


def _set_totals(shop_ids):
    reserving = list(RESERVING)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                """
                UPDATE shops_sku AS s SET reserved = coalesce(r.units, 0), stock_on_hand = coalesce(r.units, 0) + %(spare)s
                  FROM shops_sku AS s2
                  LEFT JOIN (SELECT l.sku_id, sum(l.quantity) AS units
                               FROM orders_orderline AS l JOIN orders_order AS o ON o.id = l.order_id
                              WHERE o.shop_id = ANY(%(shops)s) AND o.status IN (SELECT unnest(%(reserving)s::text[]))
                              GROUP BY l.sku_id) AS r ON r.sku_id = s2.id
                 WHERE s.id = s2.id AND s2.shop_id = ANY(%(shops)s) AND s2.code LIKE 'GSKU-%%'
                """,
                {"shops": shop_ids, "reserving": reserving, "spare": SPARE_STOCK},
            )
        return
    units = dict(
        OrderLine.objects.filter(order__shop_id__in=shop_ids, order__status__in=reserving)
        .values("sku_id").annotate(units=Sum("quantity")).values_list("sku_id", "units")
    )
    skus = list(SKU.objects.filter(shop_id__in=shop_ids, code__startswith="GSKU-"))
    for sku in skus:
        sku.reserved = units.get(sku.pk, 0)
        sku.stock_on_hand = sku.reserved + SPARE_STOCK
    SKU.objects.bulk_update(skus, ["reserved", "stock_on_hand"], batch_size=500)


# --- PostgreSQL: one statement --------------------------------------------------------------


def _cumulative_case(column, mix):
    parts, acc = [], 0.0
    statuses = list(mix)
    for status in statuses[:-1]:
        acc += mix[status][0]
        parts.append(f"WHEN {column} < {acc!r} THEN '{status}'")
    return f"CASE {' '.join(parts)} ELSE '{statuses[-1]}' END"


def _age_case(mix):
    parts = [f"WHEN '{status}' THEN {float(lo)!r} + r_age * {float(hi - lo)!r}" for status, (_, lo, hi) in mix.items()]
    return f"CASE status {' '.join(parts)} END"


# The constants put into this SQL come from this module (statuses, shares, ages), never from input.
ORDERS_SQL = """
WITH src AS MATERIALIZED (
    SELECT g,
           CASE WHEN g <= %(n_bench)s OR %(n_others)s = 0 THEN %(bench)s::bigint
                ELSE (%(others)s::bigint[])[1 + g %% greatest(%(n_others)s, 1)] END AS shop_id,
           random() AS r_status, random() AS r_age, random() AS r_a, random() AS r_b
      FROM generate_series(1, %(n)s) AS g
), st AS (
    SELECT src.*, {status_case} AS status FROM src
), placed AS (
    SELECT st.*, %(now)s::timestamptz - ({age_case}) * interval '1 hour' AS placed_at FROM st
), numbered AS (
    SELECT placed.*, %(base)s + row_number() OVER (ORDER BY placed_at, g) AS seq FROM placed
), paid AS (
    SELECT numbered.*, (seq %% {skus}) + 1 AS k, 1 + g %% 3 AS qty,
           CASE WHEN status = 'UNPAID' OR (status = 'CANCELLED' AND r_b < 0.5) THEN NULL
                ELSE placed_at + (5 + 25 * r_a) * interval '1 minute' END AS paid_at
      FROM numbered
), confirmed AS (
    SELECT paid.*, CASE WHEN status IN {confirmed} THEN paid_at + (1 + 3 * r_b) * interval '1 hour' END AS confirmed_at
      FROM paid
), shipped AS (
    SELECT confirmed.*, CASE WHEN status IN {shipped} THEN confirmed_at + (6 + 42 * r_b) * interval '1 hour' END AS shipped_at
      FROM confirmed
), delivered AS (
    SELECT shipped.*, CASE WHEN status IN {delivered} THEN shipped_at + (24 + 72 * r_a) * interval '1 hour' END AS delivered_at
      FROM shipped
), timeline AS (
    SELECT delivered.*,
           CASE WHEN status = 'COMPLETED' THEN delivered_at + interval '7 days' END AS completed_at,
           CASE WHEN status = 'CANCELLED' THEN least(coalesce(paid_at + (1 + 23 * r_a) * interval '1 hour',
                                                              placed_at + %(p1)s * interval '1 hour'), %(now)s) END AS cancelled_at
      FROM delivered
), o AS (
    INSERT INTO orders_order (
        number, shop_id, status, shipping_model, placed_at, paid_at, confirmed_at, shipped_at, delivered_at,
        completed_at, cancelled_at, status_changed_at, ship_by, handover_by, auto_cancel_at,
        buyer_name, buyer_email, buyer_phone, address_line1, address_line2, city, region, postal_code, country,
        currency, total, item_count, items_summary, cancel_reason, cancel_note, source_digest, pinned_note, created_at,
        updated_at, district, subdistrict, language)
    SELECT 'G' || lpad(seq::text, {digits}, '0'), shop_id, status,
           CASE WHEN g %% 5 = 0 THEN 'SELLER' ELSE 'PLATFORM' END,
           placed_at, paid_at, confirmed_at, shipped_at, delivered_at, completed_at, cancelled_at,
           changed_at,
           placed_at + %(p2)s * interval '1 hour',
           placed_at + %(p4)s * interval '1 hour',
           CASE WHEN status = 'UNPAID' THEN placed_at + %(p1)s * interval '1 hour'
                WHEN status IN {open_paid} THEN placed_at + %(p5)s * interval '1 hour' END,
           'Buyer ' || (g %% 9973), 'buyer' || (g %% 9973) || '@example.com',
           '+1555' || lpad((g %% 10000000)::text, 7, '0'), (1 + g %% 200) || ' Market St', '',
           (%(cities)s::text[])[1 + g %% {n_cities}], 'IL', '62' || lpad((g %% 1000)::text, 3, '0'), 'US',
           'USD', qty * (5 + 2.5 * k), qty, qty || '× GSKU-' || lpad(k::text, 3, '0'),
           CASE WHEN status <> 'CANCELLED' THEN '' WHEN paid_at IS NULL THEN 'unpaid' ELSE 'buyer_requested' END,
           '', '', '', placed_at, changed_at, '', '', ''
      FROM (SELECT timeline.*,
                   CASE status WHEN 'UNPAID' THEN placed_at
                               WHEN 'AWAITING_CONFIRMATION' THEN paid_at
                               WHEN 'AWAITING_SHIPMENT' THEN confirmed_at
                               WHEN 'AWAITING_COLLECTION' THEN confirmed_at + (1 + 5 * r_a) * interval '1 hour'
                               WHEN 'IN_TRANSIT' THEN shipped_at
                               WHEN 'DELIVERED' THEN delivered_at
                               WHEN 'COMPLETED' THEN completed_at
                               ELSE cancelled_at END AS changed_at
              FROM timeline) AS t
     ORDER BY placed_at, g
    RETURNING id, number, shop_id, status, status_changed_at, item_count, total
), lines AS (
    INSERT INTO orders_orderline (order_id, sku_id, sku_code, name, quantity, unit_price)
    SELECT o.id, s.id, s.code, s.name, o.item_count, o.total / o.item_count
      FROM o JOIN shops_sku AS s
        ON s.shop_id = o.shop_id
       AND s.code = 'GSKU-' || lpad(((substr(o.number, 2)::bigint %% {skus}) + 1)::text, 3, '0')
    RETURNING 1
), events AS (
    INSERT INTO orders_orderevent ({event_columns})
    SELECT id, status_changed_at, 'policy', NULL, 'generate_orders', 'generated', '', status, '', '{{}}'::jsonb FROM o
)
SELECT (SELECT count(*) FROM o), (SELECT count(*) FROM lines)
"""


def _orders_sql(n, n_bench, bench_id, other_ids, base, now, windows, seed, log=print):
    mix = _mix(windows)
    sql = ORDERS_SQL.format(
        status_case=_cumulative_case("r_status", mix),
        age_case=_age_case(mix),
        confirmed=constant_list(CONFIRMED),
        shipped=constant_list(SHIPPED),
        delivered=constant_list(DELIVERED),
        open_paid=constant_list(OPEN_PAID),
        skus=SKUS_PER_SHOP,
        digits=NUMBER_DIGITS,
        n_cities=len(CITIES),
        event_columns=history.EVENT_COLUMNS,
    )
    params = {
        "n": n, "n_bench": n_bench, "bench": bench_id, "others": other_ids, "n_others": len(other_ids),
        "base": base, "now": now, "cities": CITIES,
        **{rule.lower(): float(windows[rule].hours) for rule in ("P1", "P2", "P4", "P5")},
    }
    with connection.cursor() as cursor:
        # The row_number() sort of N narrow rows and the index builds fit in memory.
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        cursor.execute("SET LOCAL synchronous_commit = off")
        cursor.execute("SELECT setseed(%s)", [(seed % 2000) / 1000 - 1])
        with _bulk_load(cursor, n, log):
            started = time.perf_counter()
            cursor.execute(sql, params)
            made, lines = cursor.fetchone()
            log(f"INSERT ... SELECT of orders, lines, history: {time.perf_counter() - started:.1f} s")
    return made, lines


def _bulk_load_pays(cursor, n):
    cursor.execute("SELECT greatest(reltuples, 0) FROM pg_class WHERE oid = 'orders_order'::regclass")
    return n >= BULK_LOAD_MIN and n >= cursor.fetchone()[0]


@contextmanager
def _bulk_load(cursor, n, log):
    """PostgreSQL's advice for a large load ("Populating a Database" in its manual): drop the
    secondary indexes and foreign keys of the loaded tables, load, then build each index
    once and check each foreign key with one join, instead of maintaining 15 indexes and
    firing 5 checks per row. Only when the load at least doubles the orders (rebuilding
    costs the whole table) and is large. It runs in the command's transaction, so a failure
    rolls the drops back; the definitions come from the catalog, so they are rebuilt as
    they were (names, DEFERRABLE INITIALLY DEFERRED)."""
    if not _bulk_load_pays(cursor, n):
        yield
        return
    tables = list(LOADED_TABLES)
    cursor.execute(
        """
        SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index AS i
         WHERE i.indrelid = ANY(%s::regclass[])
           AND NOT EXISTS (SELECT 1 FROM pg_constraint AS c WHERE c.conrelid = i.indrelid AND c.conindid = i.indexrelid)
        """,
        [tables],
    )
    indexes = cursor.fetchall()
    cursor.execute(
        "SELECT conrelid::regclass::text, quote_ident(conname), pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE contype = 'f' AND conrelid = ANY(%s::regclass[])",
        [tables],
    )
    foreign_keys = cursor.fetchall()
    # Run the checks the shops and SKUs made so far: a table with pending checks cannot be altered.
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    for table, name, _ in foreign_keys:
        cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
    for name, _ in indexes:
        cursor.execute(f"DROP INDEX {name}")
    log(f"bulk load: dropped {len(indexes)} secondary indexes and {len(foreign_keys)} foreign keys")
    yield
    started = time.perf_counter()
    for _, definition in indexes:
        cursor.execute(definition)
    built = time.perf_counter()
    for table, name, definition in foreign_keys:
        cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
    log(f"bulk load: rebuilt the indexes in {built - started:.1f} s, re-checked the foreign keys in "
        f"{time.perf_counter() - built:.1f} s")


# --- other databases: the same mix, built in Python -------------------------------------------


def _timeline(status, placed_at, r_a, r_b, now, windows):
    """The timestamps of one order; the same rules as ORDERS_SQL."""
    t = dict.fromkeys(["paid_at", "confirmed_at", "shipped_at", "delivered_at", "completed_at", "cancelled_at"])
    if status != S.UNPAID and not (status == S.CANCELLED and r_b < 0.5):
        t["paid_at"] = placed_at + timedelta(minutes=5 + 25 * r_a)
    if status in CONFIRMED:
        t["confirmed_at"] = t["paid_at"] + timedelta(hours=1 + 3 * r_b)
    if status in SHIPPED:
        t["shipped_at"] = t["confirmed_at"] + timedelta(hours=6 + 42 * r_b)
    if status in DELIVERED:
        t["delivered_at"] = t["shipped_at"] + timedelta(hours=24 + 72 * r_a)
    if status == S.COMPLETED:
        t["completed_at"] = t["delivered_at"] + timedelta(days=7)
    if status == S.CANCELLED:
        at = t["paid_at"] + timedelta(hours=1 + 23 * r_a) if t["paid_at"] else placed_at + windows["P1"].delta
        t["cancelled_at"] = min(at, now)
    t["status_changed_at"] = {
        S.UNPAID: placed_at,
        S.AWAITING_CONFIRMATION: t["paid_at"],
        S.AWAITING_SHIPMENT: t["confirmed_at"],
        S.AWAITING_COLLECTION: t["confirmed_at"] + timedelta(hours=1 + 5 * r_a) if t["confirmed_at"] else None,
        S.IN_TRANSIT: t["shipped_at"],
        S.DELIVERED: t["delivered_at"],
        S.COMPLETED: t["completed_at"],
        S.CANCELLED: t["cancelled_at"],
    }[status]
    return t


def _orders_python(n, n_bench, bench_id, other_ids, base, now, windows, seed, chunk=1000):
    mix = _mix(windows)
    rng = random.Random(seed)
    bounds, acc = [], 0.0
    for status, (share, _, _) in mix.items():
        acc += share
        bounds.append((acc, status))
    specs = []
    for g in range(1, n + 1):
        shop_id = bench_id if g <= n_bench or not other_ids else other_ids[g % len(other_ids)]
        r_status, r_age, r_a, r_b = rng.random(), rng.random(), rng.random(), rng.random()
        status = next((s for bound, s in bounds if r_status < bound), bounds[-1][1])
        _, lo, hi = mix[status]
        placed_at = now - timedelta(hours=lo + r_age * (hi - lo))
        specs.append((placed_at, g, shop_id, status, r_a, r_b))
    specs.sort()
    skus = {(s.shop_id, s.code): s for s in SKU.objects.filter(shop_id__in={s[2] for s in specs}, code__startswith="GSKU-")}
    made = lines = 0
    for start in range(0, n, chunk):
        orders, picks = [], []
        for i, (placed_at, g, shop_id, status, r_a, r_b) in enumerate(specs[start:start + chunk], start=start + 1):
            seq = base + i
            k = seq % SKUS_PER_SHOP + 1
            qty = 1 + g % 3
            t = _timeline(status, placed_at, r_a, r_b, now, windows)
            auto_cancel = (
                placed_at + windows["P1"].delta if status == S.UNPAID
                else placed_at + windows["P5"].delta if status in OPEN_PAID else None
            )
            cancel_reason = "" if status != S.CANCELLED else ("unpaid" if t["paid_at"] is None else "buyer_requested")
            orders.append(Order(
                number=f"G{seq:0{NUMBER_DIGITS}d}", shop_id=shop_id, status=status,
                shipping_model=Order.ShippingModel.SELLER if g % 5 == 0 else Order.ShippingModel.PLATFORM,
                placed_at=placed_at, **t, ship_by=placed_at + windows["P2"].delta,
                handover_by=placed_at + windows["P4"].delta, auto_cancel_at=auto_cancel,
                buyer_name=f"Buyer {g % 9973}", buyer_email=f"buyer{g % 9973}@example.com",
                buyer_phone=f"+1555{g % 10_000_000:07d}", address_line1=f"{1 + g % 200} Market St",
                city=CITIES[g % len(CITIES)], region="IL", postal_code=f"62{g % 1000:03d}", country="US",
                currency="USD", total=qty * sku_price(k), item_count=qty, items_summary=f"{qty}× {sku_code(k)}",
                cancel_reason=cancel_reason,
            ))
            picks.append(skus[(shop_id, sku_code(k))])
        Order.objects.bulk_create(orders)
        # auto_now(_add) stamped now; the generated history says otherwise.
        for order in orders:
            order.created_at, order.updated_at = order.placed_at, order.status_changed_at
        Order.objects.bulk_update(orders, ["created_at", "updated_at"])
        OrderLine.objects.bulk_create(
            OrderLine(order=o, sku=sku, sku_code=sku.code, name=sku.name, quantity=o.item_count,
                      unit_price=o.total / o.item_count)
            for o, sku in zip(orders, picks, strict=True)
        )
        generator = Actor.policy("generate_orders")
        history.record_each(
            (history.event(o, "generated", generator, from_status="", to_status=o.status, at=o.status_changed_at)
            for o in orders),
            feed=False,
        )
        made += len(orders)
        lines += len(picks)
    return made, lines

