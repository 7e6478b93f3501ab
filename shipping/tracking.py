"""The carrier tracking feed: validate events, store each once, move packages forward.

`receive` is the one way in, for the HTTP endpoint and the carrier simulator alike.
Ingest is set-based: a batch of one event or a thousand costs the same statements. One
locks and reads the packages of every tracking number in the batch; on PostgreSQL one more
stores the new events (skipping (carrier, event_id) already stored) and writes the packages
they changed, in the same statement. Only a package that also received a repeat costs a
further statement. Orders move through orders.actions (shipping.actions.sync_order) only for
packages that crossed collected or delivered.
"""

import functools
import json
import operator
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, CharField, Exists, F, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone

from core import payload
from core.actor import Actor
from orders.models import Order
from shops import feed

from . import carriers
from .actions import PROMISED_TRANSIT, disputes, sync_order
from .models import Package, TrackingEvent
from .transitions import GONE, HANDED_OVER, feed_moves, tag_status

P = Package.Status
MAX_BATCH = 1000
TAGS = set(TrackingEvent.Tag.values)
# What the feed reads and writes on a package (updated_at is set whenever one of them changes).
_FEED_FIELDS = ("status", "status_at", "collected_at", "delivered_at", "promised_delivery_at", "last_event_at",
                "failed_attempts")
_EVENT_COLUMNS = ("carrier", "event_id", "package_id", "tracking_number", "tag", "subtag", "occurred_at", "location",
                  "message", "from_status", "to_status")


@dataclass
class Received:
    stored: int = 0
    duplicates: int = 0
    moved: int = 0
    held: int = 0  # for a number in dispute: kept, applied when staff rule (shipping.actions.disputes)
    rejected: list = field(default_factory=list)  # {"index", "event_id", "errors"}
    orders_moved: int = 0


# The text fields of an event: (key, required, at most this many characters), in report order.
_TEXT_FIELDS = (("event_id", True, 100), ("carrier", True, 16), ("tracking_number", True, 40), ("tag", True, 20),
                ("subtag", False, 40), ("location", False, 200), ("message", False, 500))
_REPORT_ORDER = [key for key, _, _ in _TEXT_FIELDS] + ["occurred_at"]
_MULTILINE = {"message"}
# A carrier's clock may run ahead, and a scan may be sent before the order reached us, a little.
FUTURE_TOLERANCE = timedelta(days=1)
BEFORE_ORDER_TOLERANCE = timedelta(days=1)
_CARRIER_CHOICES = f"unknown carrier; one of {', '.join(carriers.CARRIERS)}"
_TAG_CHOICES = f"one of {', '.join(sorted(TAGS))}"


def parse_event(raw, *, now=None):
    """(clean event, None) or (None, {field: [errors]}). `now`: when the event arrives."""
    if not isinstance(raw, dict):
        return None, {"event": ["expected a JSON object"]}
    errors = {}
    event = {}
    for key, required, max_length in _TEXT_FIELDS:
        value = raw.get(key)
        if value is None or value == "":
            if required:
                errors[key] = ["required"]
            value = ""
        elif not isinstance(value, str):
            errors[key] = ["must be a string"]
            value = ""
        else:
            value = value.strip()
            problem = payload.text_error(value, multiline=key in _MULTILINE)
            if problem:
                errors[key] = [problem]
                value = ""
            elif len(value) > max_length:
                errors[key] = [f"at most {max_length} characters"]
        event[key] = value
    carrier = event["carrier"] = event["carrier"].lower()
    if carrier and carrier not in carriers.CARRIERS:
        errors["carrier"] = [_CARRIER_CHOICES]
    event["tracking_number"] = carriers.normalize(event["tracking_number"])
    if len(event["tracking_number"]) > 40 and "tracking_number" not in errors:  # "ß".upper() is "SS"
        errors["tracking_number"] = ["at most 40 characters"]
    if event["tag"] and event["tag"] not in TAGS:
        errors["tag"] = [_TAG_CHOICES]
    occurred = raw.get("occurred_at")
    if not isinstance(occurred, str):
        errors["occurred_at"] = ["required: an ISO-8601 time with a UTC offset"]
    else:
        event["occurred_at"], problem = payload.parse_time(occurred, latest=(now or timezone.now()) + FUTURE_TOLERANCE)
        if problem:
            errors["occurred_at"] = [problem]
    if errors:
        return None, {key: errors[key] for key in _REPORT_ORDER if key in errors}
    return event, None


