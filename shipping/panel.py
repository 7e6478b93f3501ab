"""Shipping's section of the order page, and its Manage Orders filter, search and card.

The panel reads a fixed number of queries whatever the number of packages and events:
packages (1) + their items and lines (2) + photos (1) + package history (1) + tracking (1)
+ tickets (1).
"""

from django.db.models import Exists, OuterRef, Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy

from orders.models import Order, actor_words

from . import actions, carriers
from .forms import ArrangeForm
from .models import HandoverPhoto, Package, PackageEvent, PackageItem, PrintJob, Ticket, TrackingEvent
from .transitions import HANDED_OVER, REACHED_CARRIER, READY_OR_LATER

P = Package.Status
# The package history's words are its Action choices (PackageEvent.label reads them the same way).
ACTION_WORDS = dict(PackageEvent.Action.choices)


def order_panel(shop, order):
    now = timezone.now()
    packages = _packages(shop, order)
    active = [p for p in packages if p.status != P.VOID]
    for p in active:
        p.correctable = p.can_correct_tracking(now)
    timeline = _timeline(packages)
    split_rows, split_cols = _split_table(order, active)
    return {
        "packages": active,
        "replaced": [p for p in packages if p.status == P.VOID],
        "timeline": timeline,
        "now": now,
        **_progress(active),
        "split_rows": split_rows,
        "split_cols": split_cols,
        **_choices(shop, order, active, now),
        "tickets": list(Ticket.objects.filter(Q(package__in=packages)).order_by("-filed_at")),
        "sizes": PrintJob.Size.choices,
    }


def _packages(shop, order):
    """The order's packages, void ones too, with their items' lines, photos, the combined package
    each travels in and the packages travelling in it (four queries)."""
    return list(
        Package.objects.for_shop(shop).filter(order=order).order_by("seq").select_related("parcel__order")
        .prefetch_related(
            Prefetch("items", queryset=PackageItem.objects.select_related("line")),
            Prefetch("photos", queryset=HandoverPhoto.objects.order_by("uploaded_at")),
            Prefetch("combined", queryset=Package.objects.active().select_related("order").order_by("order_id"),
                     to_attr="carries"),
        )
    )


def _timeline(packages):
    """The carrier's scans (a combined package's are its parcel's) and the packages' history,
    newest first (two queries)."""
    by_id = {p.pk: p for p in packages}
    by_id.update({p.parcel_id: p for p in packages if p.parcel_id})
    timeline = []
    for e in TrackingEvent.objects.filter(package_id__in=list(by_id)).order_by("-occurred_at", "-id"):
        timeline.append({"at": e.occurred_at, "package": by_id[e.package_id], "carrier": True,
                         "title": e.get_tag_display(),
                         "detail": e.message, "location": e.location, "moved": e.moved,
                         "to": e.get_to_status_display() if e.to_status else ""})
    for e in PackageEvent.objects.filter(package__in=packages).order_by("-at", "-id"):
        timeline.append({"at": e.at, "package": by_id[e.package_id], "carrier": False,
                         "title": ACTION_WORDS.get(e.action, e.action.replace("_", " ").capitalize()),
                         "detail": e.note or _detail(e), "who": actor_words(e.actor_kind, e.actor_label),
                         "moved": e.from_status != e.to_status,
                         "to": e.get_to_status_display() if e.from_status != e.to_status else ""})
    timeline.sort(key=lambda row: row["at"], reverse=True)
    return timeline


def _split_table(order, active):
    """The split form: a row per order line, a column per package and one more (at most 6),
    each cell the quantity that package holds (an unsplit order: everything in the first)."""
    lines = [i.line for p in active for i in p.items.all()]
    unique_lines = list({line.pk: line for line in lines}.values()) if lines else list(order.lines.all())
    split_width = min(max(len(active) + 1, 2), 6)
    allocation = {(i.line_id, n): i.quantity for n, p in enumerate(active, start=1) for i in p.items.all()}
    split_rows = [
        {"line": line, "cells": [(k, allocation.get((line.pk, k), line.quantity if (k == 1 and not active) else ""))
                                 for k in range(1, split_width + 1)]}
        for line in unique_lines
    ]
    return split_rows, list(range(1, split_width + 1))


def _progress(active):
    handed = sum(1 for p in active if p.status in HANDED_OVER)
    return {
        "handed_over": handed,
        "partially_shipped": 0 < handed < len(active),
        "all_ready": bool(active) and all(p.status in READY_OR_LATER for p in active),
        "can_ready_all": sum(1 for p in active if p.can_mark_ready()) > 1,
    }


