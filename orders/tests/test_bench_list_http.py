"""bench_list_http runs end to end on a small shop (PostgreSQL, so gunicorn's workers read the test
database; wrk installed): page 1 answers the logged-in session with its rows, each round's ratio is
its two rates' quotient and the verdict is the target applied. The rates are not judged here."""

import io
import re
import shutil
from decimal import Decimal
from urllib.parse import quote

import pytest
from django.core.management import call_command
from django.db import connection

from orders.management.commands import bench_list_http as bench
from orders.tests.test_benchmarks import NUMBER, assert_quotient


@pytest.mark.django_db(transaction=True)
def test_bench_list_http_prints_both_rates_and_their_ratio(on_postgres, monkeypatch):
    if shutil.which("wrk") is None:
        pytest.skip("wrk is not installed")
    db = connection.settings_dict
    monkeypatch.setenv("DATABASE_URL", f"postgres://{quote(db['USER'] or '')}:{quote(db['PASSWORD'] or '')}@"
                                        f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}")
    call_command("generate_orders", orders=120, shops=2, seller_share=0.5, stdout=io.StringIO())
    out = io.StringIO()
    call_command("bench_list_http", workers=2, seconds=1, rounds=2, connections=2, threads=1, stdout=out)
    text = out.getvalue()
    assert re.search(r"^page 1: 200, 50 rows, \d+ bytes$", text, re.M), text
    rounds = re.findall(rf"^  round \d: /healthz ({NUMBER}) req/s, page 1 ({NUMBER}) req/s, ratio ({NUMBER})$", text, re.M)
    assert len(rounds) == 2, text
    for health, page, ratio in rounds:
        assert Decimal(health) > 0 and Decimal(page) > 0
        assert_quotient(ratio, page, health)
    median = re.search(rf"^median: /healthz ({NUMBER}) req/s, page 1 ({NUMBER}) req/s; page 1 / healthz ({NUMBER}) "
                       rf"\(target >= 0.2\) (PASS|FAIL)$", text, re.M)
    assert median, text
    health, page, ratio, verdict = median.groups()
    assert_quotient(ratio, page, health)
    assert verdict == ("PASS" if Decimal(ratio) >= Decimal(str(bench.MIN_RATIO)) else "FAIL")
