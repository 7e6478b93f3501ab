"""The only code that changes requests, refunds and order messages.

Each action locks the request first and then its order (the same order everywhere, P11
included, so two writers never deadlock), checks the move against transitions.TRANSITIONS,
writes one RequestEvent and one order history row, and tells the other side: the seller
through the bell (and email), the buyer through a message on the order (and email).
"""

from collections import Counter
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.mail import send_mail, send_mass_mail
from django.db import transaction
from django.db.models import Count, F, OuterRef, Subquery, Sum, TextField, Value
from django.db.models.functions import Concat
from django.urls import reverse
from django.utils import timezone

from core import files, sql
from core.actor import Actor
from core.locks import lock, lock_one
from core.sql import MoneyText
from orders import actions as order_actions
from orders import history as order_history
from orders.actions import ActionRefused
from orders.models import Order, OrderEvent, OrderMessage
from shops import policy_windows
from shops.actions import notify
from shops.models import Notification

from . import links, transitions
from .models import (
    REASONS_BY_KIND,
    REJECT_REASONS_BY_KIND,
    BuyerRequest,
    Refund,
    RequestEvent,
    RequestLine,
    RequestPhoto,
    ReturnLinkEmail,
)
from .photos import max_photos

K = BuyerRequest.Kind
R = BuyerRequest.Status
CENT = Decimal("0.01")

__all__ = ["ActionRefused", "Actor"]


# --- building blocks ---------------------------------------------------------------


def _event(request, action, actor, *, from_status, to_status, at, note="", data=None):
    event = RequestEvent(
        request=request, at=at, actor_kind=actor.kind, actor=actor.user, actor_label=actor.label, action=action,
        from_status=from_status, to_status=to_status, note=note, data=data or {},
    )
    event.save()
    return event


def _move(request, action, actor, *, note="", data=None, at=None, staff=False, **fields):
    """Move one locked request by `action` and write its timeline row."""
    to_status = transitions.check(action, request, staff=staff)
    at = at or timezone.now()
    from_status = request.status
    request.status = to_status
    if to_status != from_status:
        request.status_changed_at = at
    for name, value in fields.items():
        setattr(request, name, value)
    request.save(update_fields=["status", "status_changed_at", *fields])
    return _event(request, action, actor, from_status=from_status, to_status=to_status, at=at, note=note, data=data)


def _order_history(order, actor, text, action="buyer_request"):
    """A row in the order's own history (the order page's timeline)."""
    order_actions.record_event(order=order, actor=actor, action=action, note=text[:2000])


def _seller_url(request):
    return reverse("returns:detail", kwargs={"shop": request.shop.slug, "pk": request.pk})


def _tell_seller(request, text, *, kind=Notification.Kind.REQUEST, subject=None):
    notify(shop=request.shop, kind=kind, text=text, url=_seller_url(request), about_order=request.order_id,
           email_subject=subject or f"Seller Center: request {request.number} on order {request.order.number}")


def _tell_buyer(order, text, subject, *, at=None):
    """A platform message on the order (the buyer reads it on the return page) and an email."""
    order_actions.post_message(order=order, sender=OrderMessage.Sender.PLATFORM, body=text, at=at)
    _email_buyer(order, subject, text)


def _email_buyer(order, subject, text):
    if not order.buyer_email:
        return
    body = f"{text}\n\nFollow your order and requests here: {links.url_for(order)}\n"
    to = order.buyer_email
    transaction.on_commit(lambda: send_mail(subject, body, None, [to], fail_silently=True))


def _who(actor):
    return {
        OrderEvent.ActorKind.SELLER: "the seller",
        OrderEvent.ActorKind.APP: "the seller",
        OrderEvent.ActorKind.STAFF: "platform staff",
        OrderEvent.ActorKind.BUYER: "the buyer",
        # A rule's id is for staff; the seller and the buyer read "the platform".
        OrderEvent.ActorKind.POLICY: "the platform",
    }.get(actor.kind, actor.label or actor.kind)


def _kind_label(request):
    return BuyerRequest.Kind(request.kind).label.lower()


# --- the buyer opens a request -------------------------------------------------------


