"""The only code that changes packages, prints, photos and tickets.

An order moves only through orders.actions: when every package of an order is ready, it
is arranged (awaiting collection); when every one is with the carrier, in transit; when
every one is delivered, delivered. `sync_order` is the single place that decides that.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from core import params
from core.actor import Actor
from core.locks import lock, lock_one
from orders import actions as order_actions
from orders import transitions as order_transitions
from orders.actions import ActionRefused
from orders.models import Order, OrderLine
from orders.transitions import InvalidTransition
from shops import policy_windows

from . import carriers, content, transitions
from .models import HandoverPhoto, Package, PackageEvent, PackageItem, PrintJob, Ticket, TicketEvent
from .transitions import HANDED_OVER, READY_OR_LATER, InvalidPackageMove

P = Package.Status
S = Order.Status
MAX_PACKAGES = 20
# The carrier's promise once it has the parcel; P9 marks it Delayed after this.
PROMISED_TRANSIT = timedelta(days=5)
PICKUP_SLOT_HOURS = ((9, 12), (13, 17))

__all__ = ["ActionRefused", "Actor", "InvalidPackageMove"]


def _event(package, action, actor, *, at, from_status=None, to_status=None, note="", data=None):
    return PackageEvent(
        package=package, at=at, actor_kind=actor.kind, actor=actor.user, actor_label=actor.label, action=action,
        from_status=package.status if from_status is None else from_status,
        to_status=package.status if to_status is None else to_status, note=note, data=data or {},
    )


# --- the order follows its packages -----------------------------------------------------


def order_moves(order_status, packages, *, at=None):
    """The moves an order in `order_status` makes given its active packages, as
    (status, collected_at, delivered_at) triples: a list of (orders.actions function name,
    note, time), empty when it stays. Pure: sync_order reads the packages only once it
    holds the order's lock, so two requests handing over two packages of one order at
    once cannot each miss the other."""
    moves = []
    if not packages:
        return moves
    several = len(packages) > 1
    statuses = [s for s, _, _ in packages]
    if order_status in order_transitions.TO_SHIP and all(s in HANDED_OVER for s in statuses):
        when = max((c for _, c, _ in packages if c), default=None) or at
        moves.append(("mark_in_transit", "Every package is with the carrier." if several else
                      "The package is with the carrier.", when))
        order_status = S.IN_TRANSIT
    if order_status == S.IN_TRANSIT and all(s == P.DELIVERED for s in statuses):
        when = max((d for _, _, d in packages if d), default=None) or at
        moves.append(("mark_delivered", "Every package is delivered." if several else "The package is delivered.", when))
    elif order_status == S.AWAITING_SHIPMENT and all(s in READY_OR_LATER for s in statuses):
        moves.append(("arrange_shipment", "Every package is ready for handover." if several else
                      "The package is ready for handover.", at))
    return moves


def sync_order(order_id, actor, *, at=None):
    """Move the order as far as its active packages allow. Returns the order when it
    moved, None when it did not (cancelled meanwhile, or not every package there yet).

    The order is locked first and its packages read after: under READ COMMITTED that read
    sees every package a concurrent request committed while this one waited for the lock."""
    order = lock(Order.objects.filter(pk=order_id)).first()
    if order is None:
        return None
    packages = list(Package.objects.active().filter(order_id=order_id).values_list("status", "collected_at", "delivered_at"))
    moves = order_moves(order.status, packages, at=at)
    if not moves:
        return None
    data = {"packages": len(packages)}
    before = order.status
    try:
        for action, note, when in moves:
            order = getattr(order_actions, action)(order=order, actor=actor, note=note, data=data, at=when)
    except InvalidTransition:
        pass
    return order if order.status != before else None


def _order_still_shipping(package):
    order = package.order
    if order.status not in order_transitions.TO_SHIP:
        raise ActionRefused(f"Order {order.number} is {S(order.status).label.lower()}; its packages no longer ship.")


def _open_for_packing(order):
    if order.status != S.AWAITING_SHIPMENT:
        label = S(order.status).label.lower()
        raise ActionRefused(f"Order {order.number} is {label}; packages are made while it awaits shipment.")


# --- packages -------------------------------------------------------------------------


@transaction.atomic
def create_packages(*, order, allocations, actor, at=None):
    """Split an order into packages. `allocations` is a list (one per package) of
    {line_id: quantity}; together they hold every unit of every line exactly once.
    Packages still being packed are replaced (voided, kept for the record). `at`: when
    (default now)."""
    order = lock_one(Order.objects, order.pk, read=("shop",))
    _open_for_packing(order)
    lines = {line.pk: line for line in OrderLine.objects.filter(order=order)}
    allocations = [{int(k): int(v) for k, v in a.items() if int(v)} for a in allocations]
    allocations = [a for a in allocations if a]
    if not allocations:
        raise ActionRefused("Put at least one item in a package.")
    if len(allocations) > MAX_PACKAGES:
        raise ActionRefused(f"At most {MAX_PACKAGES} packages per order.")
    packed = Counter()
    for alloc in allocations:
        for line_id, qty in alloc.items():
            if line_id not in lines:
                raise ActionRefused("That item is not on this order.")
            if qty < 0:
                raise ActionRefused("Quantities cannot be negative.")
            packed[line_id] += qty
    for line_id, line in lines.items():
        if packed[line_id] != line.quantity:
            raise ActionRefused(
                f"{line.sku_code}: {packed[line_id]} of {line.quantity} packed; every unit goes in exactly one package."
            )
    existing = sorted(lock(Package.objects.active().filter(order=order)), key=lambda p: p.seq)
    blocked = [p for p in existing if not p.can("void")]
    if blocked:
        raise ActionRefused(
            f"Package {blocked[0].seq} is already {P(blocked[0].status).label.lower()}; the packages can no longer be re-split."
        )
    now = at or timezone.now()
    if existing:
        Package.objects.filter(pk__in=[p.pk for p in existing]).update(status=P.VOID, status_at=now, updated_at=now)
        PackageEvent.objects.bulk_create(
            _event(p, "void", actor, at=now, to_status=P.VOID, note="Replaced by a new split.") for p in existing
        )
    template = existing[0] if existing else None
    start = (Package.objects.filter(order=order).order_by("-seq").values_list("seq", flat=True).first() or 0) + 1
    packages = [
        Package(
            order=order, shop_id=order.shop_id, seq=start + i, status=P.PACKING, status_at=now,
            handover=Package.Handover.SELLER if order.shipping_model == Order.ShippingModel.SELLER else "",
        )
        for i in range(len(allocations))
    ]
    Package.objects.bulk_create(packages)  # sets pks (RETURNING on PostgreSQL and SQLite)
    PackageItem.objects.bulk_create(
        PackageItem(package=pkg, line_id=line_id, quantity=qty)
        for pkg, alloc in zip(packages, allocations, strict=True)
        for line_id, qty in alloc.items()
    )
    PackageEvent.objects.bulk_create(
        _event(pkg, "create", actor, at=now, from_status="", to_status=P.PACKING,
               data={"items": {lines[k].sku_code: v for k, v in alloc.items()}})
        for pkg, alloc in zip(packages, allocations, strict=True)
    )
    if template is not None and template.handover in (Package.Handover.PICKUP, Package.Handover.DROP_OFF):
        # The order was already arranged with the platform: the new boxes get labels too.
        _arrange(packages, actor, now, template.handover, template.pickup_slot_start, template.pickup_slot_end,
                 template.dropoff_point)
    return packages


def ensure_packages(order, actor, *, at=None):
    """The order's active packages; one package with everything when there are none."""
    packages = list(Package.objects.active().filter(order=order).order_by("seq"))
    if packages:
        return packages
    lines = OrderLine.objects.filter(order=order).values_list("pk", "quantity")
    return create_packages(order=order, allocations=[dict(lines)], actor=actor, at=at)


