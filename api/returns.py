"""Seller API v1, buyers' requests: read them; approve, reject, extend, confirm receipt, refund,
with the page's forms and actions (the same validation, the same history)."""

from datetime import datetime
from decimal import Decimal

from django.db.models import Q
from ninja import Query, Router, Schema
from pydantic import Field

from core.actor import Actor
from core.money import amount_text
from core.params import parse_id
from returns import actions
from returns.forms import ApproveForm, RefundForm, RejectForm
from returns.models import BuyerRequest, Refund

from .common import Amount, Problem, ProblemOut, check_text, form_problem, idempotent, need, only_known_params
from .pages import after_token, next_token

READ_ERRORS = {400: ProblemOut, 401: ProblemOut, 403: ProblemOut, 404: ProblemOut, 422: ProblemOut, 429: ProblemOut}
WRITE_ERRORS = {**READ_ERRORS, 409: ProblemOut}
requests_router = Router(tags=["requests"])


class RequestSummary(Schema):
    number: str
    order: str
    kind: str
    reason: str
    status: str
    amount: Amount
    currency: str
    created_at: datetime
    respond_by: datetime | None = Field(None, description="Answer by then, else approved by the platform (P11)")
    ship_back_by: datetime | None = Field(None, description="An approved return: shipped back by then, else closed "
                                                            "(P13)")
    refund_by: datetime | None = Field(None, description="A return shipped back: refunded by then, else refunded "
                                                         "by the platform (P14)")
    status_changed_at: datetime


class RequestLineOut(Schema):
    sku: str
    quantity: int


class RefundOut(Schema):
    amount: Amount
    currency: str
    partial: bool
    at: datetime | None = None


class RequestDetail(RequestSummary):
    description: str
    lines: list[RequestLineOut]
    refunds: list[RefundOut]


class RequestPage(Schema):
    items: list[RequestSummary]
    next_page_token: str | None


class RequestFilters(Schema):
    status: BuyerRequest.Status | None = None
    kind: BuyerRequest.Kind | None = None
    page_size: int = Field(50, ge=1, le=100)
    page_token: str | None = Field(None, max_length=200)


class ApproveIn(Schema):
    amount: Decimal | None = Field(None, description="refund-only requests: less than asked for a partial refund")
    note: str = Field("", max_length=500)


class RejectIn(Schema):
    reason: str = Field(description=", ".join(BuyerRequest.RejectReason.values))
    note: str = Field("", max_length=500)


class NoteIn(Schema):
    note: str = Field("", max_length=500)


class RefundIn(Schema):
    amount: Decimal | None = Field(None, description="omit for the request's full value")
    note: str = Field("", max_length=500)


def request_summary(req):
    return {"number": req.number, "order": req.order.number, "kind": req.kind, "reason": req.reason,
            "status": req.status, "amount": amount_text(req.amount, req.currency), "currency": req.currency, "created_at": req.created_at,
            "respond_by": req.respond_by, "ship_back_by": req.ship_back_by, "refund_by": req.refund_by,
            "status_changed_at": req.status_changed_at}


def _request(request, number):
    check_text(number, "number")
    pk = parse_id(number[1:]) if number.startswith("R") else None
    found = (BuyerRequest.objects.for_shop(request.shop).select_related("order").filter(pk=pk).first()
             if pk and f"R{pk:06d}" == number else None)
    if found is None:
        raise Problem(404, "not_found", "No such request", f"no request {number!r} in this shop")
    return found


@requests_router.get("", response={200: RequestPage, **READ_ERRORS}, summary="List requests, newest first")
def list_requests(request, filters: Query[RequestFilters]):
    need(request, "requests.view")
    only_known_params(request, RequestFilters)
    qs = BuyerRequest.objects.for_shop(request.shop).select_related("order")
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.page_token:
        value, pk = after_token(filters.page_token)
        qs = qs.filter(created_at__lte=value).filter(Q(created_at__lt=value) | Q(pk__lt=pk))
    rows = list(qs.order_by("-created_at", "-pk")[: filters.page_size + 1])
    more = len(rows) > filters.page_size
    rows = rows[: filters.page_size]
    return {"items": [request_summary(r) for r in rows],
            "next_page_token": next_token(rows[-1].created_at, rows[-1].pk) if more else None}


@requests_router.get("/{number}", response={200: RequestDetail, **READ_ERRORS}, summary="One request")
def get_request(request, number: str):
    need(request, "requests.view")
    req = _request(request, number)
    lines = [{"sku": li.order_line.sku_code, "quantity": li.quantity}
             for li in req.lines.select_related("order_line")]
    refunds = [{"amount": amount_text(r.amount, r.currency), "currency": r.currency, "partial": r.partial, "at": getattr(r, "created_at", None)}
               for r in Refund.objects.filter(request=req)]
    return {**request_summary(req), "description": req.description, "lines": lines, "refunds": refunds}


def _act(request, number, form_class, data, call, *, perm):
    need(request, perm)
    for key, value in data.items():
        if isinstance(value, str):
            check_text(value, key)
    req = _request(request, number)
    form = form_class({k: ("" if v is None else v) for k, v in data.items()}) if form_class else None
    if form is not None and not form.is_valid():
        raise form_problem(form)
    cleaned = form.cleaned_data if form is not None else data

    def act():
        call(req, Actor.app(request.api_key), cleaned)
        req.refresh_from_db()
        return 200, request_summary(req)
    return idempotent(request, act, refused_title="The request cannot do that now")


@requests_router.post("/{number}/approve", response={200: RequestSummary, **WRITE_ERRORS}, summary="Approve")
def approve(request, number: str, body: ApproveIn):
    return _act(request, number, ApproveForm, body.dict(), lambda req, actor, c: actions.approve_request(
        request=req, actor=actor, amount=c["amount"], note=c["note"]), perm="requests.answer")


@requests_router.post("/{number}/reject", response={200: RequestSummary, **WRITE_ERRORS},
                      summary="Reject with a reason (the buyer is told)")
def reject(request, number: str, body: RejectIn):
    return _act(request, number, RejectForm, body.dict(), lambda req, actor, c: actions.reject_request(
        request=req, actor=actor, reason=c["reason"], note=c["note"]), perm="requests.answer")


@requests_router.post("/{number}/extend", response={200: RequestSummary, **WRITE_ERRORS},
                      summary="Extend the answer deadline (once)")
def extend(request, number: str):
    return _act(request, number, None, {}, lambda req, actor, c: actions.extend_deadline(request=req, actor=actor), perm="requests.answer")


@requests_router.post("/{number}/receive", response={200: RequestSummary, **WRITE_ERRORS},
                      summary="Confirm the returned item arrived")
def receive(request, number: str, body: NoteIn):
    return _act(request, number, None, body.dict(), lambda req, actor, c: actions.confirm_receipt(
        request=req, actor=actor, note=c["note"]), perm="requests.receive")


@requests_router.post("/{number}/refund", response={200: RequestSummary, **WRITE_ERRORS},
                      summary="Refund, in full or in part")
def refund(request, number: str, body: RefundIn):
    return _act(request, number, RefundForm, body.dict(), lambda req, actor, c: actions.refund_request(
        request=req, actor=actor, amount=c["amount"], note=c["note"]), perm="requests.refund")
