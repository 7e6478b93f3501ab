"""Seller API v1, fulfilment: an order's packages and their tracking; split, arrange ship-by-platform
(pickup slot or drop-off point), mark ready, ship by seller (one or up to 500 at once), labels and
packing slips as PDF. The page's forms and actions do the checking and the work."""

from datetime import datetime

from django.http import HttpResponse
from ninja import Router, Schema
from pydantic import Field

from core.actor import Actor
from core.params import parse_id
from core.refusals import Refused
from orders.models import Order
from shipping import actions, carriers, labels
from shipping.forms import ArrangeForm
from shipping.models import Package, PackageItem, PrintJob, TrackingEvent

from .common import Problem, ProblemOut, check_text, form_problem, idempotent, need, refused

ERRORS = {400: ProblemOut, 401: ProblemOut, 403: ProblemOut, 404: ProblemOut, 409: ProblemOut, 422: ProblemOut,
          429: ProblemOut}
MAX_ROWS = 500
PACKAGE_REFUSED = "The package or order cannot do that now"
router = Router(tags=["fulfillment"])


class PackageOut(Schema):
    id: int
    order: str
    seq: int = Field(description="package 1, 2, … of its order")
    status: str
    carrier: str
    tracking_number: str
    handover: str
    pickup_slot_start: datetime | None
    pickup_slot_end: datetime | None
    dropoff_point: str
    ready_at: datetime | None
    collect_by: datetime | None = Field(description="collected or dropped off by then (P3)")
    collected_at: datetime | None
    delivered_at: datetime | None
    promised_delivery_at: datetime | None
    is_delayed: bool
    lines: dict[str, int] = Field(description="SKU code: quantity in this package")


class TrackingOut(Schema):
    tag: str
    subtag: str
    occurred_at: datetime
    location: str
    message: str


class PackageDetail(PackageOut):
    tracking: list[TrackingOut]


class SplitIn(Schema):
    packages: list[dict[str, int]] = Field(min_length=1, max_length=actions.MAX_PACKAGES,
                                           description="one object per package: order line id → quantity")


class ArrangeIn(Schema):
    handover: str = Field(description="PICKUP or DROP_OFF")
    pickup_slot: datetime | None = Field(None, description="the start of one of GET …/pickup-slots")
    dropoff_point: str = Field("", max_length=40)


class SlotOut(Schema):
    start: datetime
    end: datetime


class ShipRowIn(Schema):
    order: str = Field(max_length=40)
    package: int = Field(1, ge=1, le=actions.MAX_PACKAGES, description="the package's number in its order")
    carrier: str = Field(max_length=16, description=", ".join(c for c, v in carriers.CARRIERS.items() if not v.platform))
    tracking_number: str = Field(max_length=60)


class ShipIn(Schema):
    rows: list[ShipRowIn] = Field(min_length=1, max_length=MAX_ROWS)
    all_or_nothing: bool = False


class ShipRefusal(Schema):
    order: str
    package: int | None
    reason: str


class ShipOut(Schema):
    shipped: list[PackageOut]
    refused: list[ShipRefusal]


def _order(request, number):
    check_text(number, "number")
    order = Order.objects.for_shop(request.shop).filter(number=number).first()
    if order is None:
        raise Problem(404, "not_found", "No such order", f"no order {number!r} in this shop")
    return order


def _package(request, pk):
    found = Package.objects.for_shop(request.shop).select_related("order").filter(pk=pk).first()
    if found is None:
        raise Problem(404, "not_found", "No such package", f"no package {pk} in this shop")
    return found


def package_rows(packages):
    """PackageOut rows for these packages (their order selected): two queries."""
    packages = list(packages)
    contents = {}
    for pkg_id, code, qty in PackageItem.objects.filter(package__in=packages).values_list(
            "package_id", "line__sku_code", "quantity"):
        contents.setdefault(pkg_id, {})
        contents[pkg_id][code] = contents[pkg_id].get(code, 0) + qty
    return [{**{f: getattr(p, f) for f in PackageOut.model_fields if f not in ("order", "lines")},
             "order": p.order.number, "lines": contents.get(p.pk, {})} for p in packages]


@router.get("/orders/{number}/packages", response={200: list[PackageOut], **ERRORS}, summary="An order's packages")
def order_packages(request, number: str):
    need(request, "orders.view")
    order = _order(request, number)
    return package_rows(Package.objects.active().filter(order=order).select_related("order").order_by("seq"))


@router.get("/orders/{number}/pickup-slots", response={200: list[SlotOut], **ERRORS},
            summary="The platform carrier's next pickup slots")
def order_pickup_slots(request, number: str):
    need(request, "orders.view")
    _order(request, number)
    return [{"start": s, "end": e} for s, e in actions.pickup_slots(request.shop)]


@router.post("/orders/{number}/packages", response={201: list[PackageOut], **ERRORS},
             summary="Split the order into packages (every unit in exactly one)")