def pickup_slots(shop, now=None, days=3):
    """The carrier's next pickup slots, in the shop's time zone (start, end)."""
    now = now or timezone.now()
    tz = shop.tzinfo
    local = now.astimezone(tz)
    slots = []
    for d in range(days + 1):
        day = (local + timedelta(days=d)).date()
        for start_h, end_h in PICKUP_SLOT_HOURS:
            start = datetime(day.year, day.month, day.day, start_h, tzinfo=tz)
            if start > now + timedelta(hours=1):
                slots.append((start, datetime(day.year, day.month, day.day, end_h, tzinfo=tz)))
    return slots[: days * len(PICKUP_SLOT_HOURS)]


def _new_numbers(n):
    """n platform tracking numbers not used yet (one query to check)."""
    for _ in range(5):
        numbers = {carriers.new_platform_number() for _ in range(n)}
        taken = set(Package.objects.filter(carrier=carriers.PLATFORM_CARRIER, tracking_number__in=numbers)
                    .values_list("tracking_number", flat=True))
        numbers -= taken
        if len(numbers) == n:
            return list(numbers)
    raise RuntimeError("could not draw unused tracking numbers")


def _arrange(packages, actor, now, handover, slot_start, slot_end, point):
    todo = [p for p in packages if not p.tracking_number]
    for pkg, number in zip(todo, _new_numbers(len(todo)), strict=True):
        pkg.carrier, pkg.tracking_number, pkg.tracking_set_at = carriers.PLATFORM_CARRIER, number, now
    for pkg in packages:
        pkg.handover, pkg.pickup_slot_start, pkg.pickup_slot_end, pkg.dropoff_point = handover, slot_start, slot_end, point
        pkg.label_generated_at = pkg.label_generated_at or now
        pkg.updated_at = now
    Package.objects.bulk_update(
        packages, ["carrier", "tracking_number", "tracking_set_at", "handover", "pickup_slot_start", "pickup_slot_end",
                   "dropoff_point", "label_generated_at", "updated_at"]
    )
    detail = {"handover": handover}
    if slot_start:
        detail["pickup_slot"] = [slot_start.isoformat(), slot_end.isoformat()]
    if point:
        detail["dropoff_point"] = point
    PackageEvent.objects.bulk_create(
        _event(p, "arrange", actor, at=now, data={**detail, "carrier": p.carrier, "tracking_number": p.tracking_number})
        for p in packages
    )


