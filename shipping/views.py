from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Exists, OuterRef, Q
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from core import files, params
from core.actor import Actor
from core.htmx import form_errors, toast
from core.refusals import Refused
from orders.models import Order
from orders.transitions import TO_SHIP
from shops.access import require, shop_required

from . import actions, carriers, labels, picklist
from .actions import ActionRefused, ShipRow
from .forms import (
    ArrangeForm,
    ComplaintForm,
    CorrectForm,
    CsvUploadForm,
    ForceMajeureForm,
    LabelNoteForm,
    PaperForm,
    PhotoForm,
    PrintForm,
    ShipForm,
    parse_ship_csv,
)
from .models import HandoverPhoto, Package, PrintJob, Ticket
from .panel import order_panel
from .transitions import AT_SELLER

PAGE_SIZE = 50
MAX_QUANTITY = 100_000  # units of one line in one package a split form may name


def _order(shop, number):
    return get_object_or_404(Order.objects.for_shop(shop).select_related("shop"), number=number)


def _package(shop, pk):
    return get_object_or_404(Package.objects.for_shop(shop).select_related("order", "order__shop"), pk=pk)


def _done(request, shop, order, *, ok=None, error=None, status=200):
    """Back to the order page: HTMX re-renders its main panel with a toast, otherwise a redirect."""
    from orders.views import after_order_action  # the order page owns its re-render

    return after_order_action(request, shop, order, ok=ok, error=error, status=status if error else 200)


# --- the shipping page: to ship, bulk tracking, CSV, bulk print, print history ---------------------


# The to-ship list's views: what the bulk bar's "all matching" acts on is the view shown.
SHOW = {
    "all": gettext_lazy("Everything to ship"),
    "to_arrange": gettext_lazy("Ship by platform: to arrange"),
    "to_ready": gettext_lazy("Arranged: to mark ready"),
}
# The print queue's tabs: (kind, printed).
QUEUES = {
    "label-todo": (PrintJob.Kind.LABEL, False),
    "label-done": (PrintJob.Kind.LABEL, True),
    "slip-todo": (PrintJob.Kind.PACKING_SLIP, False),
    "slip-done": (PrintJob.Kind.PACKING_SLIP, True),
}
QUEUE_WORDS = {
    "label-todo": gettext_lazy("Labels to print"), "label-done": gettext_lazy("Labels printed"),
    "slip-todo": gettext_lazy("Packing slips to print"), "slip-done": gettext_lazy("Packing slips printed"),
}
QUEUE_PAGE = 100


def _show(value):
    return value if value in SHOW else "all"


def to_ship(shop, show):
    """The orders of the to-ship list's view `show`."""
    qs = Order.objects.for_shop(shop).filter(status__in=TO_SHIP)
    packages = Package.objects.active().filter(order=OuterRef("pk"))
    if show == "to_arrange":
        qs = qs.filter(status=Order.Status.AWAITING_SHIPMENT, shipping_model=Order.ShippingModel.PLATFORM).exclude(
            Exists(packages.exclude(tracking_number="")))
    elif show == "to_ready":
        qs = qs.filter(status=Order.Status.AWAITING_SHIPMENT).filter(
            Exists(packages.filter(status=Package.Status.PACKING).exclude(tracking_number="")))
    return qs


def _queue(request, shop):
    """The print queue's tab: its packages (a page, by id), the counts of every tab (one query)."""
    name = request.GET.get("queue") if request.GET.get("queue") in QUEUES else "label-todo"
    kind, printed = QUEUES[name]
    base = Package.objects.for_shop(shop).active().of_open_orders().filter(status__in=AT_SELLER, parcel=None)
    counts = base.aggregate(
        label_todo=Count("pk", filter=~Q(tracking_number="") & Q(label_printed_at__isnull=True)),
        label_done=Count("pk", filter=~Q(tracking_number="") & Q(label_printed_at__isnull=False)),
        slip_todo=Count("pk", filter=Q(slip_printed_at__isnull=True)),
        slip_done=Count("pk", filter=Q(slip_printed_at__isnull=False)),
    )
    qs = Package.objects.for_shop(shop).print_queue(kind, printed=printed)
    after = params.parse_id(request.GET.get("qafter"))
    if after is not None:
        qs = qs.filter(pk__gt=after)
    rows = list(qs.select_related("order").order_by("pk")[: QUEUE_PAGE + 1])
    more = len(rows) > QUEUE_PAGE
    rows = rows[:QUEUE_PAGE]
    return {
        "queue": name, "queue_kind": kind, "queue_printed": printed, "queue_rows": rows,
        "queue_next": rows[-1].pk if more and rows else None,
        "queue_tabs": [(key, QUEUE_WORDS[key], str(counts[key.replace("-", "_")])) for key in QUEUES],
        "queue_todo": counts[f"{kind}_todo"],
    }


