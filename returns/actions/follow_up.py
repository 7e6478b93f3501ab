"""After the answer: the buyer withdraws or ships the item back, the seller confirms receipt
or disputes the return, the rules' reminders, and a return not shipped back in time."""

from django.db import transaction
from django.utils import timezone

from core.actor import Actor
from core.locks import lock_one
from core.when import format_when
from orders.actions import ActionRefused
from orders.models import Order
from shops import policy_windows
from shops.models import Notification

from .. import transitions
from ..models import BuyerRequest
from .moves import _event, _move
from .notices import _order_history, _shop_time, _tell_buyer, _tell_seller, _who
from .reasons import DISPUTE_REASONS, _clean_reason


@transaction.atomic
def withdraw_request(*, request, actor=None):
    actor = actor or Actor.buyer()
    request = lock_one(BuyerRequest.objects, request.pk)
    order = lock_one(Order.objects, request.order_id)
    now = timezone.now()
    _move(request, "withdraw", actor, at=now, closed_at=now)
    _order_history(order, actor, f"Request {request.number} withdrawn by the buyer.")
    _tell_seller(request, f"Order {order.number}: the buyer withdrew request {request.number}.")
    return request


@transaction.atomic
def ship_back(*, request, carrier, tracking, actor=None):
    """The buyer sent the item back and gives the return tracking number."""
    actor = actor or Actor.buyer()
    carrier, tracking = (carrier or "").strip(), (tracking or "").strip()
    if not tracking:
        raise ActionRefused("Enter the return tracking number.")
    if len(tracking) > 60 or len(carrier) > 60:
        raise ActionRefused("The carrier and tracking number are at most 60 characters each.")
    request = lock_one(BuyerRequest.objects, request.pk)
    order = lock_one(Order.objects, request.order_id)
    now = timezone.now()
    refund_by = now + policy_windows.window("P14").delta
    _move(request, "ship_back", actor, at=now, return_carrier=carrier, return_tracking=tracking,
          return_shipped_at=now, refund_by=refund_by, data={"carrier": carrier, "tracking": tracking})
    _order_history(order, actor, f"Return {request.number} shipped back by the buyer: {carrier} {tracking}".strip() + ".")
    _tell_seller(request, f"Order {order.number}: the buyer shipped return {request.number} back "
                          f"({carrier} {tracking}). Confirm receipt when it arrives and refund by "
                          f"{_shop_time(order.shop, refund_by)}, or the platform refunds the buyer in full.")
    return request


@transaction.atomic
def confirm_receipt(*, request, actor, note=""):
    request = lock_one(BuyerRequest.objects, request.pk)
    order = lock_one(Order.objects, request.order_id)
    now = timezone.now()
    _move(request, "receive", actor, at=now, note=note, received_at=now)
    _order_history(order, actor, f"Return {request.number} received by the seller." + (f" {note}" if note else ""))
    _tell_buyer(order, f"The seller received your return {request.number}; the refund follows.",
                f"Return {request.number} received", at=now)
    return request


def _remind(request, action, actor, statuses, data, note):
    """A reminder leaves the status as it is and writes a timeline row, which is also how
    the rule knows it was sent. Refused if the request moved on meanwhile."""
    request = lock_one(BuyerRequest.objects, request.pk)
    if request.status not in statuses:
        raise ActionRefused(f"Request {request.number} is {request.get_status_display().lower()}; no reminder.")
    _event(request, action, actor, from_status=request.status, to_status=request.status, at=timezone.now(),
           note=note, data=data)
    return request


@transaction.atomic
def remind_ship_back(*, request, actor, data=None, note=""):
    """P13's reminder, a day before the ship-back deadline: the buyer hears it on their page and by email."""
    request = _remind(request, "remind_ship_back", actor, transitions.AWAITING_SHIP_BACK, data, note)
    order = request.order
    _tell_buyer(order, lambda: f"Reminder: ship return {request.number} back by {format_when(request.ship_back_by)} "
                               "and enter the tracking number on your return page, or the return is closed.",
                lambda: f"Return {request.number}: ship it back by {format_when(request.ship_back_by, 'date')}")
    return request


@transaction.atomic
def remind_refund(*, request, actor, data=None, note=""):
    """P14's reminder, a day before the refund deadline: the seller's bell and email."""
    request = _remind(request, "remind_refund", actor, transitions.AWAITING_REFUND, data, note)
    _tell_seller(request, f"Order {request.order.number}: refund return {request.number} by "
                          f"{_shop_time(request.order.shop, request.refund_by)}, or the platform refunds the buyer in "
                          "full.",
                 kind=Notification.Kind.REMINDER)
    return request


@transaction.atomic
def dispute_return(*, request, actor, reason, note):
    """The seller disputes a shipped-back return (nothing arrived, an empty box, a used or
    different item): platform staff rule on it, and the platform's automatic refund (P14)
    waits for their ruling. The seller says what they found; the buyer is told."""
    note = _clean_reason(reason, DISPUTE_REASONS, note,
                         unknown="Choose what is wrong with the return from the list.",
                         missing="Describe what arrived (or that nothing did); staff rule on it.",
                         too_long="The description is at most 500 characters.")
    request = lock_one(BuyerRequest.objects, request.pk)
    order = lock_one(Order.objects, request.order_id)
    now = timezone.now()
    _move(request, "dispute", actor, note=note, data={"reason": reason}, at=now)
    label = BuyerRequest.RejectReason(reason).label
    _order_history(order, actor, f"Return {request.number} disputed by {_who(actor)}: {label}. {note}")
    _tell_buyer(order, f"The seller disputes your return {request.number}: {label}. {note} Platform staff will look "
                       "at the return's tracking and photos and decide; you will hear from us.",
                f"Return {request.number}: the seller disputes it", at=now)
    return request


@transaction.atomic
def lapse_return(*, request, actor, note="", data=None):
    """P13: an approved return the buyer did not ship back in time is closed; what it asked
    for no longer counts against the order, so the buyer could ask again while the order
    allows it."""
    request = lock_one(BuyerRequest.objects, request.pk)
    order = lock_one(Order.objects, request.order_id)
    now = timezone.now()
    _move(request, "lapse", actor, note=note, data=data, at=now, staff=True, closed_at=now)
    _order_history(order, actor, f"Return {request.number} closed by {_who(actor)}: not shipped back in time.")
    _tell_buyer(order, f"Return {request.number} was closed: the item was not shipped back in time.",
                f"Return {request.number} closed", at=now)
    _tell_seller(request, f"Order {order.number}: return {request.number} closed, the buyer did not ship it back in time.")
    return request