@transaction.atomic
def arrange_platform_shipment(*, order, actor, handover, pickup_slot=None, dropoff_point="", at=None):
    """Ship by platform: choose pickup (a slot) or drop-off (a point); each package gets the
    platform carrier's tracking number and label. `at`: when (default now); the slots
    offered are those of that time."""
    at = at or timezone.now()
    order = lock_one(Order.objects, order.pk, read=("shop",))
    if order.shipping_model != Order.ShippingModel.PLATFORM:
        raise ActionRefused(f"Order {order.number} ships by seller; enter your carrier's tracking number instead.")
    _open_for_packing(order)
    slot_start = slot_end = None
    if handover == Package.Handover.PICKUP:
        slots = dict(pickup_slots(order.shop, at))
        if pickup_slot not in slots:
            raise ActionRefused("Choose one of the offered pickup time slots.")
        slot_start, slot_end, dropoff_point = pickup_slot, slots[pickup_slot], ""
    elif handover == Package.Handover.DROP_OFF:
        if dropoff_point not in dict(carriers.DROPOFF_POINTS):
            raise ActionRefused("Choose a drop-off point from the list.")
    else:
        raise ActionRefused("Choose pickup or drop-off.")
    packages = ensure_packages(order, actor, at=at)
    movable = [p for p in packages if p.can("set_tracking")]
    if not movable:
        raise ActionRefused("Every package is already with the carrier.")
    _arrange(movable, actor, at, handover, slot_start, slot_end, dropoff_point)
    return movable


@transaction.atomic
def mark_ready(*, package, actor, at=None):
    """Packed and labelled: the 48 h collection / drop-off window (P3) starts now (or `at`)."""
    package = lock_one(Package.objects, package.pk, also_lock=("order",))
    to_status = transitions.check("mark_ready", package)
    _order_still_shipping(package)
    if not package.tracking_number:
        raise ActionRefused(f"Package {package.seq} has no label yet: arrange shipment or enter a tracking number first.")
    now = at or timezone.now()
    window = policy_windows.window("P3")
    from_status = package.status
    package.status, package.status_at, package.ready_at = to_status, now, now
    package.collect_by = now + window.delta
    package.save(update_fields=["status", "status_at", "ready_at", "collect_by", "updated_at"])
    _event(package, "mark_ready", actor, at=now, from_status=from_status,
           data={"collect_by": package.collect_by.isoformat(), **window.explain()}).save()
    sync_order(package.order_id, actor, at=now)
    return package


def mark_all_ready(*, order, actor, at=None):
    done = []
    for pkg in Package.objects.active().filter(order=order, status=P.PACKING).order_by("seq"):
        done.append(mark_ready(package=pkg, actor=actor, at=at))
    if not done:
        raise ActionRefused("No package is waiting to be marked ready.")
    return done


@transaction.atomic
def set_label_note(*, package, text, actor):
    package = lock_one(Package.objects, package.pk, also_lock=("order",))
    transitions.check("edit_label", package)
    text = content.check_label_text(text)
    old = package.label_note
    package.label_note = text
    package.save(update_fields=["label_note", "updated_at"])
    _event(package, "edit_label", actor, at=timezone.now(), data={"from": old, "to": text}).save()
    return package


# --- ship by seller: tracking numbers -------------------------------------------------


@dataclass
class ShipRow:
    ref: str  # how the seller knows the row: "row 3", or the package
    order_number: str
    seq: int | None
    carrier: str
    tracking_number: str
    package_id: int | None = None


@dataclass
class ShipReport:
    applied: list = field(default_factory=list)  # (ShipRow, Package)
    errors: list = field(default_factory=list)  # (ShipRow, reason)
    all_or_nothing: bool = False

    @property
    def ok(self):
        return not self.errors

    def summary(self):
        if self.errors and not self.applied:
            what = "nothing was applied" if self.all_or_nothing else "no package was shipped"
            return f"{len(self.errors)} row(s) refused; {what}."
        text = f"{len(self.applied)} package(s) shipped"
        if self.errors:
            text += f"; {len(self.errors)} row(s) refused"
        return text + "."


def ship_packages(*, shop, rows, actor, all_or_nothing=False, errors=()):
    """Ship by seller, many at once: each row names a package (order number + package
    number, or a package id), a carrier and a tracking number. Every row is checked first;
    each row is applied fully or not at all, and with all_or_nothing one bad row stops all.
    `errors` are (row, reason) pairs found before (an unreadable CSV line)."""
    report = ShipReport(all_or_nothing=all_or_nothing, errors=list(errors))
    with transaction.atomic():
        _ship_rows(shop, rows, actor, report)
        if report.errors and all_or_nothing:
            report.applied = []
            transaction.set_rollback(True)
    return report


