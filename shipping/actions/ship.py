"""Ship by seller, many packages at once: each row names a package, a carrier and a tracking
number; the rows are checked first, then applied in one update."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core import params
from core.locks import lock
from orders import transitions as order_transitions
from orders.actions import ActionRefused
from orders.models import Order

from .. import carriers
from ..models import Package, PackageEvent
from . import disputes
from .events import _event
from .packages import ensure_packages
from .sync import sync_order

P = Package.Status
S = Order.Status
# The carrier's promise once it has the parcel; P9 marks it Delayed after this.
PROMISED_TRANSIT = timedelta(days=5)


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
    _ship_checked(good, actor, now, report, taken)


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
    """{(carrier, tracking number): [(package id, shop id)]} of the rows' numbers that packages already have."""
    wanted = [carriers.normalize(r.tracking_number) for r in rows]
    taken = defaultdict(list)
    for carrier, number, pk, shop_id in (
        Package.objects.filter(tracking_number__in=[n for n in wanted if n and not params.has_bad_characters(n)])
        .values_list("carrier", "tracking_number", "pk", "shop_id")
    ):
        taken[(carrier, number)].append((pk, shop_id))
    return taken


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
        return _("Order %(number)s ships by platform; its label carries the platform's tracking number.") % {"number": order.number}
    if order.status not in order_transitions.TO_SHIP:
        return _("Order %(number)s is %(status)s; it cannot be shipped.") % {"number": order.number, "status": S(order.status).label.lower()}
    if pkg.pk is None and order.status != S.AWAITING_SHIPMENT:
        return _("Order %(number)s has no package to ship.") % {"number": order.number}
    if not pkg.can("ship"):
        return _("Package %(seq)s of order %(number)s is %(status)s; it cannot be shipped.") % {"seq": pkg.seq, "number": order.number, "status": P(pkg.status).label.lower()}
    if (pkg.pk or pkg.order.number) in seen_packages:
        return _("Package %(seq)s of order %(number)s appears twice.") % {"seq": pkg.seq, "number": order.number}
    return None


def _number_problem(row, pkg, number, taken, seen_numbers):
    problem = carriers.check(row.carrier, number)
    if problem is None and carriers.CARRIERS[row.carrier].platform:
        problem = _("The platform carrier's numbers come with a platform label; choose your own carrier.")
    # The shop's own other package: a typo, refused. Another shop's: accepted, in dispute (disputes.py).
    if problem is None and any(shop_id == pkg.shop_id and pk != pkg.pk for pk, shop_id in taken.get((row.carrier, number), ())):
        problem = _("Tracking number %(number)s is already on another %(name)s package of this shop.") % {"number": number, "name": carriers.CARRIERS[row.carrier].name}
    if problem is None and (row.carrier, number) in seen_numbers:
        problem = _("Tracking number %(number)s is also on %(seen_numbers)s.") % {"number": number, "seen_numbers": seen_numbers[(row.carrier, number)]}
    return problem


def _ship_checked(good, actor, now, report, taken):
    """Ship the checked rows' packages in one update, creating an unsplit order's package first."""
    good = [(row, pkg if pkg.pk else ensure_packages(pkg.order, actor)[0], number) for row, pkg, number in good]
    events = []
    for row, pkg, number in good:
        events.append(_mark_shipped(pkg, row.carrier, number, actor, now))
        report.applied.append((row, pkg))
    try:
        with transaction.atomic():
            for row, pkg, number in good:
                others = [pk for pk, shop_id in taken.get((row.carrier, number), ()) if shop_id != pkg.shop_id]
                if others:  # another shop's package has the number: accepted, in dispute until staff rule
                    disputes.open_or_join(package=pkg, carrier=row.carrier, number=number, actor=actor, at=now,
                                          others=list(Package.objects.filter(pk__in=others)))
            Package.objects.bulk_update(
                [p for _, p, _ in good],
                ["carrier", "tracking_number", "tracking_set_at", "status", "status_at", "collected_at",
                 "promised_delivery_at", "tracking_dispute", "updated_at"],
            )
    except IntegrityError:
        # Another upload took one of these numbers a moment ago.
        report.applied = []
        report.errors.extend((row, "A tracking number in this upload was just used elsewhere; upload again.")
                             for row, _, _ in good)
        return
    PackageEvent.objects.bulk_create(events)
    for order_id in sorted({p.order_id for _row, p, _problem in good}):
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
