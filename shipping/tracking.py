"""The carrier tracking feed: validate events, store each once, move packages forward.

`receive` is the one way in, for the HTTP endpoint and the carrier simulator alike.
Ingest is set-based: one query locks the packages, one finds the events already stored,
one bulk insert (ignoring conflicts on (carrier, event_id)), one bulk update of packages;
orders move through orders.actions only when a package crossed collected or delivered.
"""

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from orders.actions import Actor

from . import carriers
from .actions import PROMISED_TRANSIT, sync_order
from .models import Package, TrackingEvent
from .transitions import HANDED_OVER, feed_moves, tag_status

P = Package.Status
MAX_BATCH = 1000
TAGS = set(TrackingEvent.Tag.values)
_EVENT_COLUMNS = ["carrier", "event_id", "package_id", "tracking_number", "tag", "subtag", "occurred_at", "received_at",
                  "location", "message", "from_status", "to_status"]
_UPDATED = ["status", "status_at", "collected_at", "delivered_at", "promised_delivery_at", "last_event_at",
            "failed_attempts", "updated_at"]
_PACKAGE_FIELDS = ["order_id", "carrier", "tracking_number", *_UPDATED]


@dataclass
class Received:
    stored: int = 0
    duplicates: int = 0
    moved: int = 0
    rejected: list = field(default_factory=list)  # {"index", "event_id", "errors"}
    orders_moved: int = 0


def _text(raw, key, errors, *, required=True, max_length=200):
    value = raw.get(key)
    if value is None or value == "":
        if required:
            errors[key] = ["required"]
        return ""
    if not isinstance(value, str):
        errors[key] = ["must be a string"]
        return ""
    value = value.strip()
    if len(value) > max_length:
        errors[key] = [f"at most {max_length} characters"]
    return value


def parse_event(raw):
    """(clean event, None) or (None, {field: [errors]})."""
    if not isinstance(raw, dict):
        return None, {"event": ["expected a JSON object"]}
    errors = {}
    event_id = _text(raw, "event_id", errors, max_length=100)
    carrier = _text(raw, "carrier", errors, max_length=16).lower()
    if carrier and carrier not in carriers.CARRIERS:
        errors["carrier"] = [f"unknown carrier; one of {', '.join(carriers.CARRIERS)}"]
    number = carriers.normalize(_text(raw, "tracking_number", errors, max_length=40))
    tag = _text(raw, "tag", errors, max_length=20)
    if tag and tag not in TAGS:
        errors["tag"] = [f"one of {', '.join(sorted(TAGS))}"]
    subtag = _text(raw, "subtag", errors, required=False, max_length=40)
    location = _text(raw, "location", errors, required=False, max_length=200)
    message = _text(raw, "message", errors, required=False, max_length=500)
    occurred = raw.get("occurred_at")
    occurred_at = None
    if not isinstance(occurred, str):
        errors["occurred_at"] = ["required: an ISO-8601 time with a UTC offset"]
    else:
        try:
            occurred_at = datetime.fromisoformat(occurred)
        except ValueError:
            occurred_at = None
        if occurred_at is None or occurred_at.tzinfo is None:
            errors["occurred_at"] = ["an ISO-8601 time with a UTC offset, e.g. 2026-11-21T10:00:00Z"]
    if errors:
        return None, errors
    return {"event_id": event_id, "carrier": carrier, "tracking_number": number, "tag": tag, "subtag": subtag,
            "occurred_at": occurred_at, "location": location, "message": message}, None


def receive(raw_events, *, now=None):
    """Validate and ingest a list of raw events. Bad events are reported, good ones kept."""
    result = Received()
    clean = []
    for i, raw in enumerate(raw_events):
        event, errors = parse_event(raw)
        if errors:
            result.rejected.append({"index": i, "event_id": raw.get("event_id") if isinstance(raw, dict) else None,
                                    "errors": errors})
        else:
            clean.append((i, event))
    if clean:
        ingest(clean, result, now=now)
    return result


