"""The set-based batch ingest: the same stored result and report as one event at a time,
in a fixed number of statements however large the batch."""

import json
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.signing import sign
from orders.models import Order
from shipping import actions, tracking
from shipping.models import Package, TrackingEvent
from shops.tests.factories import ShopFactory

from .factories import ACTOR, arranged, event, feed, order_to_ship, refreshed

pytestmark = pytest.mark.django_db
URL = "/api/carriers/events/"
P = Package.Status


def post(client, payload):
    body = json.dumps(payload).encode()
    return client.post(URL, body, content_type="application/json",
                       headers={"X-Signature": sign(body, settings.CARRIER_SECRET)})


def collected(shop, at, event_id):
    """A package the carrier picked up at `at` (its order is in transit)."""
    (pkg,) = arranged(order_to_ship(shop, placed_at=at - timedelta(days=1)))
    actions.mark_ready(package=pkg, actor=ACTOR)
    feed(event(refreshed(pkg), "InTransit", subtag="InTransit_002", at=at, event_id=event_id))
    return refreshed(pkg)


# Both statement shapes on PostgreSQL: VALUES for a few events, one JSON document for many.
@pytest.fixture(params=["values", "json"])
def shape(request, monkeypatch):
    monkeypatch.setattr(tracking, "_FEW", 1000 if request.param == "values" else 0)
    return request.param


def test_mixed_batch_stores_each_event_once_and_reports_the_rest(client, shape):
    t = timezone.now() - timedelta(days=1)
    shop = ShopFactory()
    pkg = collected(shop, t, "early")
    other = collected(shop, t, "other-early")
    good = event(pkg, "InTransit", subtag="InTransit_003", at=t + timedelta(hours=2), event_id="g1")
    batch = [
        good,
        good,  # repeated within the request
        event(pkg, "InTransit", subtag="InTransit_002", at=t, event_id="early"),  # stored by an earlier request
        event(pkg, "InTransit", subtag="InTransit_002", at=t - timedelta(hours=1), event_id="late"),  # older than all
        {**event(pkg, "InTransit", event_id="u1"), "tracking_number": "SCX0000000001"},  # no such package
        event(pkg, "Teleported", event_id="b1"),  # malformed
        event(other, "AttemptFail", at=t + timedelta(hours=3), event_id="o-fail"),
        event(other, "OutForDelivery", at=t + timedelta(hours=1), event_id="o-out"),  # earlier, listed later
    ]
    r = post(client, {"events": batch})
    assert r.status_code == 207, r.content
    body = r.json()
    assert (body["stored"], body["duplicates"], body["moved"]) == (4, 2, 3)
    # Malformed events are refused while parsing, unknown packages while ingesting: in that order.
    assert [(x["index"], x["event_id"], list(x["errors"])) for x in body["rejected"]] == [
        (5, "b1", ["tag"]), (4, "u1", ["tracking_number"])]
    assert body["rejected"][1]["errors"]["tracking_number"] == ["no package has this carrier and tracking number"]
    stored = {e.event_id: e for e in TrackingEvent.objects.all()}
    assert set(stored) == {"early", "other-early", "g1", "late", "o-fail", "o-out"}
    assert (stored["g1"].from_status, stored["g1"].to_status) == (P.COLLECTED, P.IN_TRANSIT)
    assert not stored["late"].moved  # kept for the timeline, moved nothing back
    assert (stored["o-out"].from_status, stored["o-out"].to_status) == (P.COLLECTED, P.OUT_FOR_DELIVERY)
    assert (stored["o-fail"].from_status, stored["o-fail"].to_status) == (P.OUT_FOR_DELIVERY, P.FAILED_ATTEMPT)

    pkg, other = refreshed(pkg), refreshed(other)
    assert (pkg.status, pkg.status_at, pkg.last_event_at) == (P.IN_TRANSIT, t + timedelta(hours=2), t + timedelta(hours=2))
    assert pkg.collected_at == t - timedelta(hours=1)  # the earliest custody time, learnt late
    assert pkg.failed_attempts == 0
    assert (other.status, other.status_at, other.failed_attempts) == (P.FAILED_ATTEMPT, t + timedelta(hours=3), 1)
    assert pkg.order.status == other.order.status == Order.Status.IN_TRANSIT

    # The same batch again: every event a repeat, nothing moves, the bad ones reported again.
    r = post(client, {"events": batch})
    assert r.status_code == 207
    assert (r.json()["stored"], r.json()["duplicates"], len(r.json()["rejected"])) == (0, 6, 2)
    assert TrackingEvent.objects.count() == 6 and refreshed(other).failed_attempts == 1


