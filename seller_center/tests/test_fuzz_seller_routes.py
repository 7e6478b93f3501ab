"""Fuzz of every seller route under /s/<shop>/: hostile query parameters on GET, hostile form
fields on POST, hostile path segments, each as a full page and with `HX-Request: true`.

The routes are read from the URL resolver, so a new seller page is fuzzed without being
listed here. Values are what a hand-edited URL, a stale form or a hostile client sends: digits
Python calls digits and int() refuses ("²", "٣"), numbers too big for a float or a bigint,
dates Python's date cannot add a day to, NUL, lone surrogates (sent percent-encoded, as a
browser would), path tricks, cursors that decode to nonsense. The property: never a 5xx.

Three parts, each request rolled back so every one meets the same shop:
- a sweep of every route, GET and POST, full and HTMX, every known field spoiled at once, then
  hostile and another shop's path segments;
- each key a route's view reads (learnt by watching QueryDict), alone, with each potent value,
  on each of the route's objects (a new order, one to ship, one shipped, a platform order, a
  return on its way back...), so a parser is not hidden behind another field's error or an
  action's refusal;
- FUZZ_SELLER_EXAMPLES hypothesis examples (default 300) mixing all of it.
About 2,300 requests and 25 s of CPU (SQLite or PostgreSQL); a run prints its tally:
    pytest seller_center/tests/test_fuzz_seller_routes.py -s -p no:xdist
"""

import base64
import io
import logging
import os
import re
import time
import traceback
from datetime import timedelta
from urllib.parse import quote

import pytest
from django.core.signals import got_request_exception
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from core.actor import Actor
from orders.tests.factories import make_order
from returns import actions as return_actions
from returns.tests.factories import delivered_order, open_return, upload
from shipping import actions as ship
from shipping.models import PrintJob
from shipping.tests.factories import ACTOR, arranged, order_to_ship, png_bytes, ups_number
from shops.models import Notification
from shops.tests.factories import MembershipFactory, ShopFactory

pytestmark = pytest.mark.django_db
EXAMPLES = int(os.environ.get("FUZZ_SELLER_EXAMPLES", "300"))
FUZZ = hsettings(max_examples=EXAMPLES, deadline=None, database=None,
                 suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                        HealthCheck.data_too_large])
TALLY = {"requests": 0, "5xx": 0, "by_status": {}, "routes": set(), "seconds": 0.0}


def _cursor(raw):
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


HOSTILE = [
    "", " ", "²", "١٢٣", "０１２", "1e400", "-1", "0", "NaN", "Infinity", "9999-12-31", "0001-01-01",
    "2026-02-30", "2026-13-01T25:61", "9999-12-31T23:59", "0001-01-01T00:00", "\x00", "A\x00B", "\ud800",
    "x\udfffy", "../", "../../etc/passwd", "/\\evil.example", "//evil.example/", "https://evil.example/",
    str(2**63), str(10**30), "-" + str(2**63), "request:²", "request:" + str(10**30), "request:-1",
    "p²", "o\x00", "'; DROP TABLE orders_order; --", "<script>x</script>", "=HYPERLINK(\"x\")", "\u202e",
    "\t\r\n", "x" * 3000, " ".join(f"N{i}" for i in range(150)), "1_000", " 7 ", "7.0", "true",
    _cursor(b"[1e400, 5]"), _cursor(b'["2026-01-01T00:00:00+00:00", 1e400]'), _cursor(b"[null, 5]"),
    _cursor(b'["9999-12-31T23:59:59-05:00", 1]'), _cursor(b"[" * 3000), "%", "%zz",
]
# Names the seller views read, besides every form field (added from the forms below).
NAMES = [
    "after", "before", "ids", "next", "action", "all_matching", "row_confirm", "days", "tab", "kind", "size",
    "package", "q", "sort", "board", "placed_from", "placed_to", "deadline", "shipping_model", "sku",
    "package_status", "reason", "note", "text", "body", "amount", "carrier", "tracking_number", "label_note",
    "description", "event_start", "event_end", "orders", "handover", "pickup_slot", "dropoff_point",
    "all_or_nothing", "tracking-p²", "tracking-", "tracking-o", "tracking-x", "carrier-p²", "q-1-1", "q-²-1",
    "q-1-²", "\x00", "x\ud800",
]
HX_TARGETS = ["results", "to-ship", "rows", "order-main", "request-main", "notification-list", "", "\x00"]