def _home_context(request, shop, *, report=None, upload_form=None, bulk_report=None):
    show = _show(request.GET.get("show") or request.POST.get("show"))
    qs = to_ship(shop, show)
    after = params.parse_id(request.GET.get("after"))  # anything else is the first page
    if after is not None:
        pivot = Order.objects.for_shop(shop).filter(pk=after).values_list("ship_by", flat=True).first()
        if pivot is not None:
            qs = qs.filter(Q(ship_by__gt=pivot) | Q(ship_by=pivot, pk__gt=after))
    orders = list(qs.order_by("ship_by", "pk")[: PAGE_SIZE + 1])
    more = len(orders) > PAGE_SIZE
    orders = orders[:PAGE_SIZE]
    packages = {}
    for pkg in Package.objects.for_shop(shop).active().filter(order__in=orders).order_by("seq"):
        packages.setdefault(pkg.order_id, []).append(pkg)
    now = timezone.now()
    rows = [{"order": o, "packages": packages.get(o.pk, [])} for o in orders]
    return {
        "shop": shop, "nav": "shipping", "rows": rows, "now": now,
        "next_after": orders[-1].pk if more and orders else None,
        "show": show, "shows": list(SHOW.items()),
        "carriers": carriers.SELLER_CARRIERS,
        "print_form": PrintForm(),
        "sizes": PrintJob.Size.choices,
        "arrange_form": ArrangeForm(slots=actions.pickup_slots(shop, now), tz=shop.tzinfo, prefix="bulk"),
        "upload_form": upload_form or CsvUploadForm(),
        "report": report,
        "bulk_report": bulk_report,
        "print_jobs": PrintJob.objects.filter(shop=shop).select_related("printed_by")[:20],
        "late_to_collect": Package.objects.for_shop(shop).late_to_collect(now).count(),
        **_queue(request, shop),
    }


@shop_required
@vary_on_headers("HX-Request")
def home(request, shop):
    context = _home_context(request, shop)
    if request.htmx and request.htmx.target in ("to-ship", "print-queue"):
        return render(request, f"shipping/home.html#{request.htmx.target}", context)
    return render(request, "shipping/home.html", context)


def _report_response(request, shop, report, *, upload_form=None, status=200):
    level = "success" if report.ok else ("warning" if report.applied else "error")
    if request.htmx:
        context = _home_context(request, shop, report=report, upload_form=upload_form)
        response = render(request, "shipping/home.html#shipping-main", context, status=status)
        return toast(response, report.summary(), level=level)
    if report.ok:
        messages.success(request, report.summary())
    else:
        # Without JS the per-row report is shown on the page itself, not lost in a redirect.
        context = _home_context(request, shop, report=report, upload_form=upload_form)
        return render(request, "shipping/home.html", context, status=status)
    return redirect("shipping:home", shop=shop.slug)


@require_POST
@shop_required(perm="shipping.ship")
def ship_bulk(request, shop):
    """Tracking numbers typed into the to-ship list: every filled row is one ShipRow."""
    rows, unreadable = [], []
    for key, value in request.POST.items():
        if not key.startswith("tracking-") or not value.strip():
            continue
        ref = key.removeprefix("tracking-")
        carrier = request.POST.get(f"carrier-{ref}", "")
        package_id = params.parse_id(ref[1:]) if ref.startswith("p") else None
        if package_id is not None:
            rows.append(ShipRow(f"package #{package_id}", "", None, carrier, value, package_id=package_id))
        elif ref.startswith("o") and len(ref) > 1 and not params.has_bad_characters(ref):
            rows.append(ShipRow(f"order {ref[1:]}", ref[1:], None, carrier, value))
        else:
            # A field no page of ours writes (tracking-p², tracking-x): named, never guessed at.
            unreadable.append((ShipRow(f"field {key[:60]!r}", "", None, carrier, value), "Not a package or order field."))
    report = actions.ship_packages(shop=shop, rows=rows, errors=unreadable, actor=Actor.seller(request.user))
    if not rows and not unreadable:
        report.errors.append((ShipRow("form", "", None, "", ""), "Enter at least one tracking number."))
    return _report_response(request, shop, report, status=200 if report.applied or report.ok else 400)


