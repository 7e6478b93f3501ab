"""The timed platform rules of returns (SPEC P11; P13 and P14, which see every return to
an end; and the refund that follows every cancellation of a paid order).

Set-based functions of (as_of, window): due rows are found with one indexed query per
batch, locked (SKIP LOCKED on PostgreSQL) and changed through the actions, so a second run,
or a second worker, finds nothing left to do and never refunds twice.
"""

from datetime import timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef

from core.actor import Actor
from core.batching import locked_batches
from orders.actions import ActionRefused
from orders.models import Order
from orders.transitions import InvalidTransition as OrderInvalidTransition

from . import actions, transitions
from .models import BuyerRequest, Refund, RequestEvent
from .transitions import InvalidTransition


def unanswered(as_of):
    return BuyerRequest.objects.filter(status__in=transitions.AWAITING_ANSWER, respond_by__lte=as_of)


def auto_approve_unanswered(*, as_of, window, dry_run=False, batch_size=500):
    """P11: a request the seller has not answered by its deadline (48 h, or the extended
    one) is approved by the platform; an approved cancellation cancels and refunds the
    order. A cancellation whose order has meanwhile gone to the carrier cannot be
    approved any more: it is closed as rejected, saying why. Returns how many were approved."""
    qs = unanswered(as_of)
    if dry_run:
        return qs.count()
    actor = Actor.policy(window.rule)
    approved = 0
    for rows in locked_batches(qs, ["respond_by", "kind"], batch_size):
        for pk, respond_by, _kind in rows:
            data = {**window.explain(), "deadline": respond_by.isoformat()}
            request = BuyerRequest(pk=pk)
            try:
                with transaction.atomic():
                    actions.approve_request(request=request, actor=actor, data=data,
                                            note="Not answered by the seller in time.")
                approved += 1
            except (ActionRefused, OrderInvalidTransition):
                if _kind != BuyerRequest.Kind.CANCEL:
                    continue  # left for the seller or staff; the refusal is in the logs of the run
                with transaction.atomic():
                    actions.reject_request(
                        request=request, actor=actor, reason=BuyerRequest.RejectReason.ALREADY_SHIPPED,
                        note="The order was handed to the carrier before the request was answered; "
                             "ask for a return once it is delivered.",
                    )
            except InvalidTransition:
                continue  # answered meanwhile
    return approved


def _deadline_rule(qs, deadline_field, *, window, dry_run, batch_size, act, note):
    """Apply `act` (an action taking request, actor, data, note) as the platform to each
    request of `qs` past its `deadline_field`, in locked batches; a request moved meanwhile
    (by the seller, the buyer or another worker) is left as it is. Returns how many moved."""
    if dry_run:
        return qs.count()
    actor = Actor.policy(window.rule)
    done = 0
    for rows in locked_batches(qs, [deadline_field], batch_size):
        for pk, deadline in rows:
            data = {**window.explain(), deadline_field: deadline.isoformat()}
            try:
                with transaction.atomic():
                    act(request=BuyerRequest(pk=pk), actor=actor, data=data, note=note)
                done += 1
            except (InvalidTransition, ActionRefused):
                continue
    return done


# A reminder goes out once per request, this long before its deadline.
REMIND_BEFORE = timedelta(hours=24)


def _not_reminded(action):
    return ~Exists(RequestEvent.objects.filter(request=OuterRef("pk"), action=action))


def remind_ship_back(*, as_of, window, dry_run=False, batch_size=500):
    """P13's reminder: a day before the ship-back deadline, the buyer is reminded once."""
    qs = BuyerRequest.objects.filter(status__in=transitions.AWAITING_SHIP_BACK, kind=BuyerRequest.Kind.RETURN,
                                     ship_back_by__gt=as_of, ship_back_by__lte=as_of + REMIND_BEFORE)
    return _deadline_rule(qs.filter(_not_reminded("remind_ship_back")), "ship_back_by", window=window,
                          dry_run=dry_run, batch_size=batch_size, act=actions.remind_ship_back,
                          note="Reminded a day before the ship-back deadline.")


def remind_refund(*, as_of, window, dry_run=False, batch_size=500):
    """P14's reminder: a day before the refund deadline, the seller is reminded once."""
    qs = BuyerRequest.objects.filter(status__in=transitions.AWAITING_REFUND, kind=BuyerRequest.Kind.RETURN,
                                     refund_by__gt=as_of, refund_by__lte=as_of + REMIND_BEFORE)
    return _deadline_rule(qs.filter(_not_reminded("remind_refund")), "refund_by", window=window, dry_run=dry_run,
                          batch_size=batch_size, act=actions.remind_refund,
                          note="Reminded a day before the refund deadline.")


def not_shipped_back(as_of):
    return BuyerRequest.objects.filter(status__in=transitions.AWAITING_SHIP_BACK, kind=BuyerRequest.Kind.RETURN,
                                       ship_back_by__lte=as_of)


def lapse_unreturned(*, as_of, window, dry_run=False, batch_size=500):
    """P13: an approved return the buyer has not shipped back by its ship-back deadline (the
    window after the approval) is closed; the buyer is told, nothing is refunded. Returns how many."""
    return _deadline_rule(not_shipped_back(as_of), "ship_back_by", window=window, dry_run=dry_run,
                          batch_size=batch_size, act=actions.lapse_return,
                          note="Not shipped back within the time allowed.")


def shipped_back_unrefunded(as_of):
    return BuyerRequest.objects.filter(status__in=transitions.AWAITING_REFUND,
                                       kind=BuyerRequest.Kind.RETURN, refund_by__lte=as_of)


def refund_unrefunded_returns(*, as_of, window, dry_run=False, batch_size=500):
    """P14: a return the buyer shipped back and the seller has not refunded by its refund
    deadline (the window after the shipment), received or not, is refunded in full by the
    platform. Returns how many."""
    return _deadline_rule(shipped_back_unrefunded(as_of), "refund_by", window=window, dry_run=dry_run,
                          batch_size=batch_size, act=actions.refund_request,
                          note="Not refunded by the seller in time.")


def cancelled_unrefunded(as_of):
    return Order.objects.filter(
        status=Order.Status.CANCELLED, paid_at__isnull=False, cancelled_at__lte=as_of
    ).exclude(Exists(Refund.objects.filter(order=OuterRef("pk"), kind=Refund.Kind.ORDER)))


def refund_cancelled_paid(*, as_of, window, dry_run=False, batch_size=500):
    """Every cancelled order that was paid is refunded in full, once: seller cancellations,
    P5 (no tracking) and P10 (lost in transit) alike. Returns how many were refunded."""
    qs = cancelled_unrefunded(as_of)
    if dry_run:
        return qs.count()
    actor = Actor.policy(window.rule)
    done = 0
    for rows in locked_batches(qs, [], batch_size):
        done += actions.refund_orders(order_ids=[pk for pk, in rows], actor=actor, note="The order was cancelled.",
                                      explain=window.explain(), explain_time="cancelled_at")
    return done