class TooManyRequests(ActionRefused):
    """Each request rings the seller's bell and sends emails, and withdrawing one makes room
    for the next: a buyer opens at most RETURNS_REQUESTS_PER_ORDER_PER_DAY on one order in
    24 hours (like their messages, TooManyMessages)."""


def check_request_limits(order, *, photo_count, buyer=True):
    """Refuse a new request on `order` past the buyer's requests in the last 24 hours, or
    one whose photos would take the order past RETURNS_PHOTOS_PER_ORDER stored photos (every
    request's, withdrawn or closed ones included: their photos are kept). Cheap reads, so the
    buyer's page asks before decoding any upload; open_request asks again under the lock."""
    if buyer:
        limit = getattr(settings, "RETURNS_REQUESTS_PER_ORDER_PER_DAY", 3)
        since = timezone.now() - timedelta(hours=24)
        recent = list(BuyerRequest.objects.filter(order=order, created_at__gte=since)
                      .order_by("created_at").values_list("created_at", flat=True)[:limit])
        if len(recent) >= limit:
            again = recent[0] + timedelta(hours=24)
            raise TooManyRequests(
                f"You have opened {len(recent)} requests on order {order.number} in the last 24 hours; you can "
                f"open another after {again:%Y-%m-%d %H:%M} UTC. To add something meanwhile, message the seller.")
    if photo_count:
        cap = getattr(settings, "RETURNS_PHOTOS_PER_ORDER", 20)
        stored = RequestPhoto.objects.filter(request__order=order).count()
        if stored + photo_count > cap:
            left = max(cap - stored, 0)
            room = f"attach at most {left} more" if left else "send the request without photos"
            raise ActionRefused(f"Order {order.number} already has {stored} photos on its requests, and takes at "
                                f"most {cap}: {room}.")



@files.atomic()
def open_request(*, order, kind, reason, description="", quantities=None, photos=(), actor=None):
    """The buyer asks to cancel (before shipment) or for a refund or return (after
    delivery). `quantities` maps order line id -> quantity (ignored for a cancellation,
    which is always the whole order); `photos` are photos.CheckedPhoto."""
    actor = actor or Actor.buyer()
    order = lock_one(Order.objects, order.pk)
    if kind not in K.values:
        raise ActionRefused("Choose what you are asking for.")
    if reason not in REASONS_BY_KIND[kind]:
        raise ActionRefused("Choose a reason from the list." if reason not in BuyerRequest.Reason.values else
                            f"“{BuyerRequest.Reason(reason).label}” is not a reason for a "
                            f"{BuyerRequest.Kind(kind).label.lower()} request; choose one from the list.")
    description = (description or "").strip()
    if reason == BuyerRequest.Reason.OTHER and not description:
        raise ActionRefused("Describe the problem when the reason is “Other”.")
    if len(description) > 2000:
        raise ActionRefused("The description is at most 2000 characters.")
    if len(photos) > max_photos():
        raise ActionRefused(f"Attach at most {max_photos()} photos.")
    if order.status not in transitions.ORDER_STATES_FOR_KIND[kind]:
        raise ActionRefused(_why_not_kind(kind, order))
    current = BuyerRequest.objects.filter(order=order, status__in=transitions.OPEN).first()
    if current is not None:
        raise ActionRefused(f"Order {order.number} already has an open request ({current.number}); "
                            "follow it or withdraw it first.")
    # Under the order's lock: two requests sent at once count each other.
    check_request_limits(order, photo_count=len(photos), buyer=actor.kind == OrderEvent.ActorKind.BUYER)

    lines = {line.pk: line for line in order.lines.all()}
    if kind == K.CANCEL:
        wanted = {pk: line.quantity for pk, line in lines.items()}
    else:
        wanted = _clean_quantities(order, lines, quantities or {})

    now = timezone.now()
    amount = sum((lines[pk].unit_price * qty for pk, qty in wanted.items()), Decimal("0")).quantize(CENT)
    if kind == K.CANCEL:
        amount = order.total
    window = policy_windows.window("P11")
    request = BuyerRequest.objects.create(
        order=order, shop_id=order.shop_id, kind=kind, reason=reason, description=description, amount=amount,
        currency=order.currency, created_at=now, status_changed_at=now, respond_by=now + window.delta,
    )
    RequestLine.objects.bulk_create(RequestLine(request=request, order_line_id=pk, quantity=q) for pk, q in wanted.items())
    for photo in photos:
        stored = RequestPhoto.objects.create(
            request=request, file=photo.as_file(), content_type=photo.content_type, size=len(photo.content),
            width=photo.width, height=photo.height, sha256=photo.sha256,
        )
        files.written(stored.file)  # deleted if the request is not stored after all
    _event(request, "open", actor, from_status="", to_status=R.REQUESTED, at=now, note=description,
           data={"reason": reason, "lines": {str(pk): q for pk, q in wanted.items()}, "photos": len(photos),
                 "respond_by": request.respond_by.isoformat(), **window.explain()})
    reason_label = BuyerRequest.Reason(reason).label
    _order_history(order, actor, f"{BuyerRequest.Kind(kind).label} request {request.number} opened by the buyer "
                                 f"({reason_label}, {amount} {order.currency}).")
    request.shop = order.shop
    _tell_seller(request, f"Order {order.number}: the buyer asks for a {_kind_label(request)} ({reason_label}). "
                          f"Answer by {request.respond_by:%Y-%m-%d %H:%M} UTC or it is approved automatically.",
                 subject=f"New {_kind_label(request)} request on order {order.number}")
    _email_buyer(order, f"We received your request {request.number}",
                 f"Your {_kind_label(request)} request {request.number} on order {order.number} was sent to the seller. "
                 f"They answer by {request.respond_by:%Y-%m-%d %H:%M} UTC; if they do not, it is approved automatically.")
    return request