def _ship_rows(shop, rows, actor, report):
    now = timezone.now()
    targets = _ship_targets(shop, rows)
    taken = _taken_numbers(rows)
    good = _checked_rows(rows, targets, taken, report)
    if not good or (report.errors and report.all_or_nothing):
        return
    _ship_checked(good, actor, now, report)


@dataclass
class _ShipTargets:
    """The packages the rows may name, locked, found in one query."""

    orders: dict  # number -> Order of this shop
    per_order: defaultdict  # number -> its active packages (or a placeholder)
    by_key: dict  # (order number, seq) -> Package
    by_id: dict  # pk -> Package

    def package_for(self, row):
        """The package a row names, or the reason it names none."""
        if row.package_id:
            pkg = self.by_id.get(row.package_id)
        elif row.order_number not in self.orders:
            return None, f"Order {row.order_number or '(blank)'} is not in this shop."
        elif row.seq:
            pkg = self.by_key.get((row.order_number, row.seq))
        elif len(self.per_order[row.order_number]) == 1:
            pkg = self.per_order[row.order_number][0]
        elif self.per_order[row.order_number]:
            return None, f"Order {row.order_number} has {len(self.per_order[row.order_number])} packages; say which one."
        else:
            pkg = None
        if pkg is None:
            return None, "No such package in this shop."
        return pkg, None


def _ship_targets(shop, rows):
    # Text PostgreSQL cannot compare (NUL, surrogates) is never queried; such a row is
    # reported as not in this shop / not the carrier's number below.
    numbers = {r.order_number for r in rows if r.order_number and not params.has_bad_characters(r.order_number)}
    ids = {r.package_id for r in rows if r.package_id}
    orders = {o.number: o for o in Order.objects.for_shop(shop).filter(number__in=numbers)}
    packages = list(
        lock(Package.objects.for_shop(shop).active().filter(_q_orders_or_ids(orders, ids)), also_lock=("order",))
    )
    per_order = defaultdict(list)
    for p in packages:
        per_order[p.order.number].append(p)
    # An order not split yet ships as one package with everything; it is created only
    # if its row is applied (a placeholder until then).
    for order in orders.values():
        if not per_order[order.number]:
            placeholder = Package(order=order, shop=shop, seq=1, status=P.PACKING, handover=Package.Handover.SELLER)
            per_order[order.number].append(placeholder)
            packages.append(placeholder)
    return _ShipTargets(
        orders=orders,
        per_order=per_order,
        by_key={(p.order.number, p.seq): p for p in packages},
        by_id={p.pk: p for p in packages if p.pk},
    )


def _taken_numbers(rows):
    """The (carrier, tracking number) pairs of the rows that some package already has."""
    wanted = [carriers.normalize(r.tracking_number) for r in rows]
    return set(
        Package.objects.filter(tracking_number__in=[n for n in wanted if n and not params.has_bad_characters(n)])
        .values_list("carrier", "tracking_number")
    )


def _checked_rows(rows, targets, taken, report):
    """The rows that may be applied, as (row, package, tracking number); the others go to the report."""
    seen_numbers, seen_packages = {}, set()
    good = []
    for row in rows:
        number = carriers.normalize(row.tracking_number)
        pkg, problem = targets.package_for(row)
        if pkg is not None:
            problem = _package_problem(pkg, seen_packages) or _number_problem(row, pkg, number, taken, seen_numbers)
        if problem:
            report.errors.append((row, problem))
            continue
        seen_packages.add(pkg.pk or pkg.order.number)
        seen_numbers[(row.carrier, number)] = row.ref
        good.append((row, pkg, number))
    return good


def _package_problem(pkg, seen_packages):
    order = pkg.order
    if order.shipping_model != Order.ShippingModel.SELLER:
        return f"Order {order.number} ships by platform; its label carries the platform's tracking number."
    if order.status not in order_transitions.TO_SHIP:
        return f"Order {order.number} is {S(order.status).label.lower()}; it cannot be shipped."
    if pkg.pk is None and order.status != S.AWAITING_SHIPMENT:
        return f"Order {order.number} has no package to ship."
    if not pkg.can("ship"):
        return f"Package {pkg.seq} of order {order.number} is {P(pkg.status).label.lower()}; it cannot be shipped."
    if (pkg.pk or pkg.order.number) in seen_packages:
        return f"Package {pkg.seq} of order {order.number} appears twice."
    return None


def _number_problem(row, pkg, number, taken, seen_numbers):
    problem = carriers.check(row.carrier, number)
    if problem is None and carriers.CARRIERS[row.carrier].platform:
        problem = "The platform carrier's numbers come with a platform label; choose your own carrier."
    if problem is None and (row.carrier, number) in taken and (pkg.carrier, pkg.tracking_number) != (row.carrier, number):
        problem = f"Tracking number {number} is already used for another {carriers.CARRIERS[row.carrier].name} package."
    if problem is None and (row.carrier, number) in seen_numbers:
        problem = f"Tracking number {number} is also on {seen_numbers[(row.carrier, number)]}."
    return problem