def receive(raw_events, *, now=None):
    """Validate and ingest a list of raw events. Bad events are reported, good ones kept."""
    result = Received()
    clean = []
    for i, raw in enumerate(raw_events):
        event, errors = parse_event(raw, now=now)
        if errors:
            result.rejected.append({"index": i, "event_id": raw.get("event_id") if isinstance(raw, dict) else None,
                                    "errors": errors})
        else:
            clean.append((i, event))
    if clean:
        ingest(clean, result, now=now)
    return result


_feed_state = operator.attrgetter(*_FEED_FIELDS)


class _Package:
    """A locked package's feed fields, the state _apply moves forward."""

    __slots__ = ("pk", "order_id", "carrier", "tracking_number", "placed_at", *_FEED_FIELDS, "tracking_dispute_id",
                 "has_combined")

    def __init__(self, row):
        for name, value in zip(self.__slots__, row, strict=True):
            setattr(self, name, value)

    def feed_state(self):
        return _feed_state(self)

    def restore(self, state):
        for f, value in zip(_FEED_FIELDS, state, strict=True):
            setattr(self, f, value)


@transaction.atomic
def ingest(indexed_events, result=None, *, now=None):
    """Store (index, clean event) pairs once each and apply them to their packages."""
    result = result or Received()
    now = now or timezone.now()
    postgres = connection.vendor == "postgresql"
    if postgres and getattr(settings, "CARRIER_FEED_ASYNC_COMMIT", False):
        # Opt-in: the feed's commits do not wait for the WAL flush. A database crash may lose
        # the last fraction of a second of acknowledged events; nothing is ever half-applied.
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
    packages, disputed = _lock_packages({e["tracking_number"] for _, e in indexed_events})
    if disputed:
        held = [e for _, e in indexed_events if (e["carrier"], e["tracking_number"]) in disputed]
        indexed_events = [(i, e) for i, e in indexed_events if (e["carrier"], e["tracking_number"]) not in disputed]
        result.held += disputes.hold(held, disputed, now)
    fresh, seen = _screen(indexed_events, packages, result)
    if not fresh:
        return result
    if not postgres:
        # One query: which events are stored already (exact: the packages are locked).
        stored = _stored_keys(seen)
        result.duplicates += sum(1 for e in fresh if (e["carrier"], e["event_id"]) in stored)
        fresh = [e for e in fresh if (e["carrier"], e["event_id"]) not in stored]

    by_package = defaultdict(list)
    for e in fresh:
        by_package[packages[(e["carrier"], e["tracking_number"])]].append(e)
    snapshots = {pkg: pkg.feed_state() for pkg in by_package}
    rows = {pkg: _apply(pkg, events, now) for pkg, events in by_package.items()}
    changed = [pkg for pkg, before in snapshots.items() if pkg.feed_state() != before]
    if postgres:
        _store_on_postgres(rows, changed, snapshots, now, result)
    else:
        TrackingEvent.objects.bulk_create(
            [TrackingEvent(received_at=now, **r) for pkg_rows in rows.values() for r in pkg_rows], ignore_conflicts=True)
        _update_packages(changed, now)
    _count(rows, result)
    _announce_moves(snapshots, now)
    crossed = _crossed(rows, snapshots)
    crossed |= _follow_parcels([pkg for pkg in snapshots if pkg.has_combined], snapshots, now)
    _sync_orders(crossed, now, result)
    return result