def _why_not_kind(kind, order):
    status = Order.Status(order.status).label.lower()
    if kind == K.CANCEL:
        if order.status == Order.Status.UNPAID:
            return f"Order {order.number} is not paid yet; it is cancelled automatically if you do not pay."
        return f"Order {order.number} is {status}; it can only be cancelled before it is handed to the carrier."
    return f"Order {order.number} is {status}; a refund or return can be requested once it is delivered."


def _clean_quantities(order, lines, quantities):
    wanted = {}
    for pk, qty in quantities.items():
        try:
            pk, qty = int(pk), int(qty)
        except (TypeError, ValueError):
            raise ActionRefused("Quantities must be whole numbers.") from None
        if qty < 0:
            raise ActionRefused("Quantities cannot be negative.")
        if pk not in lines:
            raise ActionRefused("That item is not on this order.")
        if qty:
            wanted[pk] = qty
    if not wanted:
        raise ActionRefused("Choose at least one item and how many.")
    already = Counter(dict(
        RequestLine.objects.filter(request__order=order, request__status__in=transitions.COUNTING)
        .values("order_line_id").annotate(n=Sum("quantity")).values_list("order_line_id", "n")
    ))
    for pk, qty in wanted.items():
        line = lines[pk]
        left = line.quantity - already[pk]
        if qty > left:
            if already[pk]:
                raise ActionRefused(f"You can ask for at most {left} of {line.name} ({line.quantity} bought, "
                                    f"{already[pk]} already in another request).")
            raise ActionRefused(f"You can ask for at most {line.quantity} of {line.name}.")
    return wanted


# --- the seller (or staff, or P11) answers -----------------------------------------------


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
        _tell_buyer(order, f"Your return request {request.number} was approved by {who}. Ship the item back by "
                           f"{ship_back_by:%Y-%m-%d %H:%M} UTC and enter the return tracking number on your return "
                           "page; after that the return is closed." + (f" {note}" if note else ""),
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
        _order_history(order, actor, f"Refunded {amount} {order.currency} (request {request.number}).", action="refund")
    what = "cancelled and refunded" if request.kind == K.CANCEL else "refunded"
    _tell_buyer(order, f"Your {_kind_label(request)} request {request.number} was approved: order {order.number} is "
                       f"{what} ({amount} {order.currency}).", f"Request {request.number} approved", at=now)
    return refund


def _clean_reason(reason, allowed, note, *, unknown, missing, too_long):
    """A reason from a fixed list and its note (stripped): refused with `unknown`, with
    `missing` when the note is empty and must not be (None: it may be), with `too_long`."""
    if reason not in allowed:
        raise ActionRefused(unknown)
    note = (note or "").strip()
    if missing and not note:
        raise ActionRefused(missing)
    if len(note) > 500:
        raise ActionRefused(too_long)
    return note


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
                                 f"{request.respond_by:%Y-%m-%d %H:%M} UTC.")
    _tell_buyer(order, f"The seller needs more time on request {request.number}; they answer by "
                       f"{request.respond_by:%Y-%m-%d %H:%M} UTC.", f"Request {request.number}: new deadline", at=now)
    return request