def _form_field_names():
    from orders import forms as order_forms
    from orders.listing import OrderFilterForm
    from returns import forms as return_forms
    from shipping import forms as ship_forms

    names = set()
    for module in (order_forms, return_forms, ship_forms):
        for obj in vars(module).values():
            if isinstance(obj, type) and hasattr(obj, "base_fields"):
                names |= set(obj.base_fields)
    names |= set(OrderFilterForm().fields)
    return sorted(names)


def seller_routes():
    """(route, URL name) of every pattern under s/<slug:shop>/, from the resolver."""
    found = []

    def walk(patterns, prefix, namespace):
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + str(p.pattern), p.namespace or namespace)
            elif isinstance(p, URLPattern):
                found.append((prefix + str(p.pattern), f"{namespace}:{p.name}" if namespace else p.name))

    walk(get_resolver().url_patterns, "", None)
    return [(route, name) for route, name in found if route.startswith("s/<slug:shop>/")]


ROUTES = seller_routes()
_PLACEHOLDER = re.compile(r"<(?:(\w+):)?(\w+)>")


def enc(value):
    """Percent-encoded as a browser sends it; lone surrogates as their (invalid) UTF-8 bytes."""
    return quote(value.encode("utf-8", "surrogatepass"), safe="")


@pytest.fixture
def world(settings, tmp_path):
    """One seller's shop with something at every stage, and another shop's order."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    seller = MembershipFactory().user
    shop = seller.memberships.get().shop
    new = make_order(shop, number="bor-100033")
    to_ship = order_to_ship(shop, model="SELLER")
    (seller_pkg,) = ship.ensure_packages(to_ship, ACTOR)
    shipped = order_to_ship(shop, model="SELLER")
    (shipped_pkg,) = ship.ensure_packages(shipped, ACTOR)
    ship.ship_package(package=shipped_pkg, carrier="ups", tracking_number=ups_number(), actor=ACTOR)
    platform = order_to_ship(shop)
    (platform_pkg,) = arranged(platform)
    job = ship.record_print(shop=shop, packages=[platform_pkg], kind="label", size="4x6", actor=ACTOR)
    # A job stored before sizes were checked: reprints of it must not fail.
    bad_job = PrintJob.objects.create(shop=shop, kind="label", size="ZZ", package_count=1, printed_at=timezone.now())
    bad_job.packages.set([platform_pkg])
    photo = ship.add_handover_photo(package=platform_pkg, upload=upload(content=png_bytes()), actor=ACTOR)
    start = timezone.now() - timedelta(hours=2)
    ticket = ship.file_force_majeure(shop=shop, order_ids=[to_ship.pk], actor=ACTOR, description="Flood closed the depot",
                                     event_start=start, event_end=start + timedelta(days=1))
    request = open_return(delivered_order(shop), files=[upload()])
    # A return on its way back, so "receive" and "dispute" reach their actions.
    shipped_back = open_return(delivered_order(shop))
    shipped_back = return_actions.approve_request(request=shipped_back, actor=Actor.seller(seller))
    shipped_back = return_actions.ship_back(request=shipped_back, carrier="UPS", tracking="1Z999")
    foreign = make_order(ShopFactory())
    client = Client(raise_request_exception=False)
    client.force_login(seller)
    lines = list(to_ship.lines.values_list("pk", flat=True))
    return {
        "client": client,
        "shop": shop,
        "numbers": [new.number, to_ship.number, shipped.number, platform.number, request.order.number],
        "pk": {
            "print": [job.pk, bad_job.pk], "packages": [seller_pkg.pk, shipped_pkg.pk, platform_pkg.pk],
            "photos": [photo.pk], "tickets": [ticket.pk], "requests": [request.pk, shipped_back.pk],
        },
        "request_photo": list(request.photos.values_list("pk", flat=True)),
        "foreign": foreign.number,
        "valid": [str(i) for i in (seller_pkg.pk, platform_pkg.pk, request.pk, *lines)]
        + [new.number, "ups", ups_number(), "4x6", "A6", "label", "slip", "confirm", "cancel", "other",
           "pricing_error", "1", "2", "DROP_OFF", "PICKUP", "2026-01-01", "2026-01-01T10:00", f"request:{request.pk}"],
        "names": sorted(set(NAMES) | set(_form_field_names())
                        | {f"q-{line}-{k}" for line in lines for k in (1, 2)}
                        | {f"tracking-p{seller_pkg.pk}", f"carrier-p{seller_pkg.pk}",
                           f"tracking-o{to_ship.number}", f"carrier-o{to_ship.number}"}),
        "notifications": Notification.objects.filter(shop=shop).count(),
    }


HOSTILE_SEGMENTS = ["0", str(2**63), str(10**30), "%00", "%C2%B2", "%ED%A0%80", "..", "%2E%2E", "a%2Fb",
                    "x" * 300, "-1", "%0A"]


def build_path(world, route, segment_choice):
    """The route with every placeholder filled: a real value of this shop, or (segment_choice
    says which) another shop's, or a hostile segment (already percent-encoded)."""
    def fill(match):
        name = match.group(2)
        kind, index = segment_choice
        if name == "shop":
            return world["shop"].slug if kind != "foreign-shop" else "no-such-shop"
        if kind == "hostile":
            return HOSTILE_SEGMENTS[index % len(HOSTILE_SEGMENTS)]
        if name == "number":
            return world["foreign"] if kind == "foreign" else enc(world["numbers"][index % len(world["numbers"])])
        if name == "photo":
            return str(world["request_photo"][index % len(world["request_photo"])])
        section = next((k for k in world["pk"] if f"{k}/" in route), "requests")
        ids = world["pk"][section]
        return str(ids[index % len(ids)])

    return "/" + _PLACEHOLDER.sub(fill, route)