def _ship_checked(good, actor, now, report):
    """Ship the checked rows' packages in one update, creating an unsplit order's package first."""
    good = [(row, pkg if pkg.pk else ensure_packages(pkg.order, actor)[0], number) for row, pkg, number in good]
    events = []
    for row, pkg, number in good:
        events.append(_mark_shipped(pkg, row.carrier, number, actor, now))
        report.applied.append((row, pkg))
    try:
        with transaction.atomic():
            Package.objects.bulk_update(
                [p for _, p, _ in good],
                ["carrier", "tracking_number", "tracking_set_at", "status", "status_at", "collected_at",
                 "promised_delivery_at", "updated_at"],
            )
    except IntegrityError:
        # Another upload took one of these numbers a moment ago.
        report.applied = []
        report.errors.extend((row, "A tracking number in this upload was just used elsewhere; upload again.")
                             for row, _, _ in good)
        return
    PackageEvent.objects.bulk_create(events)
    for order_id in sorted({p.order_id for _, p, _ in good}):
        sync_order(order_id, actor, at=now)


def _mark_shipped(pkg, carrier, number, actor, now):
    """Set a package's shipped fields in memory; return its history row, written with the others."""
    event = _event(pkg, "ship", actor, at=now, to_status=P.COLLECTED,
                   data={"carrier": carrier, "tracking_number": number})
    pkg.carrier, pkg.tracking_number = carrier, number
    pkg.tracking_set_at = pkg.tracking_set_at or now
    pkg.status, pkg.status_at, pkg.collected_at = P.COLLECTED, now, now
    pkg.promised_delivery_at = now + PROMISED_TRANSIT
    pkg.updated_at = now
    return event


def _q_orders_or_ids(orders, ids):
    return Q(order__in=list(orders.values())) | Q(pk__in=list(ids))


@transaction.atomic
def set_tracking(*, package, carrier, tracking_number, actor, at=None):
    """Ship by seller: enter the carrier's number before handover (to print a label and
    mark the package ready for the carrier to collect). Once set, only a correction changes it."""
    package = lock_one(Package.objects, package.pk, also_lock=("order",))
    transitions.check("set_tracking", package)
    _order_still_shipping(package)
    if package.handover != Package.Handover.SELLER:
        raise ActionRefused("Platform shipments get their tracking number from the platform label.")
    if package.tracking_number:
        raise ActionRefused(f"Package {package.seq} already has a tracking number; correct it instead.")
    number = carriers.normalize(tracking_number)
    problem = carriers.check(carrier, number) or (
        "The platform carrier's numbers come with a platform label." if carriers.CARRIERS[carrier].platform else None
    )
    if problem:
        raise ActionRefused(problem)
    if Package.objects.filter(carrier=carrier, tracking_number=number).exists():
        raise ActionRefused(f"Tracking number {number} is already used for another package.")
    now = at or timezone.now()
    package.carrier, package.tracking_number, package.tracking_set_at = carrier, number, now
    package.save(update_fields=["carrier", "tracking_number", "tracking_set_at", "updated_at"])
    _event(package, "set_tracking", actor, at=now, data={"carrier": carrier, "tracking_number": number}).save()
    return package


def ship_package(*, package, carrier, tracking_number, actor):
    """Ship one package by seller; raises ActionRefused with the reason."""
    order = package.order
    report = ship_packages(
        shop=order.shop, actor=actor,
        rows=[ShipRow(f"package {package.seq}", order.number, package.seq, carrier, tracking_number, package.pk)],
    )
    if report.errors:
        raise ActionRefused(report.errors[0][1])
    return report.applied[0][1]


@transaction.atomic
def correct_tracking(*, package, tracking_number, actor, carrier=None, reason=""):
    """A seller's tracking number may be corrected once, within 72 h of entering it."""
    package = lock_one(Package.objects, package.pk, also_lock=("order",))
    now = timezone.now()
    carrier = carrier or package.carrier
    number = carriers.normalize(tracking_number)
    if package.handover != Package.Handover.SELLER:
        raise ActionRefused("Only a seller's own tracking number can be corrected.")
    if package.tracking_corrected_at is not None:
        raise ActionRefused(f"The tracking number of package {package.seq} was already corrected once.")
    if not package.can_correct_tracking(now):
        raise ActionRefused(f"The tracking number of package {package.seq} can be corrected only within 72 h of entering it.")
    problem = carriers.check(carrier, number) or (
        "The platform carrier's numbers come with a platform label." if carriers.CARRIERS[carrier].platform else None
    )
    if problem:
        raise ActionRefused(problem)
    if (carrier, number) == (package.carrier, package.tracking_number):
        raise ActionRefused("That is the current tracking number.")
    if Package.objects.filter(carrier=carrier, tracking_number=number).exclude(pk=package.pk).exists():
        raise ActionRefused(f"Tracking number {number} is already used for another package.")
    old = {"carrier": package.carrier, "tracking_number": package.tracking_number}
    package.carrier, package.tracking_number, package.tracking_corrected_at = carrier, number, now
    package.save(update_fields=["carrier", "tracking_number", "tracking_corrected_at", "updated_at"])
    _event(package, "correct_tracking", actor, at=now, note=reason,
           data={"from": old, "to": {"carrier": carrier, "tracking_number": number}}).save()
    return package


