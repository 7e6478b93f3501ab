"""The seller API, version 1: a shop's own systems (ERP, IMS, OMS, 3PL) read and change its
orders with a per-shop key. django-ninja builds the OpenAPI document from these signatures,
so the schema cannot drift from what the endpoints do.

Errors are application/problem+json (RFC 9457): {type, title, status, detail, code, errors}.
A missing, wrong or revoked key is a 401; a key without the scope a 403; another shop's
object a 404 (nothing about it is revealed); over the rate limit a 429 with Retry-After.
"""

import math
import time as _time
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.db.models import F, Q, Window
from django.db.models.functions import RowNumber
from ninja import NinjaAPI, Query, Router, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer
from pydantic import Field

from core.actor import Actor
from core.money import amount_text
from orders import actions as order_actions
from orders.models import Order, OrderEvent, OrderMessage
from returns import actions as return_actions
from returns.forms import MessageForm
from returns.models import BuyerRequest, Refund
from shipping.models import Package, TrackingEvent

from . import keys
from .common import (
    Amount,
    IsoTime,
    Problem,
    ProblemOut,
    check_text,
    form_problem,
    idempotent,
    key_can,
    need,
    only_known_params,
    problem_response,
)
from .fulfillment import PackageOut, TrackingOut, package_rows
from .fulfillment import router as fulfillment_router
from .inventory import router as inventory_router
from .pages import after_token, next_token
from .returns import RequestSummary, request_summary, requests_router
from .webhooks import events_router, webhooks_router

MAX_PAGE = 100
LATEST_TRACKING = 5


class BearerKey(HttpBearer):
    def authenticate(self, request, token):
        api_key = keys.authenticate(token)
        if api_key is None:
            return None
        _rate_limit(api_key)
        keys.touch(api_key, request.META.get("REMOTE_ADDR") or None)
        request.api_key = api_key
        request.shop = api_key.shop
        return api_key


