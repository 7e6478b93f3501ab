"""bench_api runs on a small generated shop and prints figures that add up."""

import io
import re

import pytest
from django.core.management import call_command

from api.models import ApiKey

pytestmark = pytest.mark.django_db


def test_bench_api_prints_side_by_side_figures_and_the_bulk_confirm():
    call_command("generate_orders", orders=300, shops=2, seller_share=0.5, stdout=io.StringIO())
    out = io.StringIO()
    call_command("bench_api", repeat=2, rounds=1, stdout=out)
    text = out.getvalue()
    rows = re.findall(r"^(HTML page 1|API page 1|HTML at 90%|API at 90%)\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+(PASS|FAIL)$",
                      text, re.M)
    assert [r[0] for r in rows] == ["HTML page 1", "API page 1", "HTML at 90%", "API at 90%"], text
    base = float(rows[0][2])
    for name, _queries, p50, p95, ratio, _ in rows:
        assert float(p50) <= float(p95) and abs(float(ratio) - float(p50) / base) < 0.02, (name, text)
    assert int(rows[1][1]) == int(rows[3][1])  # the API's query count does not grow with depth
    bulk = re.findall(r"^(without|with) webhooks\s+(\d+)\s+(\d+)\s+(\d+)\s+([\d.]+)\s+(PASS|FAIL)$", text, re.M)
    assert [b[0] for b in bulk] == ["without", "with"], text
    assert bulk[0][1] == bulk[1][1]  # two webhooks add no query to the write
    assert all(int(p50) <= int(most) for _, _, p50, most, _, _ in bulk)
    fan = re.search(r"(\d+) events sequenced in \d+ ms; (\d+) deliveries \((\d+) answered 2xx\) in (\d+) ms = (\d+)/s",
                    text)
    assert fan, text
    events, sent, ok, ms, rate = map(int, fan.groups())
    assert events >= 500 and sent == ok == 1000 and abs(rate - sent / max(ms, 1) * 1000) <= max(5, rate * 0.05), text
    assert ApiKey.objects.filter(name="bench_api").exists()