# --- labels ---------------------------------------------------------------------------


@transaction.atomic
def record_print(*, shop, packages, kind, size, actor, reprint_of=None):
    """Printing history: one PrintJob, and a history row per package."""
    packages = list(packages)
    if not packages:
        raise ActionRefused("Choose at least one package to print.")
    # A job stored with a size the renderer does not know would fail on every reprint.
    if kind not in PrintJob.Kind.values:
        raise ActionRefused(f"Choose what to print: {', '.join(PrintJob.Kind.values)}.")
    if size not in PrintJob.Size.values:
        raise ActionRefused(f"Choose a label size: {', '.join(PrintJob.Size.values)}.")
    if kind == PrintJob.Kind.LABEL:
        missing = [p for p in packages if not p.tracking_number]
        if missing:
            raise ActionRefused(f"Package {missing[0].seq} of order {missing[0].order.number} has no tracking number yet.")
    now = timezone.now()
    job = PrintJob.objects.create(shop=shop, kind=kind, size=size, package_count=len(packages), reprint_of=reprint_of,
                                  printed_by=actor.user, printed_at=now)
    job.packages.set(packages)
    if kind == PrintJob.Kind.LABEL:
        Package.objects.filter(pk__in=[p.pk for p in packages]).update(
            label_printed_at=now, label_print_count=F("label_print_count") + 1, updated_at=now
        )
    action = ("reprint_" if reprint_of else "print_") + kind
    PackageEvent.objects.bulk_create(
        _event(p, action, actor, at=now, data={"print_job": job.pk, "size": size}) for p in packages
    )
    return job


# --- handover photos -----------------------------------------------------------------


@transaction.atomic
def add_handover_photo(*, package, upload, actor):
    package = lock_one(Package.objects, package.pk, also_lock=("order",))
    transitions.check("add_photo", package)
    if package.photos.count() >= content.MAX_PHOTOS_PER_PACKAGE:
        raise ActionRefused(f"At most {content.MAX_PHOTOS_PER_PACKAGE} photos per package.")
    image = content.check_photo(upload)
    if package.photos.filter(sha256=image.sha256).exists():
        raise ActionRefused("That photo is already on this package.")
    now = timezone.now()
    photo = HandoverPhoto(package=package, content_type=image.content_type, ext=image.ext, size=len(image.data),
                          width=image.width, height=image.height, sha256=image.sha256, uploaded_by=actor.user,
                          uploaded_at=now)
    photo.image.save(f"{image.sha256[:16]}.{image.ext}", ContentFile(image.data), save=False)
    photo.save()
    _event(package, "add_photo", actor, at=now, data={"photo": photo.pk, "bytes": len(image.data)}).save()
    return photo


# --- platform markers (policies and staff) ------------------------------------------------


@transaction.atomic
def mark_lost(*, package_ids, actor, at=None, note="", data=None):
    """Declare packages Lost (P6, P7, P8, or staff). Set-based; returns how many moved.
    The order's cancellation and refund (P10) is the policies' next step."""
    at = at or timezone.now()
    rows = list(lock(Package.objects.filter(pk__in=package_ids, status__in=transitions.TRANSITIONS["mark_lost"][0]))
                .values_list("pk", "status"))
    if not rows:
        return 0
    Package.objects.filter(pk__in=[pk for pk, _ in rows]).update(status=P.LOST, status_at=at, lost_at=at, updated_at=at)
    PackageEvent.objects.bulk_create(
        PackageEvent(package_id=pk, at=at, actor_kind=actor.kind, actor=actor.user, actor_label=actor.label,
                     action="mark_lost", from_status=status, to_status=P.LOST, note=note,
                     data=(data or {}).get(pk) or {})
        for pk, status in rows
    )
    return len(rows)


@transaction.atomic
def mark_delayed(*, package_ids, actor, at=None, note="", data=None):
    """The Delayed marker (P9): past the promised delivery date, still with the carrier."""
    at = at or timezone.now()
    rows = list(lock(Package.objects.filter(pk__in=package_ids, is_delayed=False,
                                            status__in=transitions.TRANSITIONS["mark_delayed"][0]))
                .values_list("pk", "status"))
    if not rows:
        return 0
    Package.objects.filter(pk__in=[pk for pk, _ in rows]).update(is_delayed=True, delayed_at=at, updated_at=at)
    PackageEvent.objects.bulk_create(
        PackageEvent(package_id=pk, at=at, actor_kind=actor.kind, actor=actor.user, actor_label=actor.label,
                     action="mark_delayed", from_status=status, to_status=status, note=note,
                     data=(data or {}).get(pk) or {})
        for pk, status in rows
    )
    return len(rows)