@require_POST
@shop_required(perm="shipping.ship")
def upload_csv(request, shop):
    form = CsvUploadForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            rows, errors = parse_ship_csv(form.cleaned_data["file"])
        except ValidationError as exc:
            form.add_error("file", exc)
    if not form.is_valid():
        report = actions.ShipReport(errors=[(ShipRow("file", "", None, "", ""), form_errors(form))])
        return _report_response(request, shop, report, upload_form=form, status=400)
    report = actions.ship_packages(shop=shop, rows=rows, errors=errors, actor=Actor.seller(request.user),
                                   all_or_nothing=form.cleaned_data["all_or_nothing"])
    return _report_response(request, shop, report, upload_form=form, status=200 if report.ok or report.applied else 400)


def _pdf(shop, job, packages):
    document = labels.render(labels.packages_for_print(Package.objects.filter(pk__in=[p.pk for p in packages])),
                             kind=job.kind, size=job.size)
    response = HttpResponse(document, content_type=labels.content_type(job.size))
    name = labels.filename(shop, job.kind, len(packages), job.size)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _back(request, shop):
    """Where a failed print returns to: the page it came from, if it is one of this shop's."""
    return (params.local_url(request, request.POST.get("next"), prefix=f"/s/{shop.slug}/")
            or reverse("shipping:home", kwargs={"shop": shop.slug}))


@require_POST
@shop_required(perm="shipping.labels")
def print_labels(request, shop):
    """Labels or packing slips merged into one document, and a PrintJob: of the chosen packages,
    of the chosen orders' packages, or of everything in the print queue."""
    form = PrintForm(request.POST)
    error = None
    if form.is_valid():
        kind = form.cleaned_data["kind"]
        mine = Package.objects.for_shop(shop).active()
        if form.cleaned_data["everything"]:
            packages = list(mine.print_queue(kind).select_related("order").order_by("pk")[: actions.MAX_PRINT + 1])
            if not packages:
                return _print_refused(request, shop, _("Nothing is waiting to be printed."))
        elif form.cleaned_data["order"]:
            ids = form.cleaned_data["order"]
            if Order.objects.for_shop(shop).filter(pk__in=ids).count() != len(set(ids)):
                raise Http404("No such order")
            packages = list(mine.filter(order_id__in=ids, parcel=None).select_related("order").order_by("order_id", "seq"))
            if kind == PrintJob.Kind.LABEL:
                packages = [p for p in packages if p.tracking_number]
            if not packages:
                return _print_refused(request, shop, _("None of the selected orders has a label yet: arrange their "
                                                       "shipment first.") if kind == PrintJob.Kind.LABEL else
                                      _("None of the selected orders is packed yet."))
        else:
            ids = form.cleaned_data["package"]
            packages = list(mine.filter(pk__in=ids).select_related("order"))
            if len(packages) != len(set(ids)):
                raise Http404("No such package")
        if len(packages) > actions.MAX_PRINT:
            return _too_many(request, shop)
        try:
            job = actions.record_print(shop=shop, packages=packages, kind=kind,
                                       size=form.cleaned_data["size"], actor=Actor.seller(request.user))
            return _pdf(shop, job, packages)
        except ActionRefused as exc:
            error = str(exc)
    else:
        error = form_errors(form)
    return _print_refused(request, shop, error)


def _too_many(request, shop):
    """More than one document holds: a 400 naming the limit, the page shown with it."""
    error = _("At most %(max)d labels or slips in one document, and more are chosen: print a selection.") % {
        "max": actions.MAX_PRINT}
    if request.htmx:
        return toast(HttpResponse(status=400), error, level="error")
    messages.error(request, error)
    return render(request, "shipping/home.html", _home_context(request, shop), status=400)


def _print_refused(request, shop, error):
    """A print or reprint refused: a 400 toast for HTMX, else back to the page with the message."""
    if request.htmx:
        return toast(HttpResponse(status=400), error, level="error")
    messages.error(request, error)
    return redirect(_back(request, shop))