@transaction.atomic
def ingest(indexed_events, result=None, *, now=None):
    """Store (index, clean event) pairs once each and apply them to their packages."""
    result = result or Received()
    now = now or timezone.now()
    if connection.vendor == "postgresql" and getattr(settings, "CARRIER_FEED_ASYNC_COMMIT", False):
        # Opt-in: the feed's commits do not wait for the WAL flush. A database crash may lose
        # the last fraction of a second of acknowledged events; nothing is ever half-applied.
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
    numbers = {e["tracking_number"] for _, e in indexed_events}
    # One query: the packages, locked in id order so concurrent batches never deadlock.
    packages = {}
    for pkg in Package.objects.filter(tracking_number__in=numbers).only(*_PACKAGE_FIELDS).select_for_update().order_by("pk"):
        packages[(pkg.carrier, pkg.tracking_number)] = pkg
    fresh, seen = [], set()
    for i, e in indexed_events:
        if (e["carrier"], e["tracking_number"]) not in packages:
            result.rejected.append({"index": i, "event_id": e["event_id"],
                                    "errors": {"tracking_number": ["no package has this carrier and tracking number"]}})
        elif (e["carrier"], e["event_id"]) in seen:
            result.duplicates += 1  # repeated within this request
        else:
            seen.add((e["carrier"], e["event_id"]))
            fresh.append(e)
    if not fresh:
        return result
    postgres = connection.vendor == "postgresql"
    if not postgres:
        # One query: which events are stored already (exact: the packages are locked).
        stored = _stored_keys(seen)
        result.duplicates += sum(1 for e in fresh if (e["carrier"], e["event_id"]) in stored)
        fresh = [e for e in fresh if (e["carrier"], e["event_id"]) not in stored]

    by_package = defaultdict(list)
    for e in fresh:
        by_package[packages[(e["carrier"], e["tracking_number"])]].append(e)
    snapshots = {pkg: {f: getattr(pkg, f) for f in _UPDATED} for pkg in by_package}
    rows = {pkg: _apply(pkg, events, now) for pkg, events in by_package.items()}
    all_rows = [r for pkg_rows in rows.values() for r in pkg_rows]
    if postgres:
        # One statement stores the new events and says which they were; a package that
        # received a repeat is recomputed from its new events only, and those rows fixed.
        inserted = _insert_events(all_rows, returning=True)
        if len(inserted) < len(all_rows):
            result.duplicates += len(all_rows) - len(inserted)
            fixes = []
            for pkg, pkg_rows in rows.items():
                new = [r for r in pkg_rows if (r["carrier"], r["event_id"]) in inserted]
                if len(new) == len(pkg_rows):
                    continue
                for f, value in snapshots[pkg].items():
                    setattr(pkg, f, value)
                rows[pkg] = _apply(pkg, new, now)
                fixes += [(inserted[(r["carrier"], r["event_id"])], r["from_status"], r["to_status"]) for r in rows[pkg]]
            _fix_event_moves(fixes)
    else:
        _insert_events(all_rows)
    changed, crossed = [], set()
    for pkg, pkg_rows in rows.items():
        result.stored += len(pkg_rows)
        result.moved += sum(1 for r in pkg_rows if r["to_status"])
        before = snapshots[pkg]["status"]
        if any(getattr(pkg, f) != v for f, v in snapshots[pkg].items()):
            pkg.updated_at = now
            changed.append(pkg)
        if (pkg.status in HANDED_OVER and before not in HANDED_OVER) or (pkg.status == P.DELIVERED != before):
            crossed.add((pkg.order_id, pkg.carrier))
    if changed:
        _update_packages(changed)
    for order_id, carrier in sorted(crossed):
        with transaction.atomic():
            if sync_order(order_id, Actor.carrier(carriers.CARRIERS[carrier].name), at=now) is not None:
                result.orders_moved += 1
    return result