def split(request, number: str, body: SplitIn):
    need(request, "shipping.split")
    order = _order(request, number)
    allocations = []
    for i, package in enumerate(body.packages):
        line_ids = {key: parse_id(key) for key in package}
        if None in line_ids.values():
            raise Problem(422, "invalid_request", "The request is not valid",
                          errors=[{"path": f"packages.{i}", "message": "keys are order line ids"}])
        allocations.append({line_ids[key]: qty for key, qty in package.items()})

    def act():
        made = actions.create_packages(order=order, allocations=allocations, actor=Actor.app(request.api_key))
        return 201, package_rows(Package.objects.filter(pk__in=[p.pk for p in made]).select_related("order").order_by("seq"))
    return idempotent(request, act, refused_title=PACKAGE_REFUSED)


@router.post("/orders/{number}/arrange", response={200: list[PackageOut], **ERRORS},
             summary="Ship by platform: pickup in a slot or drop-off at a point; labels follow")
def arrange(request, number: str, body: ArrangeIn):
    need(request, "shipping.arrange")
    check_text(body.dropoff_point, "dropoff_point")
    order = _order(request, number)
    slots = actions.pickup_slots(request.shop)
    form = ArrangeForm({"handover": body.handover, "dropoff_point": body.dropoff_point,
                        "pickup_slot": next((s.isoformat() for s, _ in slots if s == body.pickup_slot), "x")
                        if body.pickup_slot else ""}, slots=slots, tz=request.shop.tzinfo)
    if not form.is_valid():
        raise form_problem(form)
    slot = form.cleaned_data.get("pickup_slot")

    def act():
        made = actions.arrange_platform_shipment(order=order, actor=Actor.app(request.api_key),
                                                 handover=body.handover, pickup_slot=slot,
                                                 dropoff_point=body.dropoff_point)
        return 200, package_rows(Package.objects.filter(pk__in=[p.pk for p in made]).select_related("order").order_by("seq"))
    return idempotent(request, act, refused_title=PACKAGE_REFUSED)


@router.get("/packages/{int:package_id}", response={200: PackageDetail, **ERRORS},
            summary="One package with its tracking events, oldest first")
def package_detail(request, package_id: int):
    need(request, "orders.view")
    package = _package(request, package_id)
    (row,) = package_rows([package])
    events = TrackingEvent.objects.filter(package=package).order_by("occurred_at", "id")
    return {**row, "tracking": [{"tag": e.tag, "subtag": e.subtag, "occurred_at": e.occurred_at,
                                 "location": e.location, "message": e.message} for e in events]}


@router.post("/packages/{int:package_id}/ready", response={200: PackageOut, **ERRORS},
             summary="Packed and labelled: the collection window (P3) starts")
def ready(request, package_id: int):
    need(request, "shipping.arrange")
    package = _package(request, package_id)

    def act():
        actions.mark_ready(package=package, actor=Actor.app(request.api_key))
        return 200, package_rows(Package.objects.filter(pk=package.pk).select_related("order"))[0]
    return idempotent(request, act, refused_title=PACKAGE_REFUSED)


@router.post("/packages/ship", response={200: ShipOut, **ERRORS},
             summary=f"Ship by seller: carrier and tracking number for up to {MAX_ROWS} packages")
def ship(request, body: ShipIn):
    need(request, "shipping.ship")
    for i, row in enumerate(body.rows):
        for field in ("order", "carrier", "tracking_number"):
            check_text(getattr(row, field), f"rows.{i}.{field}")
    rows = [actions.ShipRow(f"rows.{i}", r.order, r.package, r.carrier, r.tracking_number)
            for i, r in enumerate(body.rows)]

    def act():
        report = actions.ship_packages(shop=request.shop, rows=rows, actor=Actor.app(request.api_key),
                                       all_or_nothing=body.all_or_nothing)
        shipped = package_rows(Package.objects.filter(pk__in=[p.pk for _, p in report.applied]).select_related("order")
                        .order_by("order__number", "seq"))
        refused = [{"order": r.order_number, "package": r.seq, "reason": why} for r, why in report.errors]
        return 200, {"shipped": shipped, "refused": refused}
    return idempotent(request, act, refused_title=PACKAGE_REFUSED)


@router.get("/packages/{int:package_id}/label.pdf", response={200: None, **ERRORS},
            summary="The package's label (kind=label) or packing slip (kind=slip) as PDF (size=ZPL: "
                    "the label as ZPL printer commands, text/plain)",
            openapi_extra={"responses": {200: {"description": "PDF, or ZPL text for size=ZPL",
                                               "content": {"application/pdf": {}, "text/plain": {}}}}})
def label(request, package_id: int, kind: PrintJob.Kind = PrintJob.Kind.LABEL,
          size: PrintJob.Size = PrintJob.Size.FOUR_BY_SIX):
    need(request, "shipping.labels")
    need(request, "buyer.full_address")  # the label and the slip carry the buyer's address and phone
    package = _package(request, package_id)
    try:
        actions.record_print(shop=request.shop, packages=[package], kind=kind, size=size,
                             actor=Actor.app(request.api_key))
    except Refused as exc:
        raise refused(exc, PACKAGE_REFUSED) from None
    pdf = labels.render(labels.packages_for_print(Package.objects.filter(pk=package.pk)), kind=kind, size=size)
    response = HttpResponse(pdf, content_type=labels.content_type(size))
    response["Content-Disposition"] = f'attachment; filename="{labels.filename(request.shop, kind, 1, size)}"'
    return response