def send(world, route, method, htmx, fields, segment_choice, hx_target="", check=True):
    """One request, tallied. A 5xx (or an exception the view raised) fails the test with the
    view's traceback; with check=False it is returned in a list instead, so a sweep goes on."""
    path = build_path(world, route, segment_choice)
    headers = {"HX-Request": "true", "HX-Target": hx_target} if htmx else {}
    errors = []

    def record(sender, request=None, **kwargs):
        errors.append(traceback.format_exc(limit=25))

    got_request_exception.connect(record)
    started = time.perf_counter()
    try:
        # Every request sees the world as it was built (an approve does not use up the
        # request the next example needs) and leaves it so.
        with transaction.atomic():
            response = _request(world["client"], route, method, path, fields, headers)
            if getattr(response, "streaming", False):
                content = b"".join(response.streaming_content)[:300]  # an export fails while streaming, if at all
            else:
                content = response.content[:300]
            transaction.set_rollback(True)
    finally:
        got_request_exception.disconnect(record)
    TALLY["seconds"] += time.perf_counter() - started
    TALLY["requests"] += 1
    TALLY["routes"].add(route)
    TALLY["by_status"][response.status_code] = TALLY["by_status"].get(response.status_code, 0) + 1
    TALLY["last_status"] = response.status_code
    if response.status_code >= 500 or errors:
        TALLY["5xx"] += 1
    failed = response.status_code >= 500 or errors
    report = (method, path, fields[:6], htmx, response.status_code, content, "".join(errors))
    if check:
        assert not failed, report
    return [report] if failed else []