@transaction.atomic
def flag_late_collection(*, package_ids, actor, at=None, note="", data=None):
    """P3: the carrier (pickup) or the seller (drop-off) missed the 48 h handover window."""
    at = at or timezone.now()
    rows = list(lock(Package.objects.filter(pk__in=package_ids, status=P.READY, late_collection_at__isnull=True))
                .values_list("pk", "status"))
    if not rows:
        return 0
    Package.objects.filter(pk__in=[pk for pk, _ in rows]).update(late_collection_at=at, updated_at=at)
    PackageEvent.objects.bulk_create(
        PackageEvent(package_id=pk, at=at, actor_kind=actor.kind, actor=actor.user, actor_label=actor.label,
                     action="late_collection", from_status=status, to_status=status, note=note,
                     data=(data or {}).get(pk) or {})
        for pk, status in rows
    )
    return len(rows)


@transaction.atomic
def staff_move_packages(*, package_ids, action, actor, note):
    """Platform staff record what the carrier's feed did not: the packages were collected
    (`staff_collected`) or delivered (`staff_delivered`). Each moved package gets a history
    row with the staff member's reason, and its order follows through sync_order, the same
    way a carrier event moves it. Returns (moved, order numbers that moved)."""
    if not (note or "").strip():
        raise ActionRefused("Say why staff step in; the reason is kept in each package's history.")
    sources, target = transitions.TRANSITIONS[action]
    at = timezone.now()
    # FOR UPDATE without OF on purpose: it locks the packages and, through the join, their
    # orders (package, then order, as lock_one(..., also_lock=("order",)) does elsewhere).
    rows = list(Package.objects.filter(pk__in=package_ids, status__in=sources).exclude(order__status=S.CANCELLED)
                .select_for_update().order_by("pk").values_list("pk", "status", "order_id"))
    if not rows:
        return 0, []
    stamp = {"collected_at": at} if target == P.COLLECTED else {"delivered_at": at}
    if target == P.COLLECTED:
        stamp["promised_delivery_at"] = at + PROMISED_TRANSIT
    Package.objects.filter(pk__in=[pk for pk, _, _ in rows]).update(status=target, status_at=at, updated_at=at, **stamp)
    PackageEvent.objects.bulk_create(
        PackageEvent(package_id=pk, at=at, actor_kind=actor.kind, actor=actor.user, actor_label=actor.label,
                     action=action, from_status=status, to_status=target, note=note)
        for pk, status, _ in rows
    )
    moved = [sync_order(order_id, actor, at=at) for order_id in sorted({o for _, _, o in rows})]
    return len(rows), [order.number for order in moved if order is not None]


@transaction.atomic
def follow_window(*, before, after, actor, at=None):
    """Staff changed a rule's window: a ready package's collection deadline (P3) is its
    ready time plus the new window (one UPDATE); later runs of P3 read it. Returns how many moved."""
    if after.rule != "P3" or after.hours == before.hours:
        return 0
    return Package.objects.filter(status=P.READY, ready_at__isnull=False, late_collection_at__isnull=True).update(
        collect_by=F("ready_at") + after.delta, updated_at=at or timezone.now())


def order_override_refusal(order, name):
    """Staff overrides of an order's shipment moves (orders admin) would leave its packages
    behind: an order with packages moves with them (Packages admin), not on its own. An
    order without packages cannot be arranged or handed over by an override either: it
    would await a collection (or be in transit) with nothing to collect or track, and no
    next step for anyone; the seller packs and labels it, or staff cancel it."""
    if name not in ("arrange_shipment", "mark_in_transit", "mark_delivered") or not order_transitions.allowed(
            name, order.status):
        return None  # the status refuses it, in its own words
    if Package.objects.active().filter(order=order).exists():
        return (f"Order {order.number} ships in packages: move them in Shipping → Packages "
                "(mark ready, collected or delivered) and the order follows.")
    if name == "mark_delivered":
        return None
    what = "await collection with nothing to collect" if name == "arrange_shipment" else "be in transit with nothing to track"
    return (f"Order {order.number} has no packages yet; it would {what}. The seller arranges shipment on the order "
            "page (the platform label, or their carrier's tracking number) and the order follows; cancel it instead "
            "if it cannot ship.")


# --- complaints and force-majeure tickets ----------------------------------------------------


def _ticket_event(ticket, action, actor, *, at, from_status="", to_status="", note=""):
    return TicketEvent(ticket=ticket, at=at, actor_kind=actor.kind, actor=actor.user, actor_label=actor.label,
                       action=action, from_status=from_status, to_status=to_status, note=note)