def _follow_parcels(parcels, snapshots, now):
    """The packages combined into `parcels` (shipping.actions.combine) take their parcel's feed
    state: one UPDATE for the parcels that changed, only when some carry other orders. Returns the
    (order id, carrier) of those that crossed to the carrier or to delivered, like _crossed."""
    changed = [p for p in parcels if p.feed_state() != snapshots[p]]
    if not changed:
        return set()
    state = {p.pk: p for p in changed}
    members = list(Package.objects.active().filter(parcel_id__in=list(state)).select_for_update(of=("self",))
                   .order_by("pk").values_list("pk", "order_id", "parcel_id", "status"))
    moved = [Package(pk=pk, updated_at=now, **{f: getattr(state[parcel], f) for f in _FEED_FIELDS})
             for pk, _, parcel, _ in members]
    Package.objects.bulk_update(moved, [*_FEED_FIELDS, "updated_at"])
    before = {pk: status for pk, _, parcel, status in members if status != state[parcel].status}
    if before:
        feed.insert_from(
            Package.objects.filter(pk__in=list(before)), shop_id=F("shop_id"), type=feed.Type.PACKAGE_UPDATED,
            object_type="package", object_id=F("id"), object_key=Cast("id", output_field=CharField()),
            order_number=F("order__number"), action="carrier_event",
            from_status=Case(*[When(pk=pk, then=Value(s)) for pk, s in before.items()], default=Value("")),
            to_status=F("status"), at=Coalesce(F("last_event_at"), Value(now)))
    crossed = set()
    for _, order_id, parcel, before in members:
        pkg = state[parcel]
        if (pkg.status in HANDED_OVER and before not in HANDED_OVER) or (pkg.status == P.DELIVERED != before):
            crossed.add((order_id, pkg.carrier))
    return crossed


def _announce_moves(snapshots, now):
    """package.updated in the shop's change feed for each package whose status the carrier's events
    moved (one INSERT ... SELECT, only when some did; scans that move nothing are not announced)."""
    moved = {pkg.pk: snapshots[pkg][0] for pkg in snapshots if pkg.status != snapshots[pkg][0]}
    if not moved:
        return
    feed.insert_from(
        Package.objects.filter(pk__in=list(moved)), shop_id=F("shop_id"), type=feed.Type.PACKAGE_UPDATED,
        object_type="package", object_id=F("id"), object_key=Cast("id", output_field=CharField()),
        order_number=F("order__number"), action="carrier_event",
        from_status=Case(*[When(pk=pk, then=Value(before)) for pk, before in moved.items()], default=Value("")),
        to_status=F("status"), at=Coalesce(F("last_event_at"), Value(now)))


def _screen(indexed_events, packages, result):
    """The events to store, each once, with their (carrier, event_id); the others go to the result."""
    fresh, seen = [], set()
    for i, e in indexed_events:
        pkg = packages.get((e["carrier"], e["tracking_number"]))
        if pkg is None:
            result.rejected.append({"index": i, "event_id": e["event_id"],
                                    "errors": {"tracking_number": ["no package has this carrier and tracking number"]}})
        elif e["occurred_at"] < pkg.placed_at - BEFORE_ORDER_TOLERANCE:
            result.rejected.append({"index": i, "event_id": e["event_id"], "errors": {"occurred_at": [
                f"before the order was placed ({pkg.placed_at:%Y-%m-%d %H:%M} UTC) by more than a day"]}})
        elif (e["carrier"], e["event_id"]) in seen:
            result.duplicates += 1  # repeated within this request
        else:
            seen.add((e["carrier"], e["event_id"]))
            fresh.append(e)
    return fresh, seen