def _request(client, route, method, path, fields, headers):
    body = "&".join(f"{enc(k)}={enc(v)}" for k, v in fields)
    if method == "GET":
        return client.get(f"{path}?{body}", headers=headers)
    if route.endswith(("upload", "photos")):
        # Multipart, as the upload forms send it, with a hostile CSV or image in the file field.
        # (The test client encodes text strictly; a browser's lone surrogate arrives as U+FFFD.)
        data = {k.encode("utf-8", "replace").decode(): v.encode("utf-8", "replace").decode() for k, v in fields}
        cells = [v.replace("\n", " ") for _, v in fields[:8]] or [""]
        csv_text = "order_number,package,carrier,tracking_number\n" + "\n".join(
            ",".join(cells[(i + j) % len(cells)] for j in range(4)) for i in range(3)
        )
        data["file"] = io.BytesIO(csv_text.encode("utf-8", "surrogatepass"))
        data["file"].name = "ship.csv"
        data["photo"] = io.BytesIO(csv_text.encode("utf-8", "surrogatepass")[:200])
        data["photo"].name = "p.png"
        return client.post(path, data, headers=headers)
    return client.post(path, body, content_type="application/x-www-form-urlencoded", headers=headers)


@pytest.fixture(scope="module", autouse=True)
def _quiet_and_tally():
    quiet = logging.getLogger("django.request")
    level, quiet.level = quiet.level, logging.CRITICAL  # thousands of "Bad Request" lines otherwise
    started = time.perf_counter()
    yield
    quiet.level = level
    print(f"\nfuzz seller routes: {TALLY['requests']} requests over {len(TALLY['routes'])} of {len(ROUTES)} routes, "
          f"{TALLY['5xx']} 5xx, {time.perf_counter() - started:.1f} s "
          f"(requests {TALLY['seconds']:.1f} s), statuses {dict(sorted(TALLY['by_status'].items()))}")


def test_the_resolver_finds_the_seller_routes():
    names = {name for _, name in ROUTES}
    assert {"orders:list", "orders:bulk", "orders:export", "shipping:reprint", "shipping:split",
            "shops:notifications-read", "returns:message", "shop_health"} <= names
    assert len(ROUTES) >= 35


def test_sweep_every_field_of_every_route(world):
    """Each route, GET and POST, full and HTMX: every known field spoiled at once, the
    hostile values rotated over the fields; then hostile and another shop's path segments."""
    names, failures = world["names"], []
    for route, _ in ROUTES:
        for turn in range(1):
            for method in ("GET", "POST"):
                for htmx in (False, True):
                    offset = turn * 7 + (method == "POST") * 3 + htmx
                    fields = [(n, HOSTILE[(i + offset) % len(HOSTILE)]) for i, n in enumerate(names)]
                    failures += send(world, route, method, htmx, fields, ("valid", turn),
                                     hx_target=HX_TARGETS[offset % 6], check=False)
        if _PLACEHOLDER.sub("", route.removeprefix("s/<slug:shop>/")) != route.removeprefix("s/<slug:shop>/"):
            for i in range(len(HOSTILE_SEGMENTS)):
                failures += send(world, route, ("GET", "POST")[i % 2], bool(i % 3), [], ("hostile", i), check=False)
            failures += send(world, route, "GET", False, [], ("foreign", 0), check=False)
            failures += send(world, route, "POST", True, [], ("foreign", 0), check=False)
    assert not failures, "\n\n".join(str(f) for f in failures[:5])


# The values most likely to reach a parser: each is sent alone in every field a route reads,
# on every object of the route (each in its own state: new, to ship, shipped, ...).
POTENT = ["²", "1e400", "-1", "9999-12-31", "0001-01-01T00:00", "\x00", "\ud800", str(2**63), "x" * 3000,
          _cursor(b"[1e400, 5]")]
