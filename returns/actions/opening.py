"""The buyer opens a request: what may be asked for, how much, and how often."""

from collections import Counter
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Sum
from django.utils import timezone

from core import files
from core.actor import Actor
from core.locks import lock_one
from core.when import format_when
from orders.actions import ActionRefused
from orders.models import Order, OrderEvent
from shops import policy_windows

from .. import transitions
from ..models import REASONS_BY_KIND, BuyerRequest, RequestLine, RequestPhoto
from ..photos import max_photos
from .moves import _event
from .notices import _email_buyer, _kind_label, _money, _order_history, _shop_time, _tell_seller

K = BuyerRequest.Kind
R = BuyerRequest.Status
CENT = Decimal("0.01")


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
                f"open another after {format_when(again, tz=order.shop.tzinfo)}. To add something meanwhile, "
                "message the seller.")
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
                                 f"({reason_label}, {_money(amount, order)}).")
    request.shop = order.shop
    _tell_seller(request, f"Order {order.number}: the buyer asks for a {_kind_label(request)} ({reason_label}). "
                          f"Answer by {_shop_time(order.shop, request.respond_by)} or it is approved automatically.",
                 subject=f"New {_kind_label(request)} request on order {order.number}")
    _email_buyer(order, lambda: f"We received your request {request.number}",
                 lambda: f"Your {_kind_label(request)} request {request.number} on order {order.number} was sent to the "
                 f"seller. They answer by {format_when(request.respond_by)}; if they do not, it is approved automatically.")
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