# --- the buyer follows up -------------------------------------------------------------


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
                          f"{refund_by:%Y-%m-%d %H:%M} UTC, or the platform refunds the buyer in full.")
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
    _tell_buyer(order, f"Reminder: ship return {request.number} back by {request.ship_back_by:%Y-%m-%d %H:%M} UTC "
                       "and enter the tracking number on your return page, or the return is closed.",
                f"Return {request.number}: ship it back by {request.ship_back_by:%Y-%m-%d}")
    return request


@transaction.atomic
def remind_refund(*, request, actor, data=None, note=""):
    """P14's reminder, a day before the refund deadline: the seller's bell and email."""
    request = _remind(request, "remind_refund", actor, transitions.AWAITING_REFUND, data, note)
    _tell_seller(request, f"Order {request.order.number}: refund return {request.number} by "
                          f"{request.refund_by:%Y-%m-%d %H:%M} UTC, or the platform refunds the buyer in full.",
                 kind=Notification.Kind.REMINDER)
    return request


def pause_request_deadlines(*, order_ids, pause, actor, at):
    """Force majeure approved on these orders (P12): what the seller owes on their open
    requests (the answer, P11; the refund of a shipped-back return, P14) moves later by
    the pause. The buyer's ship-back deadline (P13) stays: the event is the seller's."""
    moves = {
        "respond_by": BuyerRequest.objects.filter(order_id__in=order_ids, status__in=transitions.AWAITING_ANSWER),
        "refund_by": BuyerRequest.objects.filter(order_id__in=order_ids, status__in=transitions.AWAITING_REFUND,
                                                 refund_by__isnull=False),
    }
    events = []
    for field, qs in moves.items():
        rows = list(lock(qs).values_list("pk", "status", field))
        qs.filter(pk__in=[pk for pk, _, _ in rows]).update(**{field: F(field) + pause})
        events += [
            RequestEvent(request_id=pk, at=at, actor_kind=actor.kind, actor=actor.user, actor_label=actor.label,
                         action="deadline_paused", from_status=status, to_status=status,
                         note="Force majeure: the seller's deadline moves later by the pause.",
                         data={"field": field, "before": before.isoformat(), "after": (before + pause).isoformat()})
            for pk, status, before in rows
        ]
    RequestEvent.objects.bulk_create(events)


# What each window the requests keep a deadline of moves, and how it reads on the timeline.
WINDOW_DEADLINES = {
    "P11": ("respond_by", transitions.AWAITING_ANSWER, "The platform now gives sellers {window} to answer; the answer deadline "
            "moved with it."),
    "P13": ("ship_back_by", transitions.AWAITING_SHIP_BACK, "The platform now allows {window} to ship a return back; the deadline "
            "moved with it."),
    "P14": ("refund_by", transitions.AWAITING_REFUND, "The platform now gives sellers {window} to refund a "
            "returned item; the refund deadline moved with it."),
}


@transaction.atomic
def follow_window(*, before, after, actor, at=None):
    """Staff changed a rule's window (`before` and `after` are its policy_windows.Window):
    the open requests' deadlines derived from it move by the difference, twice for an
    answer deadline the seller extended once (it holds two windows), so a force-majeure
    pause or an extension stays in them. One timeline row per moved request, in a fixed
    number of statements. Returns how many moved."""
    if after.rule not in WINDOW_DEADLINES or after.hours == before.hours:
        return 0
    field, statuses, note = WINDOW_DEADLINES[after.rule]
    at = at or timezone.now()
    delta = after.delta - before.delta
    due = BuyerRequest.objects.filter(status__in=statuses, **{f"{field}__isnull": False})
    rows = list(lock(due).values_list("pk", "status", field, "extended_at"))
    if not rows:
        return 0
    twice = {pk for pk, _, _, extended in rows if extended is not None and field == "respond_by"}
    once = [pk for pk, _, _, _ in rows if pk not in twice]
    if once:
        BuyerRequest.objects.filter(pk__in=once).update(**{field: F(field) + delta})
    if twice:
        BuyerRequest.objects.filter(pk__in=sorted(twice)).update(**{field: F(field) + 2 * delta})
    text = note.format(window=after.words)
    window = {"rule": after.rule, "version": after.version, "hours": str(after.hours)}
    RequestEvent.objects.bulk_create(
        RequestEvent(request_id=pk, at=at, actor_kind=actor.kind, actor=actor.user, actor_label=actor.label,
                     action="deadlines_recomputed", from_status=status, to_status=status, note=text,
                     data={"field": field, "before": deadline.isoformat(),
                           "after": (deadline + (2 if pk in twice else 1) * delta).isoformat(), "window": window})
        for pk, status, deadline, _ in rows
    )
    return len(rows)


