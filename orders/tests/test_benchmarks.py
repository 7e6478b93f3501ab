"""The benchmark commands run end to end on small data, so their figures stay measurable: a
benchmark that broke unnoticed would leave the targets unmeasured. Each printed figure is read
back: the numbers are there, the query counts are the fixed ones, each ratio is the quotient of
the figures beside it and each PASS/FAIL is the target applied to them. Times are not judged
here (small data, a shared machine); what they are computed from is."""

import io
import re
from decimal import Decimal

import pytest
from django.core.management import call_command

from orders.management.commands import bench_orders as bench
from orders.models import Order, OrderEvent

NUMBER = r"\d+(?:\.\d+)?"


def places(text):
    return len(text.split(".")[1]) if "." in text else 0


def assert_quotient(printed, num, den, *, plus=()):
    """`printed` is num / (den + sum(plus)), each given as printed text, to the printed precision:
    the quotient of any values that round to what is shown must round to `printed`."""
    def bounds(text):
        half = Decimal(5) / 10 ** (places(text) + 1)
        return Decimal(text) - half, Decimal(text) + half

    n_lo, n_hi = bounds(num)
    d_lo, d_hi = (sum(b) for b in zip(*(bounds(t) for t in (den, *plus)), strict=True))
    half = Decimal(5) / 10 ** (places(printed) + 1)
    assert Decimal(printed) + half >= n_lo / d_hi, (printed, num, den, plus)
    if d_lo > 0:
        assert Decimal(printed) - half <= n_hi / d_lo, (printed, num, den, plus)


def verdict(ok):
    return "PASS" if ok else "FAIL"


def assert_verdict(printed, ok, *, value, limit):
    """`printed` (PASS/FAIL) says `ok`, the target applied to the printed `value`, unless that value
    sits on the `limit` within its rounding, where the unrounded figure decided."""
    if abs(Decimal(value) - Decimal(str(limit))) > Decimal(5) / 10 ** (places(value) + 1):
        assert printed == verdict(ok), (printed, value, limit)


ROW = re.compile(
    rf"^(?P<label>\S.*?)\s+(?P<page>page 1|at \d+%)\s+(?P<offset>\d+)\s+(?P<queries>\d+)\s+(?P<view_p50>{NUMBER})\s+"
    rf"(?P<view_p95>{NUMBER})\s+(?P<db>{NUMBER})\s+(?P<sql_p50>{NUMBER})\s+(?P<server>{NUMBER}|-)\s+"
    rf"(?P<ratio>{NUMBER})\s+(?P<ratio_yd>{NUMBER})\s+(?P<p50_yd>{NUMBER})\s+(?:(?P<deep_sql>{NUMBER})\s+(?P<deep_view>{NUMBER})\s+)?"
    rf"(?P<marks>queries (?:PASS|FAIL).*)$",
    re.M,
)


SEARCH_KINDS = ["100 order numbers", "one order number", "one tracking number", "one SKU", "a buyer name",
                "a buyer email", "a buyer phone", "end of a number"]
SEARCH = re.compile(
    rf"^search (?P<kind>.+?)\s+(?P<queries>\d+)\s+(?P<p50>{NUMBER})\s+(?P<p95>{NUMBER})\s+(?P<sql>{NUMBER})\s+"
    rf"(?P<ratio>{NUMBER})\s+(?P<rows>\d+)  queries (?P<queries_verdict>PASS|FAIL), ratio (?P<ratio_verdict>PASS|FAIL)$",
    re.M,
)