# ... and for a redirect target, what points elsewhere.
POTENT_NEXT = ["request:²", f"request:{2**63}", "../", "//evil.example/", "/\\evil.example", "https://evil.example/"]


def objects_of(world, route):
    """How many real objects of this shop can fill the route's placeholders."""
    sizes = [1]
    for _, name in _PLACEHOLDER.findall(route):
        if name == "number":
            sizes.append(len(world["numbers"]))
        elif name == "pk":
            sizes.append(len(world["pk"][next((k for k in world["pk"] if f"{k}/" in route), "requests")]))
    return max(sizes)


def _read_keys(world, route, method, monkeypatch):
    """The query or form keys a route's view reads, learnt from one plain request by watching
    QueryDict (forms read their fields through it too)."""
    from django.http import QueryDict

    seen = set()
    for name in ("get", "getlist", "__getitem__", "__contains__"):
        original = getattr(QueryDict, name)

        def spy(self, key, *args, _original=original, **kwargs):
            if isinstance(key, str):
                seen.add(key)
            return _original(self, key, *args, **kwargs)

        monkeypatch.setattr(QueryDict, name, spy)
    try:
        send(world, route, method, False, [], ("valid", 0), check=False)
        status = TALLY["last_status"]
    finally:
        monkeypatch.undo()
    if status == 405:
        return []
    # Keys that differ only in their numbers (q-<line>-1 .. q-<line>-20) are one parser: two of each.
    families = {}
    for key in sorted(seen):
        families.setdefault(re.sub(r"[0-9]+", "#", key), []).append(key)
    return [key for keys in families.values() for key in keys[:2]]


def test_each_field_a_route_reads_alone_with_each_potent_value(world, monkeypatch):
    """Per route, method and object: the keys its view reads, each sent alone with each potent
    value (a hostile value in one field is not hidden behind another field's error, nor an
    action's parser behind the refusal of an object in the wrong state)."""
    failures, reads = [], {}
    for route, name in ROUTES:
        for method in ("GET", "POST"):
            keys = _read_keys(world, route, method, monkeypatch)
            reads[(name, method)] = keys
            for k in range(objects_of(world, route)):
                for i, key in enumerate(keys):
                    for j, value in enumerate(POTENT + (POTENT_NEXT if key == "next" else [])):
                        failures += send(world, route, method, bool((i + j + k) % 2), [(key, value)], ("valid", k),
                                         check=False)
    # The probe sees what the views read (if not, this test would send nothing).
    assert "after" in reads[("shipping:home", "GET")] and "ids" in reads[("shops:notifications-read", "POST")]
    assert any(k.startswith("q-") for k in reads[("shipping:split", "POST")])
    assert not failures, "\n\n".join(str(f) for f in failures[:5])


@st.composite
def hostile_request(draw, world):
    route = draw(st.sampled_from([r for r, _ in ROUTES]))
    values = st.one_of(
        st.sampled_from(HOSTILE),
        st.sampled_from(world["valid"]),
        st.text(max_size=30),  # may hold lone surrogates: sent as their bytes
        st.integers(min_value=-(2**70), max_value=2**70).map(str),
    )
    names = st.one_of(st.sampled_from(world["names"]), st.text(max_size=12))
    fields = draw(st.lists(st.tuples(names, values), max_size=8))
    segment = draw(st.sampled_from([("valid", 0), ("valid", 1), ("valid", 2), ("hostile", draw(st.integers(0, 20))),
                                    ("foreign", 0)]))
    return route, draw(st.sampled_from(["GET", "POST"])), draw(st.booleans()), fields, segment, \
        draw(st.sampled_from(HX_TARGETS))


@FUZZ
@given(data=st.data())
def test_hypothesis_hostile_requests_never_answer_5xx(world, data):
    route, method, htmx, fields, segment, target = data.draw(hostile_request(world))
    send(world, route, method, htmx, fields, segment, hx_target=target)