# --- refunds ---------------------------------------------------------------------------


def _remaining(order):
    refunded = Refund.objects.filter(order=order).aggregate(s=Sum("amount"))["s"] or Decimal("0")
    return order.total - refunded


def _clean_amount(request, order, amount, note):
    """The amount of a request's refund: what was asked (capped by what is left), or less
    with a reason."""
    full = min(request.amount, _remaining(order))
    if amount in (None, ""):
        return full
    try:
        amount = Decimal(str(amount)).quantize(CENT)
    except ArithmeticError:
        raise ActionRefused("Enter the amount as a number, e.g. 12.50.") from None
    if amount <= 0:
        raise ActionRefused("A refund must be more than zero.")
    if amount > full:
        raise ActionRefused(f"At most {full} {order.currency} can be refunded on request {request.number}.")
    if amount < full and not (note or "").strip():
        raise ActionRefused("Say why the refund is partial.")
    return amount


def _issue_refund(order, *, amount, actor, request=None, note="", data=None, kind=Refund.Kind.REQUEST,
                  partial=False, at=None):
    """Write one refund on a locked order; the running total is read under the same lock."""
    if order.paid_at is None:
        raise ActionRefused(f"Order {order.number} was never paid; there is nothing to refund.")
    agg = Refund.objects.filter(order=order).aggregate(s=Sum("amount"), n=Count("pk"))
    before = agg["s"] or Decimal("0")
    seq = agg["n"] + 1
    if amount > order.total - before:
        raise ActionRefused(f"Order {order.number}: at most {order.total - before} {order.currency} is left to refund.")
    return Refund.objects.create(
        order=order, request=request, kind=kind, partial=partial, amount=amount, currency=order.currency, seq=seq,
        refunded_before=before, order_total=order.total, actor_kind=actor.kind, actor=actor.user,
        actor_label=actor.label, note=note[:500], data=data or {}, created_at=at or timezone.now(),
    )


@transaction.atomic
def refund_request(*, request, actor, amount=None, note="", data=None):
    """The seller refunds a received return: the amount asked for, or a partial amount with a
    reason. Staff may refund a return the seller never confirmed; the platform's rule (P14)
    refunds in full a return the seller left unrefunded."""
    staff = actor.kind == OrderEvent.ActorKind.STAFF
    platform = staff or actor.kind == OrderEvent.ActorKind.POLICY
    request = lock_one(BuyerRequest.objects, request.pk)
    order = lock_one(Order.objects, request.order_id)
    action = "refund"
    if actor.kind == OrderEvent.ActorKind.POLICY:
        action = "auto_refund"
    elif staff and not transitions.allowed("refund", request):
        action = "staff_refund"
    transitions.check(action, request, staff=platform)
    if Refund.objects.filter(request=request).exists():
        raise ActionRefused(f"Request {request.number} was already refunded.")
    amount = _clean_amount(request, order, amount, note)
    now = timezone.now()
    partial = amount < request.amount
    _issue_refund(order, amount=amount, actor=actor, request=request, note=note, partial=partial, at=now, data=data)
    _move(request, action, actor, note=note, at=now, staff=platform, closed_at=now,
          data={"amount": str(amount), "partial": partial, **(data or {})})
    who = _who(actor)
    _order_history(order, actor, f"Refunded {amount} {order.currency} for return {request.number} by {who}"
                   + (" (partial)" if partial else "") + "." + (f" {note}" if note else ""), action="refund")
    _tell_buyer(order, f"Return {request.number} refunded: {amount} {order.currency}"
                + (f" (partial: {note})" if partial else "") + ".", f"Return {request.number} refunded", at=now)
    if platform:
        _tell_seller(request, f"Order {order.number}: {who} refunded return {request.number} ({amount})."
                     + (f" {note}" if note and not staff else ""))
    return request


