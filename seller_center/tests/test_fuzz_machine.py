"""Property-based fuzz of the signed machine endpoints: the storefront's orders and payments and
the carriers' tracking feed (one event and batches).

Each example takes a valid, signed body and spoils part of it with something a hostile or broken
client sends (NUL, lone surrogates, digits Python calls digits and int() refuses, numbers too big
for a float, times outside what PostgreSQL and psycopg agree on, nesting, wrong types) or sends
raw bytes. The properties: never a 5xx; on a 4xx nothing was stored (orders, lines, history,
tracking events, notifications, the parcel's state); whatever was stored reads back.

Bounded: FUZZ_EXAMPLES examples per endpoint (default 120; CI runs this on PostgreSQL and SQLite),
about 20 s in all here. A run prints its tally, e.g.
    pytest seller_center/tests/test_fuzz_machine.py -s -p no:xdist
"""

import itertools
import json
import logging
import os
from datetime import timedelta
from decimal import Decimal
from urllib.parse import quote

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from core.signing import sign
from orders.models import Order, OrderEvent, OrderLine
from orders.tests.factories import make_order
from shipping import actions as ship
from shipping.models import Package, TrackingEvent
from shipping.tests.factories import ACTOR, arranged, order_to_ship
from shops.models import Notification
from shops.tests.factories import SKUFactory

pytestmark = pytest.mark.django_db
CI = os.environ.get("CI") == "true"  # the same examples every CI run; new ones on every local run
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "120"))
FUZZ = hsettings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=CI,
                 suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
TALLY = {}
_ids = itertools.count(1)

HOSTILE_TEXT = [
    "", " ", "\x00", "A\x00B", "\ud800", "A\udfffB", "\ud83d", "²", "١٢٣", "1e400", "-1", "0", "NaN",
    "Infinity", "../../etc", "request:²", "%00", "' OR 1=1 --", "<script>x</script>", "=HYPERLINK()",
    "\u202e", "\t\r\n", "x" * 5000, "０１２",
]
HOSTILE_TIMES = [
    "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-05:00", "1970-01-01T00:00:00Z",
    "2026-01-01T10:00:00+16:00", "2026-01-01T10:00:00-23:59", "2026-02-30T00:00:00Z",
    "2026-01-01T25:00:00Z", "2026-01-01", "2026-01-01T10:00:00", "now", "+275760-09-13T00:00:00Z",
    "1999-12-31T23:59:59.999999Z", "2026-01-01T10:00:00+05:30:30.5",
]
scalars = st.one_of(
    st.sampled_from(HOSTILE_TEXT + HOSTILE_TIMES),
    st.text(max_size=40),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=False),
    st.sampled_from([None, True, False, 0, -1, 10**30, 1e308]),
)
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)), max_leaves=6)
# Bodies that are not a JSON object at all.
RAW_BODIES = [
    b"", b"null", b"[]", b"42", b'"x"', b"{", b"\xff\xfe\x00", b"[" * 200_000, b'{"a":' * 50_000,
    b'{"number": "\\ud800"}', b"\x00", json.dumps({"events": [[]] * 3}).encode(),
    json.dumps({"events": {}}).encode(), json.dumps({"events": [{}] * 1001}).encode(),
]