def _apply(pkg, events, now):
    """Apply new events to a locked package in time order; return their rows."""
    rows = []
    for e in sorted(events, key=lambda e: e["occurred_at"]):
        at = e["occurred_at"]
        new = tag_status(e["tag"], e["subtag"])
        row = {**e, "package_id": pkg.pk, "received_at": now, "from_status": "", "to_status": ""}
        if pkg.last_event_at is None or at > pkg.last_event_at:
            pkg.last_event_at = at
        if e["tag"] == TrackingEvent.Tag.ATTEMPT_FAIL:
            pkg.failed_attempts += 1  # exact: each event is new, under the package lock
        if new in HANDED_OVER and (pkg.collected_at is None or at < pkg.collected_at) and pkg.status not in (P.LOST, P.VOID):
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


def _stored_keys(keys):
    cond = Q()
    for carrier in {c for c, _ in keys}:
        cond |= Q(carrier=carrier, event_id__in=[eid for c, eid in keys if c == carrier])
    return set(TrackingEvent.objects.filter(cond).values_list("carrier", "event_id"))


# --- the two writes, set-based ------------------------------------------------------------------
# On PostgreSQL each is one statement over arrays (unnest), which costs a fraction of the
# ORM's per-row parameter handling; elsewhere the ORM's bulk operations do the same job.


def _insert_events(rows, returning=False):
    """Insert, skipping (carrier, event_id) already stored; with returning (PostgreSQL),
    return {(carrier, event_id): id} of the rows actually inserted."""
    if connection.vendor != "postgresql":
        TrackingEvent.objects.bulk_create([TrackingEvent(**r) for r in rows], ignore_conflicts=True)
        return None
    # The batch travels as one JSON document: serialising it is a single C call, where
    # array parameters cost a Python conversion per value.
    types = {"package_id": "bigint", "occurred_at": "timestamptz", "received_at": "timestamptz"}
    record = ", ".join(f"{c} {types.get(c, 'text')}" for c in _EVENT_COLUMNS)
    sql = (f"INSERT INTO {TrackingEvent._meta.db_table} ({', '.join(_EVENT_COLUMNS)}) "
           f"SELECT {', '.join(_EVENT_COLUMNS)} FROM jsonb_to_recordset(%s::jsonb) AS x({record}) "
           f"ON CONFLICT DO NOTHING")
    if returning:
        sql += " RETURNING carrier, event_id, id"
    payload = json.dumps(rows, default=_iso)  # each row holds exactly _EVENT_COLUMNS
    with connection.cursor() as cursor:
        cursor.execute(sql, [payload])
        return {(c, e): pk for c, e, pk in cursor.fetchall()} if returning else None


def _iso(value):
    return value.isoformat()


def _fix_event_moves(fixes):
    """(id, from_status, to_status) of stored events whose move was recomputed."""
    if not fixes:
        return
    sql = (f"UPDATE {TrackingEvent._meta.db_table} AS t SET from_status = v.f, to_status = v.t "
           f"FROM unnest(%s::bigint[], %s::text[], %s::text[]) AS v(id, f, t) WHERE t.id = v.id")
    with connection.cursor() as cursor:
        cursor.execute(sql, [[x[0] for x in fixes], [x[1] for x in fixes], [x[2] for x in fixes]])


def _update_packages(packages):
    if connection.vendor != "postgresql":
        Package.objects.bulk_update(packages, _UPDATED)
        return
    types = {"status": "text", "failed_attempts": "int"}
    record = ", ".join(["id bigint", *(f"{c} {types.get(c, 'timestamptz')}" for c in _UPDATED)])
    sets = ", ".join(f"{c} = v.{c}" for c in _UPDATED)
    sql = (f"UPDATE {Package._meta.db_table} AS p SET {sets} "
           f"FROM jsonb_to_recordset(%s::jsonb) AS v({record}) WHERE p.id = v.id")
    payload = json.dumps([{"id": p.pk, **{c: getattr(p, c) for c in _UPDATED}} for p in packages], default=_iso)
    with connection.cursor() as cursor:
        cursor.execute(sql, [payload])