@require_POST
@shop_required(perm="shipping.labels")
def reprint(request, shop, pk):
    """The same packages again, in the size asked for (or the job's own). A size or kind that
    is no choice is refused before anything is stored; a job stored with one before sizes
    were checked reprints in the default size rather than failing every time."""
    job = get_object_or_404(PrintJob.objects.filter(shop=shop), pk=pk)
    size = request.POST.get("size") or ""
    if size and size not in PrintJob.Size.values:
        return _print_refused(request, shop, f"Choose a label size: {', '.join(PrintJob.Size.values)}.")
    size = size or (job.size if job.size in PrintJob.Size.values else PrintJob.Size.FOUR_BY_SIX)
    kind = job.kind if job.kind in PrintJob.Kind.values else PrintJob.Kind.LABEL
    packages = list(job.packages.select_related("order"))
    try:
        new = actions.record_print(shop=shop, packages=packages, kind=kind, size=size,
                                   actor=Actor.seller(request.user), reprint_of=job.reprint_of or job)
    except ActionRefused as exc:
        return _print_refused(request, shop, str(exc))
    return _pdf(shop, new, packages)


# --- bulk: arrange, mark ready, pick list and packing lists of the selected orders -----------------


def _selected_orders(request, shop):
    """(order ids, error): the ticked orders, or every order of the list's view ("all matching")."""
    if request.POST.get("all_matching") == "1":
        ids = list(to_ship(shop, _show(request.POST.get("show"))).order_by("ship_by", "pk")
                   .values_list("pk", flat=True)[: actions.MAX_BULK + 1])
    else:
        ids = params.parse_ids(request.POST.getlist("order")[: actions.MAX_BULK + 1])
    if ids is None:
        return None, _("The selection holds something that is not an order; reload the page and select again.")
    if not ids:
        return None, _("Select at least one order.")
    if len(ids) > actions.MAX_BULK:
        return None, _("At most %(max)d orders at once; narrow the view.") % {"max": actions.MAX_BULK}
    return ids, None


def _bulk_response(request, shop, *, result=None, verb="", error=None):
    """The page with the per-order report (HTMX: its main part and a toast). A refusal of the
    whole request is a 400; a result with some orders refused is a 200 that lists them."""
    if error:
        if request.htmx:
            response = render(request, "shipping/home.html#shipping-main", _home_context(request, shop), status=400)
            return toast(response, error, level="error")
        messages.error(request, error)
        return render(request, "shipping/home.html", _home_context(request, shop), status=400)
    summary = result.summary(verb)
    level = "error" if not result.done else ("warning" if result.refused else "success")
    report = {"result": result, "verb": verb, "summary": summary, "refused": [(n, str(e)) for n, e in result.refused.items()]}
    if request.htmx:
        response = render(request, "shipping/home.html#shipping-main", _home_context(request, shop, bulk_report=report))
        return toast(response, summary, level=level)
    if not result.refused:
        messages.success(request, summary)
        url = reverse("shipping:home", kwargs={"shop": shop.slug})
        show = _show(request.POST.get("show"))
        return redirect(f"{url}?show={show}" if show != "all" else url)
    return render(request, "shipping/home.html", _home_context(request, shop, bulk_report=report))


@require_POST
@shop_required(perm="shipping.arrange")
def bulk_arrange(request, shop):
    """Arrange the platform's shipment of the selected orders: pickup in a slot or drop-off at a point."""
    ids, error = _selected_orders(request, shop)
    form = ArrangeForm(request.POST, slots=actions.pickup_slots(shop), tz=shop.tzinfo, prefix="bulk")
    if error is None and not form.is_valid():
        error = form_errors(form)
    if error:
        return _bulk_response(request, shop, error=error)
    try:
        result = actions.arrange_orders(
            shop=shop, order_ids=ids, actor=Actor.seller(request.user), handover=form.cleaned_data["handover"],
            pickup_slot=form.cleaned_data.get("pickup_slot"), dropoff_point=form.cleaned_data.get("dropoff_point") or "")
    except ActionRefused as exc:
        return _bulk_response(request, shop, error=str(exc))
    return _bulk_response(request, shop, result=result, verb=_("arranged; their labels are in the print queue"))