def _rate_limit(api_key):
    """A fixed one-minute window per key in the shared cache (Redis when REDIS_URL is set)."""
    limit = settings.API_RATE_LIMIT_PER_MINUTE
    now = _time.time()
    window = int(now // 60)
    bucket = f"api-rate:{api_key.pk}:{window}"
    cache.add(bucket, 0, timeout=120)
    try:
        used = cache.incr(bucket)
    except ValueError:  # evicted between add and incr
        cache.set(bucket, 1, timeout=120)
        used = 1
    if used > limit:
        retry = max(1, math.ceil((window + 1) * 60 - now))
        raise Problem(429, "rate_limited", "Too many requests",
                      f"at most {limit} requests a minute per key; retry in {retry} s",
                      headers={"Retry-After": str(retry)})


class SellerApi(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        """Every error answer is documented as what it is: application/problem+json."""
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        for operations in schema["paths"].values():
            for operation in operations.values():
                for status, response in operation.get("responses", {}).items():
                    content = response.get("content", {})
                    if int(status) >= 400 and "application/json" in content:
                        content["application/problem+json"] = content.pop("application/json")
        return schema


api = SellerApi(
    title="Seller Center API",
    version="1",
    description="A shop's orders for its own systems. Authenticate with `Authorization: Bearer <key>`; "
                "keys are made by the shop owner (Settings → API keys) or `manage.py create_api_key`.",
    urls_namespace="api-v1",
    auth=BearerKey(),
    docs_url="/docs",
    openapi_url="/openapi.json",
)


@api.exception_handler(Problem)
def _problem(request, exc):
    return problem_response(exc.status, exc.code, exc.title, exc.detail, exc.errors, exc.headers)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request, exc):
    return problem_response(401, "unauthenticated", "Missing, wrong or revoked API key",
                            "send Authorization: Bearer <key> with an active key of the shop",
                            headers={"WWW-Authenticate": "Bearer"})


def _field_path(loc):
    """pydantic's location as the client's field path: ("query", "page_size") is page_size, and
    ("body", <the endpoint's parameter>, "rows", 0, "order") is rows.0.order."""
    loc = list(loc)
    if loc[:1] == ["body"]:
        loc = loc[2:]
    elif loc[:1] and loc[0] in ("query", "path", "header", "cookie"):
        loc = loc[1:]
    return ".".join(str(p) for p in loc)


@api.exception_handler(ValidationError)
def _invalid(request, exc):
    errors = [{"path": _field_path(e.get("loc", ())), "message": e.get("msg", "invalid")} for e in exc.errors]
    return problem_response(422, "invalid_request", "The request is not valid", "see errors", errors)


@api.exception_handler(HttpError)
def _http_error(request, exc):
    return problem_response(exc.status_code, "http_error", str(exc))


# --- schemas ---------------------------------------------------------------------------------


class DeadlineOut(Schema):
    kind: str = Field(description="auto-cancel (unpaid), ship or handover")
    at: datetime


class OrderSummary(Schema):
    number: str
    status: str
    shipping_model: str
    placed_at: datetime
    paid_at: datetime | None
    status_changed_at: datetime
    ship_by: datetime | None = Field(None, description="Ready or shipped by then, else late dispatch (P2)")
    handover_by: datetime | None = Field(None, description="Handed to the carrier by then, else overdue (P4)")
    auto_cancel_at: datetime | None = Field(None, description="The platform cancels it then (P1 unpaid, P5 untracked)")
    deadlines_paused_until: datetime | None = Field(None, description="Force majeure: its deadlines wait until then "
                                                                      "(P12)")
    next_deadline: DeadlineOut | None = Field(None, description="The deadline the seller should watch now")
    currency: str
    total: Amount
    item_count: int
    updated_at: datetime


class OrderPage(Schema):
    items: list[OrderSummary]
    next_page_token: str | None


class LineOut(Schema):
    id: int = Field(description="the line's id, used to split the order into packages")
    sku: str
    name: str
    quantity: int
    unit_price: Amount


class AddressOut(Schema):
    line1: str
    line2: str
    city: str
    region: str
    postal_code: str
    country: str


class BuyerOut(Schema):
    name: str
    masked: bool = Field(description="true unless the key has the scope buyer:full_address")
    phone: str = Field(description="Masked to the last four digits, unless the key has buyer:full_address")
    address: str = Field(description="Masked to city, region, the postal code's start and country, unless the key "
                                     "has buyer:full_address")
    shipping_address: AddressOut | None = Field(description="Only for a key with buyer:full_address (for labels)")


class PackageSummary(PackageOut):
    latest_tracking: list[TrackingOut] = Field(
        description=f"the carrier's latest {LATEST_TRACKING} events, newest first (GET /packages/{{id}} has all)")


class OrderRefundOut(Schema):
    seq: int = Field(description="1 for the order's first refund, 2 for the next, …")
    kind: str = Field(description="order (the whole order, on cancellation) or request")
    request: str | None = Field(description="the request refunded, if any")
    amount: Amount
    currency: str
    partial: bool
    at: datetime


class OrderDetail(OrderSummary):
    confirmed_at: datetime | None
    shipped_at: datetime | None
    delivered_at: datetime | None
    completed_at: datetime | None
    cancelled_at: datetime | None
    cancel_reason: str
    cancel_note: str
    buyer: BuyerOut
    lines: list[LineOut]
    packages: list[PackageSummary] = Field(description="the packages that count (a re-split voids the old ones)")
    requests: list[RequestSummary] = Field(description="the buyer's cancellation, return and refund requests, "
                                                       "oldest first, with their deadlines")
    refunds: list[OrderRefundOut]
    refunded_total: Amount


class EventOut(Schema):
    at: datetime
    actor_kind: str
    actor: str
    action: str
    from_status: str
    to_status: str
    note: str


class OrderFilters(Schema):
    status: Order.Status | None = None
    shipping_model: Order.ShippingModel | None = None
    created_from: IsoTime | None = Field(None, description="placed_at at or after (ISO 8601 with offset)")
    created_to: IsoTime | None = Field(None, description="placed_at before")
    updated_since: IsoTime | None = Field(None, description="updated at or after; pages then run oldest change first")
    sku: str | None = Field(None, max_length=64)
    page_size: int = Field(50, ge=1, le=MAX_PAGE)
    page_token: str | None = Field(None, max_length=200)


# --- pages of orders -------------------------------------------------------------------------


orders_router = Router(tags=["orders"])


@orders_router.get("", response={200: OrderPage, 400: ProblemOut, 401: ProblemOut, 403: ProblemOut,
                                 422: ProblemOut, 429: ProblemOut}, summary="List orders (keyset pages)")
def list_orders(request, filters: Query[OrderFilters]):
    need(request, "orders.view")
    only_known_params(request, OrderFilters)
    check_text(filters.sku, "sku")
    qs = Order.objects.for_shop(request.shop)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.shipping_model:
        qs = qs.filter(shipping_model=filters.shipping_model)
    if filters.created_from:
        qs = qs.filter(placed_at__gte=filters.created_from)
    if filters.created_to:
        qs = qs.filter(placed_at__lt=filters.created_to)
    if filters.sku:
        qs = qs.with_sku(filters.sku)
    # Polling for changes reads oldest change first so a consumer can resume; otherwise newest orders first.
    field, descending = ("updated_at", False) if filters.updated_since else ("placed_at", True)
    if filters.updated_since:
        qs = qs.filter(updated_at__gte=filters.updated_since)
    if filters.page_token:
        value, pk = after_token(filters.page_token)
        if descending:
            qs = qs.filter(**{f"{field}__lte": value}).filter(Q(**{f"{field}__lt": value}) | Q(pk__lt=pk))
        else:
            qs = qs.filter(**{f"{field}__gte": value}).filter(Q(**{f"{field}__gt": value}) | Q(pk__gt=pk))
    order_by = [f"-{field}", "-pk"] if descending else [field, "pk"]
    rows = list(qs.order_by(*order_by)[: filters.page_size + 1])
    more = len(rows) > filters.page_size
    rows = rows[: filters.page_size]
    return {"items": [summary(o) for o in rows],
            "next_page_token": next_token(getattr(rows[-1], field), rows[-1].pk) if more else None}


SUMMARY_FIELDS = [f for f in OrderSummary.model_fields if f != "next_deadline"]


def summary(order):
    """An order as OrderSummary, from the row alone."""
    deadline = order.next_deadline
    return {**{f: getattr(order, f) for f in SUMMARY_FIELDS}, "total": amount_text(order.total, order.currency),
            "next_deadline": {"kind": deadline[0], "at": deadline[1]} if deadline else None}


def _order(request, number):
    check_text(number, "number")
    order = Order.objects.for_shop(request.shop).filter(number=number).first()
    if order is None:
        raise Problem(404, "not_found", "No such order", f"no order {number!r} in this shop")
    order.shop = request.shop  # known already: what the buyer is told reads the shop's clock
    return order


# --- changing orders ---------------------------------------------------------------------------
# Every write goes through the same actions as the pages, as Actor.app(key): the history says
# which key did it. A refused move is a 409 with the reason the page would show.

MAX_BULK = 500
ORDER_REFUSED = "The order cannot do that now"
WRITE_ERRORS = {400: ProblemOut, 401: ProblemOut, 403: ProblemOut, 404: ProblemOut, 409: ProblemOut,
                422: ProblemOut, 429: ProblemOut}


class CancelIn(Schema):
    reason: str = Field(description="out_of_stock, damaged_or_expired, buyer_requested, pricing_error or other")
    note: str = Field("", max_length=500, description="required when the reason is other; the buyer reads it")


class NoteIn(Schema):
    text: str = Field(min_length=1, max_length=2000)


class BulkIn(Schema):
    numbers: list[str] = Field(min_length=1, max_length=MAX_BULK)


class BulkCancelIn(BulkIn, CancelIn):
    pass


class Refusal(Schema):
    number: str
    reason: str


class BulkOut(Schema):
    done: list[str]
    refused: list[Refusal]


class NoteOut(Schema):
    at: datetime
    text: str


def _clean_texts(data, paths):
    for path in paths:
        check_text(data.get(path), path)


def _clean_cancel(body):
    _clean_texts(body.dict(), ["reason", "note"])
    if body.reason not in order_actions.SELLER_CANCEL_REASONS:
        raise Problem(422, "invalid_request", "The request is not valid", errors=[
            {"path": "reason", "message": f"one of {', '.join(order_actions.SELLER_CANCEL_REASONS)}"}])
    if body.reason == Order.CancelReason.OTHER and not body.note.strip():
        raise Problem(422, "invalid_request", "The request is not valid",
                      errors=[{"path": "note", "message": "say why when the reason is other"}])


def _summary(order):
    order.refresh_from_db()
    return summary(order)


@orders_router.post("/{number}/confirm", response={200: OrderSummary, **WRITE_ERRORS},
                    summary="Confirm: reserve every line's stock (409 naming the short SKU)")
def confirm(request, number: str):
    need(request, "orders.confirm")
    order = _order(request, number)

    def act():
        order_actions.confirm_order(order=order, actor=Actor.app(request.api_key))
        return 200, _summary(order)
    return idempotent(request, act, refused_title=ORDER_REFUSED)


@orders_router.post("/{number}/cancel", response={200: OrderSummary, **WRITE_ERRORS},
                    summary="Cancel with a reason (the buyer is told)")
def cancel(request, number: str, body: CancelIn):
    need(request, "orders.cancel")
    _clean_cancel(body)
    order = _order(request, number)

    def act():
        order_actions.cancel_order(order=order, actor=Actor.app(request.api_key),
                                   reason=body.reason, note=body.note)
        return 200, _summary(order)
    return idempotent(request, act, refused_title=ORDER_REFUSED)


@orders_router.post("/{number}/notes", response={201: NoteOut, **WRITE_ERRORS},
                    summary="Add an internal note to the order's history")
def add_note(request, number: str, body: NoteIn):
    need(request, "orders.note")
    _clean_texts(body.dict(), ["text"])
    order = _order(request, number)

    def act():
        try:
            event = order_actions.add_note(order=order, actor=Actor.app(request.api_key), text=body.text)
        except order_actions.ActionRefused as exc:
            raise Problem(422, "invalid_request", "The note is not valid", str(exc)) from None
        return 201, {"at": event.at, "text": event.note}
    return idempotent(request, act, refused_title=ORDER_REFUSED)


def _bulk_ids(request, numbers):
    for i, n in enumerate(numbers):
        check_text(n, f"numbers.{i}")
    found = dict(Order.objects.for_shop(request.shop).filter(number__in=numbers).values_list("number", "pk"))
    return found, [n for n in dict.fromkeys(numbers) if n not in found]


def _bulk_report(result, missing):
    refused = [{"number": n, "reason": "no such order in this shop"} for n in missing]
    refused += [{"number": n, "reason": str(exc)} for n, exc in result.refused.items() if n != "(not found)"]
    return 200, {"done": [o.number for o in result.done], "refused": refused}


@orders_router.post("/confirm", response={200: BulkOut, **WRITE_ERRORS},
                    summary=f"Confirm up to {MAX_BULK} orders; a per-order report")
def confirm_many(request, body: BulkIn):
    need(request, "orders.confirm")
    found, missing = _bulk_ids(request, body.numbers)

    def act():
        result = order_actions.confirm_orders(shop=request.shop, order_ids=list(found.values()),
                                              actor=Actor.app(request.api_key)) if found else None
        return _bulk_report(result or order_actions.BulkResult(), missing)
    return idempotent(request, act, refused_title=ORDER_REFUSED)


@orders_router.post("/cancel", response={200: BulkOut, **WRITE_ERRORS},
                    summary=f"Cancel up to {MAX_BULK} orders with one reason; a per-order report")
def cancel_many(request, body: BulkCancelIn):
    need(request, "orders.cancel")
    _clean_cancel(body)
    found, missing = _bulk_ids(request, body.numbers)

    def act():
        try:
            result = order_actions.cancel_orders(shop=request.shop, order_ids=list(found.values()),
                                                 actor=Actor.app(request.api_key),
                                                 reason=body.reason, note=body.note) if found else None
        except order_actions.ActionRefused as exc:
            raise Problem(422, "invalid_request", "The cancellation is not valid", str(exc)) from None
        return _bulk_report(result or order_actions.BulkResult(), missing)
    return idempotent(request, act, refused_title=ORDER_REFUSED)


# Paths with a fixed second part (/confirm, /cancel) come before /{number}, which would take them.
def _buyer(order, full):
    """The buyer as the key may see them: masked as on the Seller Center's pages, or in full for a key
    that prints labels."""
    if not full:
        return {"name": order.buyer_name, "masked": True, "phone": order.masked_phone,
                "address": order.masked_address, "shipping_address": None}
    return {"name": order.buyer_name, "masked": False, "phone": order.buyer_phone, "address": order.full_address,
            "shipping_address": {"line1": order.address_line1, "line2": order.address_line2, "city": order.city,
                                 "region": order.region, "postal_code": order.postal_code, "country": order.country}}


def _packages(order):
    """The order's packages with their latest tracking events: three queries, whatever the count."""
    packages = list(Package.objects.active().filter(order=order).order_by("seq"))
    for p in packages:
        p.order = order
    latest = {}
    if packages:
        ranked = TrackingEvent.objects.filter(package__in=packages).annotate(rank=Window(
            RowNumber(), partition_by=[F("package_id")], order_by=[F("occurred_at").desc(), F("id").desc()]))
        for e in ranked.filter(rank__lte=LATEST_TRACKING).order_by("package_id", "rank"):
            latest.setdefault(e.package_id, []).append(
                {"tag": e.tag, "subtag": e.subtag, "occurred_at": e.occurred_at, "location": e.location,
                 "message": e.message})
    return [{**row, "latest_tracking": latest.get(row["id"], [])} for row in package_rows(packages)]


@orders_router.get("/{number}", response={200: OrderDetail, 400: ProblemOut, 401: ProblemOut, 403: ProblemOut, 404: ProblemOut,
                                          429: ProblemOut},
                   summary="One order: lines, buyer, packages with tracking, requests, refunds, deadlines")
def get_order(request, number: str):
    need(request, "orders.view")
    order = _order(request, number)
    lines = [{"id": li.pk, "sku": li.sku_code, "name": li.name, "quantity": li.quantity,
              "unit_price": amount_text(li.unit_price, order.currency)} for li in order.lines.order_by("id")]
    requests = list(BuyerRequest.objects.filter(order=order).order_by("created_at", "id"))
    for r in requests:
        r.order = order
    numbers = {r.pk: r.number for r in requests}
    rows = list(Refund.objects.filter(order=order).order_by("seq"))
    refunds = [{"seq": f.seq, "kind": f.kind, "request": numbers.get(f.request_id),
                "amount": amount_text(f.amount, f.currency), "currency": f.currency, "partial": f.partial,
                "at": f.created_at} for f in rows]
    detail_only = ["confirmed_at", "shipped_at", "delivered_at", "completed_at", "cancelled_at", "cancel_reason",
                   "cancel_note"]
    return {**summary(order), **{f: getattr(order, f) for f in detail_only},
            "buyer": _buyer(order, key_can(request, "buyer.full_address")),
            "lines": lines, "packages": _packages(order), "requests": [request_summary(r) for r in requests],
            "refunds": refunds,
            "refunded_total": amount_text(sum((f.amount for f in rows), Decimal("0")), order.currency)}


@orders_router.get("/{number}/history", response={200: list[EventOut], 400: ProblemOut, 401: ProblemOut, 403: ProblemOut,
                                                  404: ProblemOut, 429: ProblemOut}, summary="The order's history")
def order_history(request, number: str):
    need(request, "orders.view")
    order = _order(request, number)
    return [{"at": e.at, "actor_kind": e.actor_kind, "actor": e.actor_label, "action": e.action,
             "from_status": e.from_status, "to_status": e.to_status, "note": e.note}
            for e in OrderEvent.objects.filter(order=order).order_by("at", "id")]


# --- messages with the buyer ------------------------------------------------------------------


class MessageIn(Schema):
    body: str = Field(description="what the buyer reads, 1 to 4000 characters; they are told by email")


class MessageOut(Schema):
    id: int
    at: datetime
    sender: str = Field(description="seller, buyer or platform (the platform's own notices)")
    by: str = Field(description="the seller's user name or the key's name; empty for the buyer and the platform")
    body: str


def _messages(order):
    """The order's messages, oldest first, each with who wrote it: the author for a person of the
    shop, the history row's actor for the shop's app (two queries, whatever the count)."""
    rows = list(OrderMessage.objects.filter(order=order).select_related("author").order_by("created_at", "id"))
    apps = {e.data.get("message"): e.actor_label for e in OrderEvent.objects.filter(
        order=order, action=OrderEvent.Action.MESSAGE, actor_kind=OrderEvent.ActorKind.APP)} if rows else {}
    return [{"id": m.pk, "at": m.created_at, "sender": m.sender, "body": m.body,
             "by": m.author.get_username() if m.author else apps.get(m.pk, "")} for m in rows]


@orders_router.get("/{number}/messages", response={200: list[MessageOut], 400: ProblemOut, 401: ProblemOut,
                                                   403: ProblemOut, 404: ProblemOut, 429: ProblemOut},
                   summary="The order's messages with the buyer, oldest first")
def order_messages(request, number: str):
    need(request, "orders.view")
    return _messages(_order(request, number))


@orders_router.post("/{number}/messages", response={201: MessageOut, **WRITE_ERRORS},
                    summary="Message the buyer (they are told by email)")
def post_message(request, number: str, body: MessageIn):
    need(request, "orders.message")
    check_text(body.body, "body")
    form = MessageForm({"body": body.body})  # the seller page's form: the same rules
    if not form.is_valid():
        raise form_problem(form)
    order = _order(request, number)

    def act():
        actor = Actor.app(request.api_key)
        message = return_actions.post_message(order=order, sender=OrderMessage.Sender.SELLER,
                                              body=form.cleaned_data["body"], actor=actor)
        return 201, {"id": message.pk, "at": message.created_at, "sender": message.sender, "by": actor.label,
                     "body": message.body}
    return idempotent(request, act, refused_title=ORDER_REFUSED)


api.add_router("/orders", orders_router)
api.add_router("/requests", requests_router)
api.add_router("/", fulfillment_router)
api.add_router("/inventory", inventory_router)
api.add_router("/events", events_router)
api.add_router("/webhooks", webhooks_router)