def _choices(shop, order, active, now):
    """What the seller may do next: split, arrange the platform's shipment, or ship by seller."""
    awaiting = order.status == Order.Status.AWAITING_SHIPMENT
    platform = order.shipping_model == Order.ShippingModel.PLATFORM
    return {
        "can_split": awaiting and all(p.can("void") for p in active),
        "can_arrange": awaiting and platform and (not active or any(p.can("set_tracking") for p in active)),
        "arranged": platform and any(p.label_generated_at for p in active),
        "arrange_form": ArrangeForm(slots=actions.pickup_slots(shop, now), tz=shop.tzinfo) if awaiting and platform else None,
        "seller_ships": not platform,
        "can_ship_unpacked": awaiting and not platform and not active,
        "carriers": carriers.for_destination(order.country),
    }


def _detail(e):
    d = e.data or {}
    if e.action == "correct_tracking":
        return f"{d['from']['tracking_number']} → {d['to']['tracking_number']}"
    if e.action in ("ship", "arrange"):
        text = f"{carriers.CARRIERS[d['carrier']].name} {d['tracking_number']}" if d.get("carrier") in carriers.CARRIERS else ""
        if d.get("dropoff_point"):
            text += f", drop-off at {dict(carriers.DROPOFF_POINTS).get(d['dropoff_point'], d['dropoff_point'])}"
        if d.get("pickup_slot"):
            text += ", pickup slot booked"
        return text
    if e.action == "create" and d.get("items"):
        return ", ".join(f"{q}× {code}" for code, q in d["items"].items())
    if e.action == "void_label" and d.get("to"):
        return f"{e.note} {d.get('from') or '—'} → {d['to']}"
    if e.action.startswith(("print_", "reprint_")):
        return f"{d.get('size', '')} (print #{d.get('print_job')})"
    if e.action == "edit_label":
        return d.get("to") or "(cleared)"
    return ""


# --- Manage Orders hooks --------------------------------------------------------------------

PACKAGE_FILTERS = [
    ("partially_shipped", gettext_lazy("Partially shipped")),
    ("delayed", gettext_lazy("Delayed")),
    *[(s.value, s.label) for s in P if s != P.VOID],
]


def apply_package_filter(qs, value):
    packages = Package.objects.active().filter(order=OuterRef("pk"))
    if value == "delayed":
        return qs.filter(Exists(packages.filter(is_delayed=True)))
    if value == "partially_shipped":
        return qs.filter(Exists(packages.filter(status__in=HANDED_OVER))).filter(
            Exists(packages.exclude(status__in=REACHED_CARRIER))
        )
    return qs.filter(Exists(packages.filter(status=value)))


def _tracking_numbers(tokens):
    """Pasted tokens as stored tracking numbers (separators dropped, upper case), so a
    number typed in any case or with spaces is found."""
    return {carriers.normalize(t) for t in tokens if len(t) >= 6}


def search_tracking(shop, tokens):
    numbers = _tracking_numbers(tokens)
    if not numbers:
        return None
    return Q(Exists(Package.objects.filter(shop=shop, order=OuterRef("pk"), tracking_number__in=numbers)))


def example_tracking(shop):
    """A tracking number of the shop's newest package that has one, for bench_orders' search."""
    return (Package.objects.filter(shop=shop).exclude(tracking_number="").order_by("-pk")
            .values_list("tracking_number", flat=True).first())


def found_tracking(shop, tokens):
    """The tokens that are tracking numbers of this shop's packages (one query)."""
    numbers = _tracking_numbers(tokens)
    if not numbers:
        return set()
    known = set(Package.objects.filter(shop=shop, tracking_number__in=numbers).values_list("tracking_number", flat=True))
    return {t for t in tokens if carriers.normalize(t) in known}


def row_tracking():
    """The Manage Orders row's carrier and tracking number: its first package that has one."""
    from django.db.models import OuterRef, Subquery, Value
    from django.db.models.functions import Concat

    return Subquery(
        Package.objects.filter(order=OuterRef("pk")).exclude(tracking_number="").order_by("seq", "pk")
        .annotate(text=Concat("carrier", Value(" "), "tracking_number")).values("text")[:1]
    )


def row_has_label(order_ref="pk"):
    """Whether the Manage Orders row's order has a package at the seller with its platform
    label (arranged): its next action is printing, not arranging."""
    from .transitions import AT_SELLER

    return Exists(Package.objects.filter(order=OuterRef(order_ref), status__in=AT_SELLER).exclude(tracking_number=""))
