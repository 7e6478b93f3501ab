import json
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from core.signing import sign
from orders.models import Order
from shipping import actions
from shipping.models import Package, TrackingEvent

from .factories import ACTOR, arranged, event, order_to_ship, refreshed

pytestmark = pytest.mark.django_db
URL = "/api/carriers/events/"
P = Package.Status


def post(client, payload, *, secret=None, raw=None):
    body = raw if raw is not None else json.dumps(payload).encode()
    return client.post(URL, body, content_type="application/json",
                       headers={"X-Signature": sign(body, secret or settings.CARRIER_SECRET)})


@pytest.fixture
def pkg():
    order = order_to_ship()
    (p,) = arranged(order)
    actions.mark_ready(package=p, actor=ACTOR)
    return refreshed(p)


def test_single_event_stored_and_moves_the_package(client, pkg):
    r = post(client, event(pkg, "InTransit", subtag="InTransit_002", event_id="ev-1"))
    assert r.status_code == 201, r.content
    assert r.json()["stored"] == 1 and r.json()["moved"] == 1
    pkg = refreshed(pkg)
    assert pkg.status == P.COLLECTED and pkg.collected_at
    assert pkg.order.status == Order.Status.IN_TRANSIT


def test_repeated_event_is_stored_once(client, pkg):
    ev = event(pkg, "AttemptFail", event_id="ev-dup")
    assert post(client, ev).status_code == 201
    r = post(client, ev)
    assert r.status_code == 200 and r.json()["duplicates"] == 1 and r.json()["stored"] == 0
    r = post(client, {"events": [ev, ev, event(pkg, "AttemptFail", event_id="ev-2")]})
    assert r.status_code == 200 and r.json() == {"stored": 1, "duplicates": 2, "moved": 0, "rejected": []}
    assert TrackingEvent.objects.filter(event_id="ev-dup").count() == 1
    assert refreshed(pkg).failed_attempts == 2  # each distinct attempt counted once


def test_late_and_out_of_order_events_never_move_a_package_back(client, pkg):
    t = timezone.now()
    r = post(client, {"events": [event(pkg, "Delivered", at=t + timedelta(hours=5), event_id="d"),
                                 event(pkg, "OutForDelivery", at=t + timedelta(hours=4), event_id="o")]})
    assert r.status_code == 200
    pkg = refreshed(pkg)
    assert pkg.status == P.DELIVERED and pkg.delivered_at == t + timedelta(hours=5)
    # A late pickup scan arrives after delivery: kept for the timeline, moves nothing.
    r = post(client, event(pkg, "InTransit", subtag="InTransit_002", at=t + timedelta(hours=1), event_id="late"))
    assert r.status_code == 201 and r.json()["moved"] == 0
    pkg = refreshed(pkg)
    assert pkg.status == P.DELIVERED
    assert pkg.collected_at == t + timedelta(hours=1)  # the earliest custody time is still learnt
    late = TrackingEvent.objects.get(event_id="late")
    assert not late.moved
    assert pkg.order.status == Order.Status.DELIVERED
    assert list(pkg.order.events.values_list("action", flat=True))[-2:] == ["mark_in_transit", "mark_delivered"]


def test_last_mile_newer_event_wins_older_is_kept(client, pkg):
    t = timezone.now()
    post(client, event(pkg, "OutForDelivery", at=t, event_id="o1"))
    post(client, event(pkg, "AttemptFail", at=t + timedelta(hours=2), event_id="f1"))
    assert refreshed(pkg).status == P.FAILED_ATTEMPT
    post(client, event(pkg, "OutForDelivery", at=t + timedelta(hours=1), event_id="o-old"))  # older: no move
    assert refreshed(pkg).status == P.FAILED_ATTEMPT
    post(client, event(pkg, "OutForDelivery", at=t + timedelta(days=1), event_id="o2"))  # the next try
    pkg = refreshed(pkg)
    assert pkg.status == P.OUT_FOR_DELIVERY and pkg.failed_attempts == 1