def _store_on_postgres(rows, changed, snapshots, now, result):
    """One statement stores the new events and writes the changed packages whose events were all
    new. A package that received a repeat (stored meanwhile by another request) is recomputed
    from its new events only (in `rows`), and it and those events' moves are fixed."""
    inserted = _store(rows, changed, now)
    stored_count = sum(len(r) for r in rows.values())
    if len(inserted) >= stored_count:
        return
    result.duplicates += stored_count - len(inserted)
    fixed, fixes = [], []
    for pkg, pkg_rows in rows.items():
        new = [r for r in pkg_rows if (r["carrier"], r["event_id"]) in inserted]
        if len(new) == len(pkg_rows):
            continue
        pkg.restore(snapshots[pkg])
        rows[pkg] = _apply(pkg, new, now)
        fixes += [(inserted[(r["carrier"], r["event_id"])], r["from_status"], r["to_status"]) for r in rows[pkg]]
        if pkg.feed_state() != snapshots[pkg]:
            fixed.append(pkg)
    _update_packages(fixed, now)
    _fix_event_moves(fixes)


def _count(rows, result):
    for pkg_rows in rows.values():
        result.stored += len(pkg_rows)
        result.moved += sum(1 for r in pkg_rows if r["to_status"])


def _crossed(rows, snapshots):
    """(order id, carrier) of each package that reached the carrier or was delivered in this batch."""
    crossed = set()
    for pkg in rows:
        before = snapshots[pkg][0]
        if (pkg.status in HANDED_OVER and before not in HANDED_OVER) or (pkg.status == P.DELIVERED != before):
            crossed.add((pkg.order_id, pkg.carrier))
    return crossed


def _sync_orders(crossed, now, result):
    for order_id, carrier in sorted(crossed):
        with transaction.atomic():
            if sync_order(order_id, Actor.carrier(carriers.CARRIERS[carrier].name), at=now) is not None:
                result.orders_moved += 1


def _apply(pkg, events, now):
    """Apply new events to a locked package in time order; return their rows."""
    rows = []
    for e in sorted(events, key=lambda e: e["occurred_at"]):
        at = e["occurred_at"]
        new = tag_status(e["tag"], e["subtag"])
        row = {**e, "package_id": pkg.pk, "from_status": "", "to_status": ""}
        if pkg.last_event_at is None or at > pkg.last_event_at:
            pkg.last_event_at = at
        if e["tag"] == TrackingEvent.Tag.ATTEMPT_FAIL:
            pkg.failed_attempts += 1  # exact: each event is new, under the package lock
        if new in HANDED_OVER and (pkg.collected_at is None or at < pkg.collected_at) and pkg.status not in GONE:
            # The earliest moment the carrier had it, even when learnt late.
            pkg.collected_at = at
            pkg.promised_delivery_at = pkg.promised_delivery_at or at + PROMISED_TRANSIT
        if feed_moves(pkg.status, pkg.status_at, new, at):
            row["from_status"], row["to_status"] = pkg.status, new
            pkg.status, pkg.status_at = new, at
            if new == P.DELIVERED:
                pkg.delivered_at = at
        rows.append(row)
    return rows


# --- the statements -------------------------------------------------------------------------
# On PostgreSQL a batch travels as one JSON document: serialising it is a single C call, where
# the ORM or array parameters cost a Python conversion per value. A few events (a single event
# is the common request) go as plain VALUES instead, which PostgreSQL plans and runs faster
# than jsonb_to_recordset (measured: a tenth to a sixth less time of both the worker and the
# database per single-event request). Elsewhere (SQLite in development and tests) the ORM's
# bulk operations do the same job.

_FEW = 8
_PACKAGES = Package._meta.db_table
_EVENTS = TrackingEvent._meta.db_table
_TYPES = {"id": "bigint", "events": "int", "package_id": "bigint", "occurred_at": "timestamptz", "status": "text",
          "failed_attempts": "int"}