def check_search_lines(text, page_queries):
    """The search section: page 1 of All, then each kind's line with its ratio to it (or why it was
    not measured); returns the failures its lines report."""
    first = re.search(rf"^\(page 1 of All\)\s+(\d+)\s+({NUMBER})\s+({NUMBER})\s+({NUMBER})\s+1\.00\s+(\d+)$", text, re.M)
    assert first, text
    queries, p50, p95, _, rows = first.groups()
    assert int(queries) == page_queries and Decimal(p50) <= Decimal(p95) and int(rows) == 50
    lines = {m["kind"]: m.groupdict() for m in SEARCH.finditer(text)}
    skipped = set(re.findall(r"^search (.+?): not measured, the shop's data holds none$", text, re.M))
    assert set(lines) | skipped == set(SEARCH_KINDS) and not set(lines) & skipped, (lines, skipped)
    # What the small data always holds: numbers, SKUs, names, emails and phones (no packages).
    assert {"100 order numbers", "one order number", "one SKU", "a buyer name", "end of a number"} <= set(lines)
    failures = []
    for kind, line in lines.items():
        assert int(line["rows"]) >= 1, line  # each search finds the order its value came from
        assert Decimal(line["p50"]) <= Decimal(line["p95"]), line
        assert_quotient(line["ratio"], line["p50"], p50)
        assert line["queries_verdict"] == verdict(int(line["queries"]) <= bench.MAX_QUERIES) == "PASS", line
        assert_verdict(line["ratio_verdict"], Decimal(line["ratio"]) <= Decimal(str(bench.MAX_SEARCH_OVER_PAGE)),
                       value=line["ratio"], limit=bench.MAX_SEARCH_OVER_PAGE)
        if line["ratio_verdict"] == "FAIL":
            failures.append(f"search {kind} ratio")
    # One more query than the list without a search (the resolving UNION), whatever the kind.
    assert {int(line["queries"]) for line in lines.values()} == {page_queries + 1}, lines
    assert int(lines["100 order numbers"]["rows"]) == 50
    return failures