DISPUTE_REASONS = (BuyerRequest.RejectReason.NOT_RECEIVED_BACK, BuyerRequest.RejectReason.USED,
                   BuyerRequest.RejectReason.EVIDENCE, BuyerRequest.RejectReason.OTHER)


def reject_reasons(request):
    """The reasons a rejection of `request` may give (its kind's; a disputed return's too)."""
    reasons = REJECT_REASONS_BY_KIND[request.kind]
    if request.status == R.DISPUTED:
        reasons = (*reasons, *(r for r in DISPUTE_REASONS if r not in reasons))
    return reasons


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


@transaction.atomic
def refund_order(*, order, actor, note="", explain=None):
    """Refund what is left of a paid order, once (a cancellation, or staff's full refund).

    Idempotent: a second call returns the first refund and changes nothing, so platform
    rules may call it on every run. Returns None if the order was never paid or nothing
    is left to refund."""
    order = lock_one(Order.objects, order.pk)
    existing = Refund.objects.filter(order=order, kind=Refund.Kind.ORDER).first()
    if existing is not None:
        return existing
    if not refund_orders(order_ids=[order.pk], actor=actor, note=note, explain=explain):
        return None
    return Refund.objects.get(order=order, kind=Refund.Kind.ORDER)


@transaction.atomic
def refund_orders(*, order_ids, actor, note="", explain=None, explain_time=None):
    """refund_order for many orders the caller has locked, in a fixed number of statements:
    the database writes each refund (what is left of the order), its history row and the
    buyer's message from the order itself. Unpaid, fully refunded and already refunded
    orders are skipped, and the unique "whole order once" constraint refuses a second
    refund even if two callers raced. `explain` (and the order's timestamp field
    `explain_time`) go into each refund's data. Returns how many were refunded now."""
    if not order_ids:
        return 0
    at = timezone.now()
    refunds, orders = Refund._meta.db_table, Order._meta.db_table
    by_order_sql, by_order = sql.in_ids("order_id", order_ids)
    ids_sql, ids = sql.in_ids("o.id", order_ids)
    data_sql, data_params = (sql.json_with_time(explain or {}, explain_time, f"o.{explain_time}") if explain_time
                             else sql.json_constant(explain or {}))
    whole = Refund.Kind.ORDER.value
    refunded = [row[0] for row in sql.fetch(
        f"INSERT INTO {refunds} (order_id, request_id, kind, partial, amount, currency, seq, refunded_before, "
        f"order_total, actor_kind, actor_id, actor_label, note, data, created_at) "
        f"SELECT o.id, NULL, %s, %s, o.total - COALESCE(b.amount, 0), o.currency, COALESCE(b.n, 0) + 1, "
        f"COALESCE(b.amount, 0), o.total, %s, %s, %s, %s, {data_sql}, %s "
        f"FROM {orders} o LEFT JOIN (SELECT order_id, SUM(amount) AS amount, COUNT(*) AS n FROM {refunds} "
        f"WHERE {by_order_sql} GROUP BY order_id) b ON b.order_id = o.id "
        f"WHERE {ids_sql} AND o.paid_at IS NOT NULL AND o.total - COALESCE(b.amount, 0) > 0 "
        f"AND NOT EXISTS (SELECT 1 FROM {refunds} x WHERE x.order_id = o.id AND x.kind = %s) "
        f"ON CONFLICT DO NOTHING RETURNING order_id",
        [whole, False, actor.kind, getattr(actor.user, "pk", None), actor.label, note[:500], *data_params, sql.when(at),
         *by_order, *ids, whole],
    )]
    if not refunded:
        return 0
    # The order's history and the buyer's message read each refund's amount from its row.
    refund = Refund.objects.filter(order=OuterRef("pk"), kind=Refund.Kind.ORDER)

    def refund_text(*parts):
        return Subquery(refund.values(t=Concat(*parts, output_field=TextField()))[:1])

    amount = (MoneyText("amount"), Value(" "), F("currency"))
    note = refund_text(Value("Refunded "), *amount, Value(" to the buyer." + (f" {note}" if note else "")))
    body = Concat(Value("Order "), F("number"), Value(" was refunded: "), refund_text(*amount, Value(".")),
                  output_field=TextField())
    order_history.bulk_record(refunded, "refund", actor, at=at, note=note)
    order_history.bulk_post_messages(refunded, OrderMessage.Sender.PLATFORM, body, at=at)
    refunds = list(Refund.objects.filter(order_id__in=refunded, kind=Refund.Kind.ORDER).exclude(
        order__buyer_email="").order_by().values_list("order_id", "order__number", "order__buyer_email", "amount",
                                                      "currency"))
    urls = links.urls_for((pk, number) for pk, number, *_ in refunds)
    emails = [
        (f"Order {number} refunded",
         f"Order {number} was refunded: {amount:.2f} {currency}.\n\nFollow your order and requests here: {urls[pk]}\n",
         None, [email])
        for pk, number, email, amount, currency in refunds
    ]
    if emails:
        transaction.on_commit(lambda: send_mass_mail(emails, fail_silently=True))
    return len(refunded)