_PACKAGE_COLUMNS = ("id", "events", *_FEED_FIELDS)  # events: how many of the batch's events are the package's
_EVENT_RECORD = ", ".join(f"{c} {_TYPES.get(c, 'text')}" for c in _EVENT_COLUMNS)
_PACKAGE_RECORD = ", ".join(f"{c} {_TYPES.get(c, 'timestamptz')}" for c in _PACKAGE_COLUMNS)
_SET_PACKAGE = ", ".join([*(f"{c} = v.{c}" for c in _FEED_FIELDS), "updated_at = %s"])
_EVENT_VALUES = "(" + ", ".join(["%s"] * (len(_EVENT_COLUMNS) + 1)) + ")"
_PACKAGE_VALUES = "(" + ", ".join(f"%s::{_TYPES.get(c, 'timestamptz')}" for c in _PACKAGE_COLUMNS) + ")"


def _store_sql(events, packages, counted):
    """Insert `events` (rows of _EVENT_COLUMNS + received_at), skipping (carrier, event_id) already
    stored, and write each of `packages` (v, rows of _PACKAGE_COLUMNS) whose events were all inserted."""
    sql = (f"WITH ins AS (INSERT INTO {_EVENTS} ({', '.join(_EVENT_COLUMNS)}, received_at) {events} "
           f"ON CONFLICT DO NOTHING RETURNING carrier, event_id, id, package_id)")
    if packages:
        sql += f", upd AS (UPDATE {_PACKAGES} AS p SET {_SET_PACKAGE} FROM {packages} {counted})"
    return sql + " SELECT carrier, event_id, id FROM ins"


_JSON_EVENTS = f"SELECT {', '.join(_EVENT_COLUMNS)}, %s FROM jsonb_to_recordset(%s::jsonb) AS x({_EVENT_RECORD})"
_STORE_SQL = _store_sql(
    _JSON_EVENTS,
    f"jsonb_to_recordset(%s::jsonb) AS v({_PACKAGE_RECORD}) "
    f"JOIN (SELECT package_id, count(*) AS n FROM ins GROUP BY package_id) AS c ON c.package_id = v.id",
    "WHERE p.id = v.id AND c.n = v.events")
_STORE_EVENTS_SQL = _store_sql(_JSON_EVENTS, "", "")
_FEW_COUNTED = "WHERE p.id = v.id AND v.events = (SELECT count(*) FROM ins WHERE ins.package_id = v.id)"
_UPDATE_SQL = (f"UPDATE {_PACKAGES} AS p SET {_SET_PACKAGE} "
               f"FROM jsonb_to_recordset(%s::jsonb) AS v({_PACKAGE_RECORD}) WHERE p.id = v.id")
_FIX_SQL = (f"UPDATE {_EVENTS} AS t SET from_status = v.f, to_status = v.t "
            f"FROM unnest(%s::bigint[], %s::text[], %s::text[]) AS v(id, f, t) WHERE t.id = v.id")


@functools.cache
def _lock_sql(many):
    """The packages' row lock, for one tracking number or an array of them, as (sql, params),
    with their order's placed_at (it bounds their events' times): the ORM writes that read of
    the order, a scalar subquery, so FOR UPDATE locks the package only. Built at the first batch."""
    placed_at = Subquery(Order.objects.filter(pk=OuterRef("order_id")).order_by().values("placed_at"))
    # A combined package shares its parcel's number and follows it (_follow_parcels): only parcels are read.
    read = Package.objects.filter(parcel=None).annotate(order_placed_at=placed_at, has_combined=_HAS_COMBINED).order_by(
    ).values_list("id", "order_id", "carrier", "tracking_number", "order_placed_at", *_FEED_FIELDS,
                  "tracking_dispute_id", "has_combined")
    text, params = read.query.sql_with_params()
    return f"{text} AND tracking_number {'= ANY(%s)' if many else '= %s'} ORDER BY id FOR UPDATE", list(params)


_HAS_COMBINED = Exists(Package.objects.filter(parcel_id=OuterRef("pk")).exclude(status=P.VOID))