def _description(text):
    text = (text or "").strip()
    if len(text) < 10:
        raise ActionRefused("Describe what happened (at least 10 characters).")
    if len(text) > 4000:
        raise ActionRefused("At most 4000 characters.")
    return text


@transaction.atomic
def file_complaint(*, package, actor, description):
    """The carrier did not collect within the window: the seller complains to the platform."""
    package = lock_one(Package.objects, package.pk, also_lock=("order",))
    now = timezone.now()
    if not package.can_complain(now):
        raise ActionRefused(
            f"Package {package.seq} can be complained about once it is ready and the carrier is past its collection time."
        )
    if Ticket.objects.filter(package=package, kind=Ticket.Kind.LOGISTICS_COMPLAINT, status=Ticket.Status.OPEN).exists():
        raise ActionRefused("A complaint about this package is already open.")
    ticket = Ticket.objects.create(shop_id=package.shop_id, kind=Ticket.Kind.LOGISTICS_COMPLAINT, package=package,
                                   description=_description(description), filed_by=actor.user, filed_at=now)
    ticket.orders.set([package.order_id])
    _ticket_event(ticket, "file", actor, at=now, to_status=Ticket.Status.OPEN, note=ticket.description).save()
    _event(package, "complaint_filed", actor, at=now, data={"ticket": ticket.pk}).save()
    return ticket


@transaction.atomic
def file_force_majeure(*, shop, order_ids, actor, description, event_start, event_end):
    now = timezone.now()
    if not order_ids:
        raise ActionRefused("Choose the affected orders.")
    if event_start is None or event_end is None or event_end <= event_start:
        raise ActionRefused("Give when the event began and when it is expected to end (after it began).")
    if event_end - event_start > timedelta(days=30):
        raise ActionRefused("A force-majeure event is at most 30 days; file another ticket if it lasts longer.")
    orders = list(Order.objects.for_shop(shop).filter(pk__in=order_ids, status__in=order_transitions.IN_FULFILLMENT))
    if len(orders) != len(set(order_ids)):
        raise ActionRefused("Some of those orders are not open orders of this shop.")
    ticket = Ticket.objects.create(shop=shop, kind=Ticket.Kind.FORCE_MAJEURE, description=_description(description),
                                   event_start=event_start, event_end=event_end, filed_by=actor.user, filed_at=now)
    ticket.orders.set(orders)
    _ticket_event(ticket, "file", actor, at=now, to_status=Ticket.Status.OPEN,
                  note=f"{len(orders)} order(s) affected").save()
    return ticket


@transaction.atomic
def rule_ticket(*, ticket, approve, actor, note="", pause_until=None):
    """Staff rule on a complaint or ticket. Approving force majeure pauses the affected open
    orders' deadlines until `pause_until` (default: the event's end), stored on the ticket."""
    from shops.actions import notify
    from shops.models import Notification

    ticket = lock_one(Ticket.objects, ticket.pk)
    if not ticket.can_rule():
        raise ActionRefused(f"Ticket #{ticket.pk} was already {ticket.get_status_display().lower()}.")
    note = (note or "").strip()
    if not approve and not note:
        raise ActionRefused("Say why the ticket is rejected.")
    now = timezone.now()
    to_status = Ticket.Status.APPROVED if approve else Ticket.Status.REJECTED
    fields = ["status", "ruled_by", "ruled_at", "ruling_note"]
    if approve and ticket.kind == Ticket.Kind.FORCE_MAJEURE:
        until = pause_until or ticket.event_end
        if until is None or until <= now:
            raise ActionRefused("The pause must end in the future; give a pause end.")
        open_ids = list(ticket.orders.filter(status__in=order_transitions.IN_FULFILLMENT).values_list("pk", flat=True))
        order_actions.pause_deadlines(
            order_ids=open_ids, until=until, actor=actor, note=f"Force majeure ticket #{ticket.pk} approved.",
            data={pk: {"ticket": ticket.pk} for pk in open_ids},
        )
        ticket.paused_from, ticket.paused_until = now, until
        fields += ["paused_from", "paused_until"]
    from_status = ticket.status
    ticket.status, ticket.ruled_by, ticket.ruled_at, ticket.ruling_note = to_status, actor.user, now, note
    ticket.save(update_fields=fields)
    _ticket_event(ticket, "approve" if approve else "reject", actor, at=now, from_status=from_status,
                  to_status=to_status, note=note).save()
    if ticket.package_id:
        _event(ticket.package, "complaint_" + ("upheld" if approve else "rejected"), actor, at=now,
               data={"ticket": ticket.pk}).save()
    verdict = "approved" if approve else "rejected"
    notify(shop=ticket.shop, kind=Notification.Kind.SHIPPING,
           text=f"{ticket.get_kind_display()} #{ticket.pk} {verdict}." + (f" {note}" if note else ""),
           url=reverse("shipping:ticket", kwargs={"shop": ticket.shop.slug, "pk": ticket.pk}))
    return ticket
