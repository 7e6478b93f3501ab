"""The carrier tracking feed: validate events, store each once, move packages forward.

`receive` is the one way in, for the HTTP endpoint and the carrier simulator alike.
Ingest is set-based: one query locks the packages, one finds the events already stored,
one bulk insert (ignoring conflicts on (carrier, event_id)), one bulk update of packages;
orders move through orders.actions only when a package crossed collected or delivered.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from orders.actions import Actor

from . import carriers
from .actions import PROMISED_TRANSIT, sync_order
from .models import Package, TrackingEvent
from .transitions import HANDED_OVER, RANK, feed_moves, tag_status

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
    numbers = {e["tracking_number"] for _, e in indexed_events}
    # One query: the packages, locked in id order so concurrent batches never deadlock.
    packages = {}
    for pkg in Package.objects.filter(tracking_number__in=numbers).only(*_PACKAGE_FIELDS).select_for_update().order_by("pk"):
        packages[(pkg.carrier, pkg.tracking_number)] = pkg
    known = []
    for i, e in indexed_events:
        if (e["carrier"], e["tracking_number"]) in packages:
            known.append(e)
        else:
            result.rejected.append({"index": i, "event_id": e["event_id"],
                                    "errors": {"tracking_number": ["no package has this carrier and tracking number"]}})
    if not known:
        return result
    # One query: which of these events are stored already (under the package locks, so exact).
    keys = {(e["carrier"], e["event_id"]) for e in known}
    cond = Q()
    for carrier in {c for c, _ in keys}:
        cond |= Q(carrier=carrier, event_id__in=[eid for c, eid in keys if c == carrier])
    stored = set(TrackingEvent.objects.filter(cond).values_list("carrier", "event_id"))
    fresh, seen = [], set()
    for e in known:
        key = (e["carrier"], e["event_id"])
        if key in stored or key in seen:
            result.duplicates += 1
            continue
        seen.add(key)
        fresh.append(e)
    if not fresh:
        return result

    by_package = defaultdict(list)
    for e in fresh:
        by_package[(e["carrier"], e["tracking_number"])].append(e)
    rows, changed, crossed = [], [], set()
    for key, events in by_package.items():
        pkg = packages[key]
        before = pkg.status
        dirty = False
        for e in sorted(events, key=lambda e: e["occurred_at"]):
            at = e["occurred_at"]
            new = tag_status(e["tag"], e["subtag"])
            row = {**e, "package_id": pkg.pk, "received_at": now, "from_status": "", "to_status": ""}
            if pkg.last_event_at is None or at > pkg.last_event_at:
                pkg.last_event_at, dirty = at, True
            if e["tag"] == TrackingEvent.Tag.ATTEMPT_FAIL:
                pkg.failed_attempts += 1  # exact: each event is new, under the package lock
                dirty = True
            if new is not None and RANK[new] >= RANK[P.COLLECTED] and new in HANDED_OVER and (
                pkg.collected_at is None or at < pkg.collected_at
            ) and pkg.status not in (P.LOST, P.VOID):
                pkg.collected_at = at
                pkg.promised_delivery_at = pkg.promised_delivery_at or at + PROMISED_TRANSIT
                dirty = True
            if feed_moves(pkg.status, pkg.status_at, new, at):
                row["from_status"], row["to_status"] = pkg.status, new
                pkg.status, pkg.status_at = new, at
                if new == P.DELIVERED:
                    pkg.delivered_at = at
                result.moved += 1
                dirty = True
            rows.append(row)
        if dirty:
            pkg.updated_at = now
            changed.append(pkg)
        if (pkg.status in HANDED_OVER and before not in HANDED_OVER) or (pkg.status == P.DELIVERED != before):
            crossed.add((pkg.order_id, pkg.carrier))
    _insert_events(rows)
    result.stored += len(rows)
    if changed:
        _update_packages(changed)
    for order_id, carrier in sorted(crossed):
        with transaction.atomic():
            if sync_order(order_id, Actor.carrier(carriers.CARRIERS[carrier].name), at=now) is not None:
                result.orders_moved += 1
    return result


# --- the two writes, set-based ------------------------------------------------------------------
# On PostgreSQL each is one statement over arrays (unnest), which costs a fraction of the
# ORM's per-row parameter handling; elsewhere the ORM's bulk operations do the same job.


def _insert_events(rows):
    if connection.vendor != "postgresql":
        TrackingEvent.objects.bulk_create([TrackingEvent(**r) for r in rows], ignore_conflicts=True)
        return
    types = {"package_id": "bigint", "occurred_at": "timestamptz", "received_at": "timestamptz"}
    arrays = ", ".join(f"%s::{types.get(c, 'text')}[]" for c in _EVENT_COLUMNS)
    sql = (f"INSERT INTO {TrackingEvent._meta.db_table} ({', '.join(_EVENT_COLUMNS)}) "
           f"SELECT * FROM unnest({arrays}) ON CONFLICT DO NOTHING")
    with connection.cursor() as cursor:
        cursor.execute(sql, [[r[c] for r in rows] for c in _EVENT_COLUMNS])


def _update_packages(packages):
    if connection.vendor != "postgresql":
        Package.objects.bulk_update(packages, _UPDATED)
        return
    types = {"status": "text", "failed_attempts": "int"}
    columns = ["id", *_UPDATED]
    arrays = ", ".join(f"%s::{'bigint' if c == 'id' else types.get(c, 'timestamptz')}[]" for c in columns)
    sets = ", ".join(f"{c} = v.{c}" for c in _UPDATED)
    sql = (f"UPDATE {Package._meta.db_table} AS p SET {sets} "
           f"FROM unnest({arrays}) AS v({', '.join(columns)}) WHERE p.id = v.id")
    with connection.cursor() as cursor:
        cursor.execute(sql, [[getattr(p, "pk" if c == "id" else c) for p in packages] for c in columns])