def _lock_packages(numbers):
    """({(carrier, tracking number): _Package}, {(carrier, tracking number) in dispute: dispute id}),
    locked in id order so concurrent batches never deadlock."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # psycopg's C loader for the timestamps. Django's own, a Python subclass that only
            # sets the time zone the connection already uses (UTC), was the largest single
            # item of a batch's Python time (five timestamps per package).
            cursor.cursor.adapters.register_loader("timestamptz", _fast_timestamptz_loader())
            text, params = _lock_sql(len(numbers) > 1)
            cursor.execute(text, [*params, *numbers] if len(numbers) == 1 else [*params, list(numbers)])
            found = cursor.fetchall()
    else:
        found = (Package.objects.filter(tracking_number__in=numbers, parcel=None).annotate(has_combined=_HAS_COMBINED)
                 .select_for_update().order_by("pk")
                 .values_list("pk", "order_id", "carrier", "tracking_number", "order__placed_at", *_FEED_FIELDS,
                              "tracking_dispute_id", "has_combined"))
    packages, disputed = {}, {}
    for row in found:
        pkg = _Package(row)
        if pkg.tracking_dispute_id:  # two shops' packages have the number: nothing moves until staff rule
            disputed[(pkg.carrier, pkg.tracking_number)] = pkg.tracking_dispute_id
        else:
            packages[(pkg.carrier, pkg.tracking_number)] = pkg
    return packages, disputed


@functools.cache
def _fast_timestamptz_loader():
    import psycopg

    return psycopg.adapters.get_loader(psycopg.postgres.types["timestamptz"].oid, psycopg.pq.Format.TEXT)


def _stored_keys(keys):
    cond = Q()
    for carrier in {c for c, _ in keys}:
        cond |= Q(carrier=carrier, event_id__in=[eid for c, eid in keys if c == carrier])
    return set(TrackingEvent.objects.filter(cond).values_list("carrier", "event_id"))


def _package_row(pkg, **extra):
    return {"id": pkg.pk, **extra, **{f: getattr(pkg, f) for f in _FEED_FIELDS}}


def _store(rows, changed, now):
    """PostgreSQL: insert the events (skipping stored ones) and update each changed package all
    of whose events were inserted, in one statement. Returns {(carrier, event_id): id} inserted."""
    events = [r for pkg_rows in rows.values() for r in pkg_rows]
    if len(events) <= _FEW:
        sql = _store_sql("VALUES " + ", ".join([_EVENT_VALUES] * len(events)),
                         ("(VALUES " + ", ".join([_PACKAGE_VALUES] * len(changed)) +
                          f") AS v({', '.join(_PACKAGE_COLUMNS)})") if changed else "", _FEW_COUNTED)
        params = [value for r in events for value in (*(r[c] for c in _EVENT_COLUMNS), now)]
        if changed:
            params.append(now)
            params += [value for pkg in changed for value in _package_row(pkg, events=len(rows[pkg])).values()]
    else:
        sql = _STORE_SQL if changed else _STORE_EVENTS_SQL
        params = [now, json.dumps(events, default=_iso)]  # each row holds exactly _EVENT_COLUMNS
        if changed:
            params += [now, json.dumps([_package_row(pkg, events=len(rows[pkg])) for pkg in changed], default=_iso)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {(c, e): pk for c, e, pk in cursor.fetchall()}


def _iso(value):
    return value.isoformat()


def _fix_event_moves(fixes):
    """(id, from_status, to_status) of stored events whose move was recomputed."""
    if not fixes:
        return
    with connection.cursor() as cursor:
        cursor.execute(_FIX_SQL, [[x[0] for x in fixes], [x[1] for x in fixes], [x[2] for x in fixes]])


def _update_packages(packages, now):
    if not packages:
        return
    if connection.vendor != "postgresql":
        Package.objects.bulk_update(
            [Package(pk=p.pk, updated_at=now, **{f: getattr(p, f) for f in _FEED_FIELDS}) for p in packages],
            [*_FEED_FIELDS, "updated_at"])
        return
    with connection.cursor() as cursor:
        cursor.execute(_UPDATE_SQL, [now, json.dumps([_package_row(p) for p in packages], default=_iso)])