def test_bad_signature_is_refused_and_stores_nothing(client, pkg):
    body = json.dumps(event(pkg, "InTransit")).encode()
    r = client.post(URL, body, content_type="application/json", headers={"X-Signature": sign(body, "wrong")})
    assert r.status_code == 401
    r = client.post(URL, body, content_type="application/json")
    assert r.status_code == 401
    assert TrackingEvent.objects.count() == 0


@pytest.mark.parametrize("mutate,field", [
    (lambda e: e.pop("event_id"), "event_id"),
    (lambda e: e.update(tag="Teleported"), "tag"),
    (lambda e: e.update(occurred_at="yesterday"), "occurred_at"),
    (lambda e: e.update(occurred_at="2026-01-01T10:00:00"), "occurred_at"),  # no UTC offset
    (lambda e: e.update(carrier="pigeon"), "carrier"),
    (lambda e: e.update(location=["not", "text"]), "location"),
])
def test_malformed_event_is_refused_with_400_and_stores_nothing(client, pkg, mutate, field):
    ev = event(pkg, "InTransit")
    mutate(ev)
    r = post(client, ev)
    assert r.status_code == 400 and field in r.json()["errors"]
    assert TrackingEvent.objects.count() == 0 and refreshed(pkg).status == P.READY


def test_malformed_body_is_refused(client):
    assert post(client, None, raw=b"{not json").status_code == 400
    assert post(client, [1, 2]).status_code == 400
    assert post(client, {"events": []}).status_code == 400
    assert post(client, {"events": [{}] * 1001}).status_code == 400


def test_unknown_tracking_number_is_422(client, pkg):
    ev = event(pkg, "InTransit")
    ev["tracking_number"] = "SCX9999999999"
    r = post(client, ev)
    assert r.status_code == 422
    assert TrackingEvent.objects.count() == 0


def test_mixed_batch_keeps_good_events_and_reports_bad_ones(client, pkg):
    good1 = event(pkg, "InTransit", subtag="InTransit_002", event_id="g1")
    bad = event(pkg, "Nope", event_id="b1")
    unknown = {**event(pkg, "InTransit", event_id="u1"), "tracking_number": "SCX0000000001"}
    good2 = event(pkg, "InTransit", event_id="g2", at=timezone.now() + timedelta(hours=1))
    r = post(client, {"events": [good1, bad, unknown, good2, "text"]})
    assert r.status_code == 207
    body = r.json()
    assert body["stored"] == 2
    assert sorted(x["index"] for x in body["rejected"]) == [1, 2, 4]
    assert {x["event_id"] for x in body["rejected"]} == {"b1", "u1", None}
    assert set(TrackingEvent.objects.values_list("event_id", flat=True)) == {"g1", "g2"}
    assert refreshed(pkg).status == P.IN_TRANSIT


def test_batch_of_only_bad_events_is_400(client, pkg):
    r = post(client, {"events": [event(pkg, "Nope"), {"tag": "InTransit"}]})
    assert r.status_code == 400 and len(r.json()["rejected"]) == 2


def test_get_is_not_allowed(client):
    assert client.get(URL).status_code == 405


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_repeats_are_stored_once_and_attempts_counted_once(on_postgres):
    import threading

    from django.db import connection

    from shipping import tracking

    order = order_to_ship()
    (p,) = arranged(order)
    actions.mark_ready(package=p, actor=ACTOR)
    p = refreshed(p)
    t = timezone.now()
    batch = [event(p, "AttemptFail", at=t + timedelta(minutes=i), event_id=f"c-{i}") for i in range(20)]
    barrier = threading.Barrier(4)

    def worker():
        try:
            barrier.wait()
            tracking.receive(batch)
        finally:
            connection.close()  # the thread's own connection, or it outlives the test database

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert TrackingEvent.objects.filter(package=p).count() == 20
    assert refreshed(p).failed_attempts == 20