@require_POST
@shop_required(perm="shipping.arrange")
def bulk_ready(request, shop):
    """Mark every labelled package of the selected orders ready for handover."""
    ids, error = _selected_orders(request, shop)
    if error:
        return _bulk_response(request, shop, error=error)
    try:
        result = actions.mark_orders_ready(shop=shop, order_ids=ids, actor=Actor.seller(request.user))
    except ActionRefused as exc:
        return _bulk_response(request, shop, error=str(exc))
    return _bulk_response(request, shop, result=result, verb=_("ready for handover; the carrier has 48 h to collect"))


@require_POST
@shop_required(perm="shipping.split")
def bulk_combine(request, shop):
    """Combine the selected orders (one buyer, one address) into one package."""
    ids, error = _selected_orders(request, shop)
    if error:
        return _bulk_response(request, shop, error=error)
    try:
        parcel = actions.combine_orders(shop=shop, order_ids=ids, actor=Actor.seller(request.user))
    except Refused as exc:
        return _bulk_response(request, shop, error=str(exc))
    message = _("Orders combined: they travel in the package of order %(number)s, with one label.") % {
        "number": parcel.order.number}
    if request.htmx:
        return toast(render(request, "shipping/home.html#shipping-main", _home_context(request, shop)), message)
    messages.success(request, message)
    return redirect("shipping:home", shop=shop.slug)


@require_POST
@shop_required(perm="shipping.split")
def package_uncombine(request, shop, pk):
    pkg = _package(shop, pk)
    try:
        left = actions.uncombine(package=pkg, actor=Actor.seller(request.user))
    except Refused as exc:
        return _done(request, shop, pkg.order, error=str(exc), status=409)
    return _done(request, shop, pkg.order, ok=_("%(count)d order(s) ship in their own package again; print their "
                                                "labels.") % {"count": len(left)})


@require_POST
@shop_required(perm="shipping.labels")
def package_void_label(request, shop, pk):
    pkg = _package(shop, pk)
    try:
        actions.void_label(package=pkg, actor=Actor.seller(request.user))
    except Refused as exc:
        return _done(request, shop, pkg.order, error=str(exc), status=409)
    return _done(request, shop, pkg.order, ok=_("Label voided; the package has a new tracking number. Print the new "
                                                "label."))


def _document(request, shop, make, name):
    ids, error = _selected_orders(request, shop)
    form = PaperForm(request.POST)
    if error is None and not form.is_valid():
        error = form_errors(form)
    if error is None and len(ids) > picklist.MAX_ORDERS:
        error = _("At most %(max)d orders in one document; narrow the selection.") % {"max": picklist.MAX_ORDERS}
    if error:
        return _print_refused(request, shop, error)
    orders = Order.objects.for_shop(shop).filter(pk__in=ids)
    document = make(shop, orders, paper=form.cleaned_data["paper"])
    response = HttpResponse(document, content_type="application/pdf")
    stamp = timezone.now().astimezone(shop.tzinfo).strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="{shop.slug}-{name}-{len(ids)}-{stamp}.pdf"'
    return response


@require_POST
@shop_required(perm="shipping.labels")
def pick_list(request, shop):
    """One PDF for the selected orders: every SKU, its total quantity, where it is and which orders it goes to."""
    return _document(request, shop, picklist.pick_list, "pick-list")


@require_POST
@shop_required(perm="shipping.labels")
def packing_lists(request, shop):
    """One PDF, a packing list per selected order."""
    return _document(request, shop, picklist.packing_lists, "packing-lists")


# --- order page actions (forms in the shipping panel) --------------------------------------------


@require_POST
@shop_required(perm="shipping.split")
def split(request, shop, number):
    order = _order(shop, number)
    lines = list(order.lines.values_list("pk", flat=True))
    allocations = {}
    for line_id in lines:
        for k in range(1, actions.MAX_PACKAGES + 1):
            value = request.POST.get(f"q-{line_id}-{k}", "").strip()
            if value:
                quantity = params.parse_int(value, lo=0, hi=MAX_QUANTITY)
                if quantity is None:
                    return _done(request, shop, order, error=_("Quantities are whole numbers."), status=400)
                allocations.setdefault(k, {})[line_id] = quantity
    try:
        packages = actions.create_packages(order=order, allocations=[allocations[k] for k in sorted(allocations)],
                                           actor=Actor.seller(request.user))
    except Refused as exc:
        return _done(request, shop, order, error=str(exc), status=409)
    return _done(request, shop, order, ok=ngettext("Order %(number)s will ship in %(count)s package.", "Order %(number)s will ship in %(count)s packages.", len(packages)) % {"number": order.number, "count": len(packages)})


