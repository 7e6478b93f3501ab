"""The seller (or staff, or P11) answers a request: approved (a cancellation cancels and
refunds, a refund-only request is refunded), rejected, or its deadline extended."""

from django.db import transaction
from django.utils import timezone

from core.locks import lock_one
from core.when import format_when
from orders import actions as order_actions
from orders.actions import ActionRefused
from orders.models import Order, OrderEvent
from shops import policy_windows
from shops.models import Notification
from shops.warehouses import return_address_for

from .. import transitions
from ..models import BuyerRequest, Refund
from .moves import _move
from .notices import _kind_label, _money, _order_history, _shop_time, _tell_buyer, _tell_seller, _who
from .reasons import _clean_reason, reject_reasons
from .refunds import _clean_amount, _issue_refund, _remaining

K = BuyerRequest.Kind
R = BuyerRequest.Status


@transaction.atomic
def approve_request(*, request, actor, amount=None, note="", data=None):
    """Approve: a return waits for the item; a refund-only request is refunded (the amount
    asked for, or less if the seller says so); a cancellation cancels and refunds the order."""
    staff = actor.kind == OrderEvent.ActorKind.STAFF
    request = lock_one(BuyerRequest.objects, request.pk)
    order = lock_one(Order.objects, request.order_id)
    request.order = order
    action = "staff_approve" if staff and not transitions.allowed("approve", request) else "approve"
    transitions.check(action, request, staff=staff)
    if request.status == R.REJECTED and BuyerRequest.objects.filter(order=order, status__in=transitions.OPEN).exists():
        raise ActionRefused(f"Order {order.number} has another open request; rule on that one instead.")
    if request.kind == K.CANCEL and not order.can_cancel():
        raise ActionRefused(f"Order {order.number} is {order.get_status_display().lower()}; it can no longer be "
                            "cancelled. Reject the request with the reason “already handed to the carrier”.")
    now = timezone.now()
    if request.kind == K.REFUND_ONLY:
        amount = _clean_amount(request, order, amount, note)
    ship_back_by = now + policy_windows.window("P13").delta if request.kind == K.RETURN else None
    _move(request, action, actor, note=note, data=data, at=now, staff=staff, answered_at=now, reject_reason="",
          reject_note="", ship_back_by=ship_back_by)
    who = _who(actor)
    if request.kind == K.RETURN:
        _order_history(order, actor, f"Return request {request.number} approved by {who}; awaiting the item."
                       + (f" {note}" if note else ""))
        address = ", ".join(return_address_for(order))
        _tell_buyer(order, lambda: f"Your return request {request.number} was approved by {who}. Ship the item back "
                                   f"by {format_when(ship_back_by)} to {address} (write {request.number} on the "
                                   "parcel) and enter the return tracking number on your return page; after that "
                                   "the return is closed." + (f" {note}" if note else ""),
                    f"Return {request.number} approved: ship the item back", at=now)
    elif request.kind == K.CANCEL:
        order_actions.cancel_order(order=order, actor=actor, reason=Order.CancelReason.BUYER_REQUESTED,
                                   note=f"Cancellation request {request.number} approved by {who}.")
        _order_history(order, actor, f"Cancellation request {request.number} approved by {who}.")
        _refund_approved(request, order, actor, order.total, note, data, now, whole_order=True)
    else:
        _order_history(order, actor, f"Refund request {request.number} approved by {who}." + (f" {note}" if note else ""))
        _refund_approved(request, order, actor, amount, note, data, now)
    if not actor.for_seller:
        _tell_seller(request, f"Order {order.number}: {_kind_label(request)} request {request.number} "
                              f"approved by {who}.", kind=Notification.Kind.POLICY
                     if actor.kind == OrderEvent.ActorKind.POLICY else Notification.Kind.REQUEST)
    return request


def _refund_approved(request, order, actor, amount, note, data, now, whole_order=False):
    remaining = _remaining(order)
    amount = min(amount, remaining)
    refund = None
    if amount > 0:
        refund = _issue_refund(order, amount=amount, actor=actor, request=request, note=note, data=data,
                               kind=Refund.Kind.ORDER if whole_order else Refund.Kind.REQUEST,
                               partial=amount < request.amount and not whole_order, at=now)
    _move(request, "refund_approved", actor, note=note, data={"refund": str(amount), **(data or {})}, at=now,
          closed_at=now)
    if refund is not None:
        _order_history(order, actor, f"Refunded {_money(amount, order)} (request {request.number}).", action="refund")
    what = "cancelled and refunded" if request.kind == K.CANCEL else "refunded"
    _tell_buyer(order, lambda: f"Your {_kind_label(request)} request {request.number} was approved: order "
                               f"{order.number} is {what} ({_money(amount, order)}).",
                f"Request {request.number} approved", at=now)
    return refund


@transaction.atomic
def reject_request(*, request, actor, reason, note=""):
    """Reject with a reason that fits the request: a cancellation is refused because the
    order is on its way, a refund or a return because of the item (and a disputed return
    with what the seller found)."""
    staff = actor.kind == OrderEvent.ActorKind.STAFF
    request = lock_one(BuyerRequest.objects, request.pk)
    note = _clean_reason(reason, reject_reasons(request), note,
                         unknown="Choose a reason for the rejection from the list.",
                         missing="Say why when the reason is “Other”." if reason == "other" else None,
                         too_long="The explanation is at most 500 characters.")
    order = lock_one(Order.objects, request.order_id)
    now = timezone.now()
    action = "staff_reject" if staff and request.status == R.DISPUTED else "reject"
    answered_at = request.answered_at if action == "staff_reject" else now
    _move(request, action, actor, note=note, data={"reason": reason}, at=now, staff=staff, answered_at=answered_at,
          closed_at=now, reject_reason=reason, reject_note=note)
    label = BuyerRequest.RejectReason(reason).label
    who = _who(actor)
    _order_history(order, actor, f"{BuyerRequest.Kind(request.kind).label} request {request.number} rejected by "
                                 f"{who}: {label}." + (f" {note}" if note else ""))
    _tell_buyer(order, f"Your {_kind_label(request)} request {request.number} was rejected by {who}. Reason: {label}."
                + (f" {note}" if note else ""), f"Request {request.number} rejected", at=now)
    if staff:
        _tell_seller(request, f"Order {order.number}: platform staff rejected request {request.number} ({label}).")
    return request


@transaction.atomic
def extend_deadline(*, request, actor):
    """The seller needs more time: the answer deadline moves by one more P11 window, once."""
    request = lock_one(BuyerRequest.objects, request.pk)
    order = lock_one(Order.objects, request.order_id)
    if request.extended_at is not None and request.status == R.REQUESTED:
        raise ActionRefused(f"The deadline of request {request.number} was already extended once.")
    window = policy_windows.window("P11")
    now = timezone.now()
    before = request.respond_by
    _move(request, "extend", actor, at=now, respond_by=before + window.delta, extended_at=now,
          data={"from": before.isoformat(), "to": (before + window.delta).isoformat(), **window.explain()})
    _order_history(order, actor, f"Answer deadline of request {request.number} extended to "
                                 f"{_shop_time(order.shop, request.respond_by)}.")
    _tell_buyer(order, lambda: f"The seller needs more time on request {request.number}; they answer by "
                               f"{format_when(request.respond_by)}.", f"Request {request.number}: new deadline", at=now)
    return request