@pytest.mark.django_db
def test_bench_orders_prints_every_tab_counts_bulk_confirm_and_the_yardstick():
    from django.db import connection

    call_command("generate_orders", orders=300, shops=2, seller_share=0.5, stdout=io.StringIO())
    out = io.StringIO()
    call_command("bench_orders", repeat=2, stdout=out)
    text = out.getvalue()

    head = re.search(r"^(\w+), shop (\S+): (\d+) orders of (\d+); --repeat (\d+); DEBUG off", text, re.M)
    assert head, text[:500]
    vendor, slug, in_shop, total, repeat = head.groups()
    assert (vendor, slug, int(total), int(repeat)) == (connection.vendor, "bench-main", 300, 2)
    assert int(in_shop) == Order.objects.filter(shop__slug=slug, number__startswith="G").count() == 150

    yard = re.search(rf"Yardstick, .*\(login, (\d+) queries: .*\): view p50 ({NUMBER}), p95 ({NUMBER}), "
                     rf"SQL p50 ({NUMBER}), p95/SQL ({NUMBER})", text)
    assert yard, text
    yd_queries, yd_p50, yd_p95, yd_sql, yd_ratio = yard.groups()
    assert int(yd_queries) == 3  # session, user, one counter read
    assert Decimal(yd_p50) <= Decimal(yd_p95)
    assert_quotient(yd_ratio, yd_p95, yd_sql)

    counts_line = re.search(r"^  ((?:\w+=\d+, )+all=\d+)$", text, re.M)
    assert counts_line, text
    counts = {k: int(v) for k, v in (pair.split("=") for pair in counts_line.group(1).split(", "))}
    assert set(counts) == {*Order.Status.values, "all"}
    assert sum(v for k, v in counts.items() if k != "all") == counts["all"] == int(in_shop)

    rows = [m.groupdict() for m in ROW.finditer(text)]
    failures = []
    for tab, label in [("all", "All"), *Order.Status.choices]:
        mine = [r for r in rows if r["label"] == label]
        # Page 1 of every tab, and the page at 90% of each tab longer than one page of 50.
        assert [r["page"] for r in mine] == ["page 1"] + (["at 90%"] if counts[tab] > 50 else []), (label, mine)
        first = mine[0]
        assert first["offset"] == "0" and first["deep_sql"] is None
        for row in mine:
            name = row["page"]
            assert Decimal(row["view_p50"]) <= Decimal(row["view_p95"]), row
            if vendor == "postgresql":
                assert Decimal(row["server"]) > 0, row  # EXPLAIN ANALYZE's own execution time
            else:
                assert row["server"] == "-", row
            assert_quotient(row["ratio"], row["view_p95"], row["sql_p50"])
            assert_quotient(row["ratio_yd"], row["view_p95"], row["sql_p50"], plus=[yd_p50])
            assert_quotient(row["p50_yd"], row["view_p50"], yd_p50)
            marks = dict(m.split(" ") for m in row["marks"].split(", "))
            assert marks["queries"] == verdict(int(row["queries"]) <= bench.MAX_QUERIES) == "PASS", row
            assert_verdict(marks["yardstick"], Decimal(row["p50_yd"]) <= Decimal(str(bench.MAX_OVER_YARDSTICK)),
                           value=row["p50_yd"], limit=bench.MAX_OVER_YARDSTICK)
            if marks["queries"] == "FAIL":
                failures.append(f"{tab} {name} queries")
            if marks["yardstick"] == "FAIL":
                failures.append(f"{tab} {name} p50/yardstick")
            if row is not first:
                assert int(row["offset"]) == int(counts[tab] * bench.DEPTH), row
                assert_quotient(row["deep_sql"], row["sql_p50"], first["sql_p50"])
                assert_quotient(row["deep_view"], row["view_p50"], first["view_p50"])
                worse = max(row["deep_sql"], row["deep_view"], key=Decimal)
                assert_verdict(marks["deep"], Decimal(worse) <= Decimal(str(bench.MAX_DEEP_OVER_FIRST)),
                               value=worse, limit=bench.MAX_DEEP_OVER_FIRST)
                if marks["deep"] == "FAIL":
                    failures.append(f"{tab} {name} deep/page 1")
    assert len(rows) == sum(1 + (n > 50) for n in counts.values())  # and no other row
    # The list's reads are fixed: one query count for every tab, at page 1 and deep in it.
    assert len({r["queries"] for r in rows}) == 1, {r["label"]: r["queries"] for r in rows}

    failures += check_search_lines(text, int(rows[0]["queries"]))

    tabs = re.search(rf"Tab counts \(listing.tab_counts\): p50 ({NUMBER}) ms \(target < 5 ms\) (PASS|FAIL); "
                     rf"GROUP BY on orders took ({NUMBER}) ms; equal to GROUP BY: (yes|no) (PASS|FAIL)", text)
    assert tabs, text
    p50, p50_verdict, _, equal, equal_verdict = tabs.groups()
    assert (equal, equal_verdict) == ("yes", "PASS")
    assert_verdict(p50_verdict, Decimal(p50) < Decimal(str(bench.MAX_TAB_COUNTS_MS)), value=p50,
                   limit=bench.MAX_TAB_COUNTS_MS)
    if p50_verdict == "FAIL":
        failures.append("tab counts time")

    bulk = re.search(rf"confirm_orders, 500 at once: (\d+) confirmed, (\d+) queries \((\d+) statements \+ BEGIN/COMMIT; "
                     rf"target <= (\d+)\) (PASS|FAIL), ({NUMBER}) ms\n"
                     rf"  confirm_order, 500 one by one: (\d+) queries, ({NUMBER}) ms \(({NUMBER}) ms each\)\n"
                     rf"  one by one / bulk: ({NUMBER})x \(target >= (\d+)x\) (PASS|FAIL); (\d+) of 1000 now awaiting shipment",
                     text)
    assert bulk, text
    (done, bulk_queries, statements, target, bulk_verdict, bulk_ms, single_queries, single_ms, each_ms, speedup,
     min_speedup, speed_verdict, awaiting) = bulk.groups()
    assert (int(done), int(awaiting), int(target), int(min_speedup)) == (500, 1000, bench.MAX_BULK_QUERIES,
                                                                         bench.MIN_BULK_SPEEDUP)
    assert 0 <= int(bulk_queries) - int(statements) <= 2  # BEGIN and COMMIT, when the database logs them
    # Set-based: a handful of statements for 500 orders (SQLite splits the history INSERT by its
    # variable limit), against the same few per order one by one.
    assert int(bulk_queries) < 20 and int(single_queries) % 500 == 0 and int(single_queries) // 500 >= 3
    assert bulk_verdict == verdict(int(bulk_queries) <= bench.MAX_BULK_QUERIES)
    if vendor == "postgresql":
        assert bulk_verdict == "PASS"
    if bulk_verdict == "FAIL":
        failures.append("bulk confirm queries")
    assert_quotient(each_ms, single_ms, "500")
    assert_quotient(speedup, single_ms, bulk_ms)
    assert_verdict(speed_verdict, Decimal(speedup) >= Decimal(str(bench.MIN_BULK_SPEEDUP)), value=speedup,
                   limit=bench.MIN_BULK_SPEEDUP)
    if speed_verdict == "FAIL":
        failures.append("bulk confirm speed-up")
    assert Order.objects.filter(number__startswith="BC", status=Order.Status.AWAITING_SHIPMENT).count() == 1000

    # The closing line lists exactly the failures of the lines above.
    closing = text.rstrip().splitlines()[-1]
    if failures:
        assert closing.startswith("FAILED: "), closing
        assert sorted(closing.removeprefix("FAILED: ").split(", ")) == sorted(failures), (closing, failures)
    else:
        assert closing == "all targets PASS"