# --- messages and links ----------------------------------------------------------------


class TooManyMessages(ActionRefused):
    """The buyer's page is public (anyone who knows the order's number and contact), and
    each buyer message rings the seller's bell and sends an email: a burst is refused."""


def _check_buyer_message_rate(order):
    limit = getattr(settings, "RETURNS_BUYER_MESSAGES_PER_HOUR", 10)
    since = timezone.now() - timedelta(hours=1)
    # Locks the order row (the caller's transaction) so two messages at once count each other.
    lock(Order.objects.filter(pk=order.pk)).exists()
    sent = OrderMessage.objects.filter(order=order, sender=OrderMessage.Sender.BUYER, created_at__gte=since).count()
    if sent >= limit:
        raise TooManyMessages(f"You have sent {sent} messages about this order in the last hour; "
                              "wait a while before sending another.")


@transaction.atomic
def post_message(*, order, sender, body, author=None, actor=None):
    """A seller or buyer message on the order; the other side is told. `actor`, for a seller
    message no person wrote (the shop's app through an API key), is written to the order's
    history with the message's id, since the message row keeps only a user as its author."""
    body = (body or "").strip()
    if not body:
        raise ActionRefused("Write the message first.")
    if len(body) > 4000:
        raise ActionRefused("A message is at most 4000 characters.")
    if sender not in (OrderMessage.Sender.SELLER, OrderMessage.Sender.BUYER):
        raise ActionRefused("Only the seller or the buyer writes messages.")
    if sender == OrderMessage.Sender.BUYER:
        _check_buyer_message_rate(order)
    message = order_actions.post_message(order=order, sender=sender, author=author, body=body)
    if actor is not None:
        order_actions.record_event(order=order, actor=actor, action=OrderEvent.Action.MESSAGE,
                                   data={"message": message.pk}, at=message.created_at)
    if sender == OrderMessage.Sender.BUYER:
        notify(shop=order.shop, kind=Notification.Kind.MESSAGE, text=f"Order {order.number}: the buyer wrote: {body[:200]}",
               about_order=order.pk,
               url=reverse("orders:detail", kwargs={"shop": order.shop.slug, "number": order.number}),
               email_subject=f"Message from the buyer of order {order.number}")
    else:
        _email_buyer(order, f"A message from the seller about order {order.number}", body)
    return message


@transaction.atomic
def send_return_link(*, order_id):
    """Email the buyer a signed link to the return page, once per order (on delivery)."""
    order = lock_one(Order.objects, order_id)
    _, created = ReturnLinkEmail.objects.get_or_create(order=order, defaults={"sent_at": timezone.now()})
    if created and order.buyer_email:
        url = links.url_for(order)
        to = order.buyer_email
        transaction.on_commit(lambda: send_mail(
            f"Order {order.number} delivered",
            f"Your order {order.number} was delivered. If something is wrong, ask for a refund or a return here:\n{url}\n",
            None, [to], fail_silently=True,
        ))
    return created