def test_batch_crossing_delivered_moves_the_order_once(client, shape):
    t = timezone.now() - timedelta(days=1)
    pkg = collected(ShopFactory(), t, "pick")
    batch = [event(pkg, "Delivered", at=t + timedelta(hours=5), event_id="d"),
             event(pkg, "OutForDelivery", at=t + timedelta(hours=4), event_id="o")]
    assert post(client, {"events": batch}).json()["moved"] == 2
    assert post(client, {"events": batch}).json()["duplicates"] == 2
    pkg = refreshed(pkg)
    assert (pkg.status, pkg.delivered_at) == (P.DELIVERED, t + timedelta(hours=5))
    assert pkg.order.status == Order.Status.DELIVERED
    assert list(pkg.order.events.values_list("action", flat=True)).count("mark_delivered") == 1


@pytest.fixture
def transit():
    """Packages in transit, in one shop."""
    shop = ShopFactory()
    t = timezone.now() - timedelta(days=2)
    return [collected(shop, t, f"pick-{i}") for i in range(25)]


def scans(packages, n, prefix, start):
    """n plain in-transit scans spread over the packages: they add to the timeline and move nothing."""
    return [event(packages[i % len(packages)], "InTransit", subtag="InTransit_003",
                  at=start + timedelta(seconds=i), event_id=f"{prefix}-{i}") for i in range(n)]


@pytest.mark.postgres
def test_batch_of_plain_scans_costs_the_same_queries_at_50_and_500_events(on_postgres, transit,
                                                                          django_assert_max_num_queries):
    start = timezone.now() - timedelta(days=1)
    for p in transit:  # the first scan moves each package collected -> in transit
        feed(event(p, "InTransit", subtag="InTransit_003", at=start - timedelta(hours=1)))
    counts = {}
    for n in (50, 500):
        with CaptureQueriesContext(connection) as ctx, django_assert_max_num_queries(4):
            result = tracking.receive(scans(transit, n, f"s{n}", start + timedelta(hours=n)),
                                      now=start + timedelta(hours=n, minutes=10))
        assert (result.stored, result.duplicates, result.moved, result.rejected) == (n, 0, 0, [])
        counts[n] = len(ctx.captured_queries)
    # savepoint, lock the packages, store events + packages in one statement, release
    assert counts[50] == counts[500] == 4
    assert TrackingEvent.objects.filter(event_id__startswith="s500-").count() == 500
    last = start + timedelta(hours=500, seconds=499)
    assert refreshed(transit[499 % len(transit)]).last_event_at == last


@pytest.mark.postgres
def test_batch_with_repeats_of_earlier_requests_costs_a_fixed_number_more(on_postgres, transit,
                                                                         django_assert_max_num_queries):
    start = timezone.now() - timedelta(days=1)
    first = scans(transit, 500, "r", start)
    tracking.receive(first[:250])
    with django_assert_max_num_queries(6):  # + one package update, + one fix of the new events' moves
        result = tracking.receive(first)
    assert (result.stored, result.duplicates) == (250, 250)
    assert TrackingEvent.objects.filter(event_id__startswith="r-").count() == 500
    for k, p in enumerate(transit):  # the newest scan of each package: number 475 + k
        assert refreshed(p).last_event_at == start + timedelta(seconds=475 + k)


def test_batch_of_plain_scans_on_any_database_stores_every_event_once(transit):
    start = timezone.now() - timedelta(days=1)
    batch = scans(transit, 200, "any", start)
    assert tracking.receive(batch).stored == 200
    result = tracking.receive(batch + scans(transit, 10, "more", start + timedelta(hours=1)))
    assert (result.stored, result.duplicates) == (10, 200)
    assert TrackingEvent.objects.filter(event_id__startswith="any-").count() == 200
