"""The carrier feed refuses what it cannot store: times PostgreSQL keeps but psycopg cannot
read back, offsets PostgreSQL refuses, NUL and lone surrogates, bodies nested too deeply.
Each refusal names the field and stores nothing; one bad event never spoils its batch."""

import json
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from core.signing import sign
from shipping import actions
from shipping.models import Package, TrackingEvent

from .factories import ACTOR, arranged, event, order_to_ship, refreshed

pytestmark = pytest.mark.django_db
URL = "/api/carriers/events/"
P = Package.Status


def post(client, payload=None, *, raw=None):
    body = raw if raw is not None else json.dumps(payload).encode()
    return client.post(URL, body, content_type="application/json",
                       headers={"X-Signature": sign(body, settings.CARRIER_SECRET)})


@pytest.fixture
def pkg():
    (p,) = arranged(order_to_ship())
    actions.mark_ready(package=p, actor=ACTOR)
    return refreshed(p)


@pytest.mark.parametrize("occurred_at", [
    "0001-01-01T00:00:00+01:00",  # 1 BC once in UTC
    "9999-12-31T23:59:59-05:00",  # year 10000 once in UTC
    "1970-01-01T00:00:00Z",
    "2026-01-01T10:00:00+20:00",  # Python takes it, PostgreSQL does not
    "2026-01-01T10:00:00-16:00",
])
def test_event_time_out_of_range_is_400_and_the_parcel_still_reads(client, seller_client, pkg, occurred_at):
    r = post(client, {**event(pkg, "InTransit"), "occurred_at": occurred_at})
    assert r.status_code == 400 and list(r.json()["errors"]) == ["occurred_at"]
    assert TrackingEvent.objects.count() == 0 and refreshed(pkg).status == P.READY
    # The next good event for the parcel and the pages that read it still work.
    assert post(client, event(pkg, "InTransit", subtag="InTransit_002")).status_code == 201
    assert refreshed(pkg).status == P.COLLECTED


def test_event_more_than_a_day_ahead_is_400(client, pkg):
    ahead = timezone.now() + timedelta(days=1, hours=1)
    r = post(client, event(pkg, "InTransit", at=ahead))
    assert r.status_code == 400 and "occurred_at" in r.json()["errors"]
    assert post(client, event(pkg, "InTransit", at=timezone.now() + timedelta(hours=20))).status_code == 201


def test_event_long_before_the_order_was_placed_is_refused(client):
    order = order_to_ship(placed_at=timezone.now() - timedelta(days=3))
    (p,) = arranged(order)
    r = post(client, event(refreshed(p), "InTransit", at=order.placed_at - timedelta(days=2)))
    assert r.status_code == 400 and "before the order was placed" in r.json()["errors"]["occurred_at"][0]
    assert TrackingEvent.objects.count() == 0
    assert post(client, event(refreshed(p), "InTransit", at=order.placed_at - timedelta(hours=2))).status_code == 201


@pytest.mark.parametrize("field", ["event_id", "tracking_number", "subtag", "location", "message", "carrier", "tag"])
@pytest.mark.parametrize("bad", ["A\x00B", "A\ud800B", "A\udfffB"])
def test_nul_or_lone_surrogate_in_any_text_field_is_400_naming_it(client, pkg, field, bad):
    r = post(client, {**event(pkg, "InTransit", subtag="InTransit_002"), field: bad})
    assert r.status_code == 400
    assert field in r.json()["errors"]
    assert TrackingEvent.objects.count() == 0 and refreshed(pkg).status == P.READY


def test_message_may_span_lines(client, pkg):
    r = post(client, event(pkg, "InTransit", message="Left hub\nOn its way"))
    assert r.status_code == 201
    assert TrackingEvent.objects.get().message == "Left hub\nOn its way"


def test_deeply_nested_body_is_400(client):
    r = post(client, raw=b"[" * 200_000)
    assert r.status_code == 400 and "nested too deeply" in r.json()["errors"]["body"][0]
    r = post(client, raw=b'{"events": ' + b"[" * 200_000 + b"]" * 200_000 + b"}")
    assert r.status_code == 400


def test_hostile_events_in_a_batch_are_listed_and_the_good_ones_taken(client, pkg):
    good = event(pkg, "InTransit", subtag="InTransit_002", event_id="good")
    batch = [
        {**event(pkg, "InTransit"), "event_id": "nul\x00"},
        {**event(pkg, "InTransit", event_id="bc"), "occurred_at": "0001-01-01T00:00:00+01:00"},
        {**event(pkg, "InTransit", event_id="y10k"), "occurred_at": "9999-12-31T23:59:59-05:00"},
        {**event(pkg, "InTransit", event_id="sur"), "location": "\udc80"},
        good,
        [[[[]]]],
    ]
    r = post(client, {"events": batch})
    assert r.status_code == 207
    body = r.json()
    assert body["stored"] == 1
    assert sorted(x["index"] for x in body["rejected"]) == [0, 1, 2, 3, 5]
    assert list(TrackingEvent.objects.values_list("event_id", flat=True)) == ["good"]
    assert refreshed(pkg).status == P.COLLECTED


def test_tracking_number_that_grows_past_its_column_when_upper_cased_is_400(client, pkg):
    r = post(client, {**event(pkg, "InTransit"), "tracking_number": "ß" * 30})
    assert r.status_code == 400 and "tracking_number" in r.json()["errors"]