@require_POST
@shop_required(perm="shipping.arrange")
def arrange(request, shop, number):
    order = _order(shop, number)
    form = ArrangeForm(request.POST, slots=actions.pickup_slots(shop), tz=shop.tzinfo)
    if not form.is_valid():
        return _done(request, shop, order, error=form_errors(form), status=400)
    try:
        packages = actions.arrange_platform_shipment(
            order=order, actor=Actor.seller(request.user), handover=form.cleaned_data["handover"],
            pickup_slot=form.cleaned_data.get("pickup_slot"), dropoff_point=form.cleaned_data.get("dropoff_point") or "",
        )
    except Refused as exc:
        return _done(request, shop, order, error=str(exc), status=409)
    return _done(request, shop, order,
                 ok=ngettext("Shipment arranged: %(count)s platform label ready to print. Mark each package ready once packed.", "Shipment arranged: %(count)s platform labels ready to print. Mark each package ready once packed.", len(packages)) % {"count": len(packages)})


@require_POST
@shop_required(perm="shipping.arrange")
def ready_all(request, shop, number):
    order = _order(shop, number)
    try:
        done = actions.mark_all_ready(order=order, actor=Actor.seller(request.user))
    except Refused as exc:
        return _done(request, shop, order, error=str(exc), status=409)
    return _done(request, shop, order, ok=ngettext("%(count)s package ready; the carrier has 48 h to collect.", "%(count)s packages ready; the carrier has 48 h to collect.", len(done)) % {"count": len(done)})


@require_POST
@shop_required(perm="shipping.ship")
def order_ship(request, shop, number):
    """Ship by seller, not packed yet: the carrier and tracking number ship the whole order
    in one package (the page's "enter your carrier's tracking number" step)."""
    order = _order(shop, number)
    form = ShipForm(request.POST)
    if not form.is_valid():
        return _done(request, shop, order, error=form_errors(form), status=400)
    report = actions.ship_packages(shop=shop, actor=Actor.seller(request.user), rows=[
        ShipRow(f"order {order.number}", order.number, None, form.cleaned_data["carrier"],
                form.cleaned_data["tracking_number"])])
    if report.errors:
        return _done(request, shop, order, error=report.errors[0][1], status=409)
    return _done(request, shop, order, ok=_("Order %(number)s shipped in one package.") % {"number": order.number})


@require_POST
@shop_required(perm="shipping.arrange")
def package_ready(request, shop, pk):
    pkg = _package(shop, pk)
    try:
        actions.mark_ready(package=pkg, actor=Actor.seller(request.user))
    except Refused as exc:
        return _done(request, shop, pkg.order, error=str(exc), status=409)
    return _done(request, shop, pkg.order, ok=_("Package %(seq)s is ready for handover.") % {"seq": pkg.seq})


@require_POST
@shop_required(perm="shipping.ship")
def package_ship(request, shop, pk):
    pkg = _package(shop, pk)
    form = ShipForm(request.POST)
    if not form.is_valid():
        return _done(request, shop, pkg.order, error=form_errors(form), status=400)
    try:
        actions.ship_package(package=pkg, carrier=form.cleaned_data["carrier"],
                             tracking_number=form.cleaned_data["tracking_number"], actor=Actor.seller(request.user))
    except Refused as exc:
        return _done(request, shop, pkg.order, error=str(exc), status=409)
    return _done(request, shop, pkg.order, ok=_("Package %(seq)s shipped.") % {"seq": pkg.seq})


@require_POST
@shop_required(perm="shipping.ship")
def package_correct(request, shop, pk):
    pkg = _package(shop, pk)
    form = CorrectForm(request.POST)
    if not form.is_valid():
        return _done(request, shop, pkg.order, error=form_errors(form), status=400)
    try:
        actions.correct_tracking(package=pkg, carrier=form.cleaned_data["carrier"], actor=Actor.seller(request.user),
                                 tracking_number=form.cleaned_data["tracking_number"], reason=form.cleaned_data["reason"])
    except Refused as exc:
        return _done(request, shop, pkg.order, error=str(exc), status=409)
    return _done(request, shop, pkg.order, ok=_("Tracking number of package %(seq)s corrected (this was the one correction).") % {"seq": pkg.seq})


