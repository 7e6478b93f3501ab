"""bench_tracking runs end to end on a few packages (PostgreSQL: gunicorn's workers share the test
database), and its figures read back: each rate is the events or requests over the seconds
beside it, every answer is counted, every event was stored once and each verdict is the target
applied. The rates themselves are not judged here (a handful of requests on a shared machine)."""

import ast
import io
import re
from urllib.parse import quote

import pytest
from django.core.management import call_command
from django.db import connection

from orders.tests.test_benchmarks import NUMBER, assert_quotient
from shipping.models import TrackingEvent

RATE = r"\d{1,3}(?:,\d{3})*"
HTTP = re.compile(
    rf"^HTTP (?P<label>.+?): (?P<rate>{RATE}) (?P<unit>events|requests)/s \((?P<requests>\d+) requests"
    rf"(?:, (?P<events>\d+) events incl\. (?P<repeats>\d+) repeats)?, in (?P<seconds>{NUMBER}) s; "
    rf"responses (?P<codes>\{{[^}}]*\}})(?:; latency p50 (?P<p50>{NUMBER}) ms, p99 (?P<p99>{NUMBER}) ms)?\)$",
    re.M,
)
CHECK = re.compile(
    rf"^  (?P<verdict>meets the|BELOW the) (?P<target>{RATE})/s target; every event stored exactly once "
    r"\((?P<stored>\d+) of (?P<distinct>\d+) distinct ids, (?P<repeats>\d+) repeats\); "
    r"each failed attempt counted once \(\+\d+\)$",
    re.M,
)


def integer(text):
    return text.replace(",", "")


@pytest.mark.django_db(transaction=True)
def test_bench_tracking_counts_every_event_once_and_reports_the_rates(on_postgres, monkeypatch):
    db = connection.settings_dict  # gunicorn's workers read the test database, not the configured one
    monkeypatch.setenv("DATABASE_URL", f"postgres://{quote(db['USER'] or '')}:{quote(db['PASSWORD'] or '')}@"
                                        f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}")
    out = io.StringIO()
    call_command("bench_tracking", packages=3, single=30, batches=2, batch_size=20, ingest_events=40, workers=2,
                 load="python", stdout=out)
    text = out.getvalue()

    assert re.search(r"^database: postgresql; 3 packages in transit; 2 gunicorn sync workers;", text, re.M), text
    ingest = re.search(rf"^ingest function alone: ({NUMBER}) µs/event \(({RATE}) events/s, batches of 20\)$", text, re.M)
    assert ingest, text
    assert_quotient(integer(ingest.group(2)), "1000000", ingest.group(1))

    runs = {m["label"]: m.groupdict() for m in HTTP.finditer(text)}
    assert list(runs) == ["baseline GET /healthz (one SELECT 1 a request: the ceiling of any endpoint here)",
                          "single events, durable commits", "batches of 20, durable commits"], text
    checks = [m.groupdict() for m in CHECK.finditer(text)]
    assert len(checks) == 2, text
    # Sent: 30 single events and 2 batches of 20, each with a tenth sent twice.
    expected = {"single events, durable commits": (33, 33, 3, 30, 500),
                "batches of 20, durable commits": (3, 44, 4, 40, 10_000)}
    for (label, run), check in zip(list(runs.items())[1:], checks, strict=True):
        requests, events, repeats, distinct, target = expected[label]
        assert (int(run["requests"]), int(run["events"]), int(run["repeats"])) == (requests, events, repeats), run
        assert_quotient(integer(run["rate"]), run["events"], run["seconds"])
        codes = ast.literal_eval(run["codes"])
        assert sum(codes.values()) == requests and set(codes) <= {200, 201}, codes  # no 4xx or 5xx
        assert int(check["stored"]) == int(check["distinct"]) == distinct and int(check["repeats"]) == repeats, check
        assert int(integer(check["target"])) == target
        assert check["verdict"] == ("meets the" if int(integer(run["rate"])) >= target else "BELOW the"), (run, check)
        assert float(run["p50"]) <= float(run["p99"])
    baseline = next(iter(runs.values()))
    assert baseline["unit"] == "requests" and ast.literal_eval(baseline["codes"]) == {200: 30}
    assert_quotient(integer(baseline["rate"]), baseline["requests"], baseline["seconds"])
    assert text.count("  CPU (2 cores): gunicorn workers ") == 3
    # The start event of each package, the 40 of the ingest timing, then the distinct ones sent over HTTP.
    assert TrackingEvent.objects.count() == 3 + 40 + 30 + 40