@pytest.mark.django_db(transaction=True)
def test_bench_policies_cancels_the_due_orders_once_and_reports_the_ratio(on_postgres):
    out = io.StringIO()
    call_command("bench_policies", orders=400, due=40, shops=2, stdout=out)
    text = out.getvalue()

    head = re.search(r"^orders: (\d+), due for P1/P5 cancellation: (\d+), batch size (\d+)$", text, re.M)
    assert head and tuple(map(int, head.groups()))[:2] == (400, 40), text
    bare = re.search(rf"^hand-written UPDATE of the same (\d+) rows: ({NUMBER}) s \(median of 3", text, re.M)
    assert bare and bare.group(1) == "40", text
    unpaid = re.search(r"^  P1 v\d+ \(\d+ h\): (\d+) unpaid orders cancelled$", text, re.M)
    untracked = re.search(r"^  P5 v\d+ \(\d+ h\): (\d+) orders cancelled for no tracking update$", text, re.M)
    assert unpaid and untracked and int(unpaid.group(1)) + int(untracked.group(1)) == 40, text
    runner = re.search(rf"^P1 \+ P5 cancellations through the runner .*: ({NUMBER}) s; (\d+) batches, longest ({NUMBER}) s$",
                       text, re.M)
    assert runner, text
    runner_s, batches, longest_p1 = runner.groups()
    assert int(batches) >= 1 and Decimal(longest_p1) <= Decimal(runner_s)
    ratio = re.search(rf"^ratio runner / hand-written UPDATE: ({NUMBER})x \(target <= 2x\) (PASS|FAIL)$", text, re.M)
    assert ratio, text
    assert_quotient(ratio.group(1), runner_s, bare.group(2))
    assert_verdict(ratio.group(2), Decimal(ratio.group(1)) <= 2, value=ratio.group(1), limit=2)
    full = re.search(rf"^full run after P1 \(every rule\): ({NUMBER}) s, (\d+) batches$", text, re.M)
    assert full, text
    longest = re.search(rf"^longest transaction: ({NUMBER}) s \(target < 1 s\) (PASS|FAIL)$", text, re.M)
    assert longest and Decimal(longest.group(1)) >= Decimal(longest_p1), text
    assert longest.group(2) == verdict(Decimal(longest.group(1)) < 1) == "PASS"  # 40 rows: far inside the target
    assert re.search(rf"^second run \(idempotence\): 0 changes in {NUMBER} s$", text, re.M), text
    # What the figures are about happened: the 40 due orders are cancelled, each with one cancel row.
    cancels = OrderEvent.objects.filter(action="cancel", actor_kind="policy", order__cancel_reason__in=["unpaid", "no_tracking"])
    assert cancels.count() == cancels.values("order").distinct().count() == 40