@require_POST
@shop_required(perm="shipping.labels")
def package_label_note(request, shop, pk):
    pkg = _package(shop, pk)
    form = LabelNoteForm(request.POST)
    if not form.is_valid():
        return _done(request, shop, pkg.order, error=form_errors(form), status=400)
    try:
        actions.set_label_note(package=pkg, text=form.cleaned_data["label_note"], actor=Actor.seller(request.user))
    except Refused as exc:
        return _done(request, shop, pkg.order, error=str(exc), status=400)
    return _done(request, shop, pkg.order, ok=_("Label text saved."))


@require_POST
@shop_required(perm="shipping.photos")
def package_photo(request, shop, pk):
    pkg = _package(shop, pk)
    form = PhotoForm(request.POST, request.FILES)
    if not form.is_valid():
        return _done(request, shop, pkg.order, error=form_errors(form), status=400)
    try:
        actions.add_handover_photo(package=pkg, upload=form.cleaned_data["photo"], actor=Actor.seller(request.user))
    except Refused as exc:
        return _done(request, shop, pkg.order, error=str(exc), status=400)
    return _done(request, shop, pkg.order, ok=_("Photo added to package %(seq)s.") % {"seq": pkg.seq})


@require_POST
@shop_required(perm="shipping.tickets")
def package_complaint(request, shop, pk):
    pkg = _package(shop, pk)
    form = ComplaintForm(request.POST)
    if not form.is_valid():
        return _done(request, shop, pkg.order, error=form_errors(form), status=400)
    try:
        ticket = actions.file_complaint(package=pkg, actor=Actor.seller(request.user),
                                        description=form.cleaned_data["description"])
    except Refused as exc:
        return _done(request, shop, pkg.order, error=str(exc), status=409)
    return _done(request, shop, pkg.order, ok=_("Complaint #%(pk)s filed; platform staff will rule on it.") % {"pk": ticket.pk})


@shop_required
def photo(request, shop, pk):
    """Handover photos are served through the shop's pages, never from a public URL."""
    item = get_object_or_404(HandoverPhoto.objects.filter(package__shop=shop), pk=pk)
    response = FileResponse(files.open_or_404(item.image, "photo"), content_type=item.content_type)
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- tickets: complaints and force majeure --------------------------------------------------------


@shop_required
@vary_on_headers("HX-Request")
def tickets(request, shop):
    if request.method == "POST":
        require(request, "shipping.tickets")
    form = ForceMajeureForm(request.POST or None, tz=shop.tzinfo)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            numbers = form.cleaned_data["orders"]
            found = dict(Order.objects.for_shop(shop).filter(number__in=numbers).values_list("number", "pk"))
            unknown = [n for n in numbers if n not in found]
            if unknown:
                form.add_error("orders", _("Not orders of this shop: %(items)s.") % {"items": ', '.join(unknown[:10])})
            else:
                try:
                    ticket = actions.file_force_majeure(
                        shop=shop, order_ids=list(found.values()), actor=Actor.seller(request.user),
                        description=form.cleaned_data["description"],
                        event_start=form.cleaned_data["event_start"], event_end=form.cleaned_data["event_end"],
                    )
                except ActionRefused as exc:
                    form.add_error(None, str(exc))
                else:
                    messages.success(request, _("Force-majeure ticket #%(pk)s filed; staff will rule on it.") % {"pk": ticket.pk})
                    return redirect("shipping:ticket", shop=shop.slug, pk=ticket.pk)
        status = 400
    context = {
        "shop": shop, "nav": "tickets", "form": form,
        "tickets": Ticket.objects.for_shop(shop).select_related("package", "package__order", "filed_by")[:100],
    }
    return render(request, "shipping/tickets.html", context, status=status)


@shop_required
def ticket(request, shop, pk):
    item = get_object_or_404(Ticket.objects.for_shop(shop).select_related("package", "package__order", "filed_by",
                                                                         "ruled_by"), pk=pk)
    return render(request, "shipping/ticket.html", {
        "shop": shop, "nav": "tickets", "ticket": item,
        "orders": item.orders.only("number", "status", "deadlines_paused_until"),
        "events": item.events.all(),
    })


__all__ = ["order_panel"]