def paths(obj, prefix=()):
    """Every key path into a nested dict/list, the container paths included."""
    yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from paths(v, (*prefix, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from paths(v, (*prefix, i))


def spoil(body, path, value, *, drop=False):
    if not path:
        return value
    target = body
    for key in path[:-1]:
        target = target[key]
    if drop and isinstance(target, dict):
        target.pop(path[-1], None)
    else:
        target[path[-1]] = value
    return body


@st.composite
def spoiled(draw, make_body):
    """A valid body with up to three of its parts replaced by hostile values (or dropped)."""
    body = make_body()
    for _ in range(draw(st.sampled_from([0, 1, 1, 1, 2, 3]))):
        where = list(paths(body))
        path = draw(st.sampled_from(where))
        body = spoil(body, path, draw(values), drop=draw(st.booleans()) and bool(path))
        if not isinstance(body, (dict, list)):
            break
    return body


def signed_post(client, url, body, secret):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()  # ensure_ascii keeps \ud800 escaped
    return client.post(url, raw, content_type="application/json", headers={"X-Signature": sign(raw, secret)})


def counts():
    return (Order.objects.count(), OrderLine.objects.count(), OrderEvent.objects.count(),
            TrackingEvent.objects.count(), Notification.objects.count(),
            tuple(Package.objects.order_by("pk").values_list("status", flat=True)),
            tuple(Order.objects.order_by("pk").values_list("status", "paid_at")))


def reads_back():
    """Every stored time can be read again (psycopg cannot read years outside 1..9999)."""
    list(Order.objects.values_list("placed_at", "paid_at", "updated_at"))
    list(OrderEvent.objects.values_list("at", flat=True))
    list(TrackingEvent.objects.values_list("occurred_at", "received_at"))
    list(Package.objects.values_list("updated_at", flat=True))


def check(name, response, before):
    tally = TALLY.setdefault(name, {"bodies": 0, "5xx": 0, "by_status": {}})
    tally["bodies"] += 1
    tally["by_status"][response.status_code] = tally["by_status"].get(response.status_code, 0) + 1
    assert response.status_code < 500, response.content[:500]
    if 400 <= response.status_code < 500:
        assert counts() == before, f"{name}: a {response.status_code} changed what is stored"
        assert response.json(), "a refusal names the problem"
    reads_back()


@pytest.fixture(scope="module", autouse=True)
def _print_tally():
    quiet = logging.getLogger("django.request")
    level, quiet.level = quiet.level, logging.ERROR  # thousands of "Bad Request" lines otherwise
    yield
    quiet.level = level
    for name, t in TALLY.items():
        print(f"\nfuzz {name}: {t['bodies']} bodies, {t['5xx']} 5xx, statuses {dict(sorted(t['by_status'].items()))}")


# --- storefront orders -------------------------------------------------------------------------

@pytest.fixture
def order_body(shop):
    SKUFactory(shop=shop, code="MUG-RED", price=Decimal("12.50"))
    SKUFactory(shop=shop, code="TEA-1", price=Decimal("4.00"))
    placed = timezone.now().replace(microsecond=0) - timedelta(hours=2)

    def make():
        return {
            "number": f"FZ-{next(_ids)}",
            "shop": shop.slug,
            "placed_at": placed.isoformat(),
            "paid_at": (placed + timedelta(minutes=3)).isoformat(),
            "currency": shop.currency,
            "shipping_model": "PLATFORM",
            "buyer": {"name": "Dana", "email": "dana@example.com", "phone": "+15550001234",
                      "address": {"line1": "1 Market St", "line2": "", "city": "Springfield",
                                  "region": "IL", "postal_code": "62701", "country": "US"}},
            "lines": [{"sku": "MUG-RED", "quantity": 1, "unit_price": "12.50"},
                      {"sku": "TEA-1", "quantity": 2, "unit_price": "4.00"}],
        }
    return make


@FUZZ
@given(data=st.data())
def test_storefront_orders(client, order_body, data):
    body = data.draw(st.one_of(spoiled(order_body), st.sampled_from(RAW_BODIES)) if data.draw(st.integers(0, 9)) == 0
                     else spoiled(order_body))
    before = counts()
    check("storefront orders", signed_post(client, reverse("storefront-orders"), body,
                                           settings.STOREFRONT_SECRET), before)


# --- storefront payment ------------------------------------------------------------------------

@FUZZ
@given(data=st.data())
def test_storefront_payment(client, shop, data):
    order = make_order(shop, paid=False)
    valid = {"number": order.number, "paid_at": (order.placed_at + timedelta(minutes=1)).isoformat()}
    body = data.draw(st.one_of(spoiled(lambda: dict(valid)), st.sampled_from(RAW_BODIES)))
    number = data.draw(st.one_of(st.just(order.number), st.just(order.number),
                                 st.sampled_from(HOSTILE_TEXT), st.text(max_size=12)))
    if not number or number in (".", ".."):
        number = order.number
    url = "/api/storefront/orders/" + quote(number.encode("utf-8", "surrogatepass"), safe="") + "/payment"
    before = counts()
    check("storefront payment", signed_post(client, url, body, settings.STOREFRONT_SECRET), before)


# --- carrier feed ------------------------------------------------------------------------------

@pytest.fixture
def parcel():
    (p,) = arranged(order_to_ship())
    ship.mark_ready(package=p, actor=ACTOR)
    p.refresh_from_db()

    def make():
        return {
            "event_id": f"fz-{next(_ids)}",
            "carrier": p.carrier,
            "tracking_number": p.tracking_number,
            "tag": "InTransit",
            "subtag": "InTransit_001",
            "occurred_at": timezone.now().isoformat(),
            "location": "Hub",
            "message": "Departed facility",
        }
    return make


@FUZZ
@given(data=st.data())
def test_carrier_single_event(client, parcel, data):
    body = data.draw(st.one_of(spoiled(parcel), st.sampled_from(RAW_BODIES)) if data.draw(st.integers(0, 9)) == 0
                     else spoiled(parcel))
    before = counts()
    check("carrier event", signed_post(client, "/api/carriers/events/", body, settings.CARRIER_SECRET), before)


@FUZZ
@given(data=st.data())
def test_carrier_batch(client, parcel, data):
    events = [data.draw(st.one_of(st.builds(parcel), spoiled(parcel))) for _ in range(data.draw(st.integers(1, 4)))]
    before = counts()
    r = signed_post(client, "/api/carriers/events/", {"events": events}, settings.CARRIER_SECRET)
    check("carrier batch", r, before)
    if r.status_code in (200, 207):
        rejected = {item["index"] for item in r.json()["rejected"]}
        # The good events were taken even when others in the batch were refused.
        assert len(rejected) < len(events)
        assert r.json()["stored"] + r.json()["duplicates"] == len(events) - len(rejected)


def test_an_api_path_that_is_no_endpoint_answers_json_404(client):
    r = client.post("/api/storefront/orders/a%2Fb/payment", b"{}", content_type="application/json")
    assert r.status_code == 404 and "no endpoint" in r.json()["error"]
    assert client.get("/no-such-page/").status_code == 404
