"""The timed platform rules on orders (SPEC P1, P2, P4, P5).

Each rule is a set-based function of (as_of, window): it finds due rows with one indexed
query per batch, locks them (SKIP LOCKED on PostgreSQL) and changes them through the
actions, so running it twice, or on two workers at once, changes nothing the second time.
Every history row says which rule, which window version and which deadline fired it.
"""

from datetime import timedelta

from django.db.models import Q

from core.actor import Actor
from core.batching import due_chunks, locked_batches
from shops.actions import add_to_tally, notify_shops, tally
from shops.models import Notification

from . import actions
from .models import Order
from .transitions import BEFORE_SHIPMENT, PRE_HANDOVER

S = Order.Status


def _not_paused(as_of):
    return Q(deadlines_paused_until__isnull=True) | Q(deadlines_paused_until__lte=as_of)


def _explain(window, rows):
    return {pk: {**window.explain(), "deadline": d.isoformat() if d else None} for pk, d, _ in rows}


def _run(qs, deadline_field, as_of, dry_run, batch_size, apply):
    """Count (dry run) or apply `apply(rows)` to batches of (pk, deadline, shop_id)."""
    qs = qs.filter(_not_paused(as_of))
    if dry_run:
        return qs.count()
    done = 0
    for rows in locked_batches(qs, [deadline_field, "shop_id"], batch_size):
        done += apply(rows)
    return done


def _cancel(qs, as_of, window, dry_run, batch_size, *, reason, note, message):
    qs = qs.filter(_not_paused(as_of))
    if dry_run:
        return qs.count()
    # One bell per shop for the whole run, not one per batch: a seller reads "120 orders
    # cancelled", once. It is sent in its own transaction after every batch.
    fired = {}
    done = 0
    for chunk in due_chunks(qs, batch_size):
        for shop_id, n, first in actions.cancel_due_orders(
            due=chunk, actor=Actor.policy(window.rule), reason=reason, note=note, explain=window.explain(),
            deadline_field="auto_cancel_at", at=as_of,
        ):
            add_to_tally(fired, shop_id, n, first)
            done += n
    notify_shops(fired, kind=Notification.Kind.POLICY, message=message, email=True)
    return done


def cancel_unpaid(*, as_of, window, dry_run=False, batch_size=500):
    """P1: an unpaid order is cancelled when its payment window has passed."""
    qs = Order.objects.filter(status=S.UNPAID, auto_cancel_at__lte=as_of)
    return _cancel(qs, as_of, window, dry_run, batch_size, reason=Order.CancelReason.UNPAID,
                   note="Not paid within the payment window.",
                   message="{n} unpaid order(s) cancelled by the platform: the payment window passed.")


def cancel_untracked(*, as_of, window, dry_run=False, batch_size=500):
    """P5: a paid order with no tracking update (never handed to the carrier) by its
    deadline is cancelled; the refund follows from the refund rule."""
    qs = Order.objects.filter(status__in=PRE_HANDOVER, auto_cancel_at__lte=as_of)
    return _cancel(qs, as_of, window, dry_run, batch_size, reason=Order.CancelReason.NO_TRACKING,
                   note="No tracking update in time; the buyer is refunded.",
                   message="{n} order(s) cancelled by the platform: no tracking update in time.")


def flag_late_dispatch(*, as_of, window, dry_run=False, batch_size=500):
    """P2: not ready or shipped by ship-by: late dispatch (counts against shop health)."""
    qs = Order.objects.filter(status__in=BEFORE_SHIPMENT, ship_by__lte=as_of,
                              late_dispatch_at__isnull=True)
    return _flag(qs, "ship_by", "late_dispatch", as_of, window, dry_run, batch_size,
                 "{n} order(s) are now late dispatch: ship them as soon as you can.")


def flag_handover_overdue(*, as_of, window, dry_run=False, batch_size=500):
    """P4: no handover shown by handover-by: overdue."""
    qs = Order.objects.filter(status__in=PRE_HANDOVER, handover_by__lte=as_of, handover_overdue_at__isnull=True)
    return _flag(qs, "handover_by", "handover_overdue", as_of, window, dry_run, batch_size,
                 "{n} order(s) are overdue for handover to the carrier.")


def remind_untracked(*, as_of, window, dry_run=False, batch_size=500):
    """P5 reminder: once a day, sellers hear which late orders the platform will cancel."""
    qs = Order.objects.filter(status__in=PRE_HANDOVER, ship_by__lte=as_of, auto_cancel_at__gt=as_of).filter(
        Q(tracking_reminder_at__isnull=True) | Q(tracking_reminder_at__lte=as_of - timedelta(hours=23))
    )
    return _flag(qs, "auto_cancel_at", "tracking_reminder", as_of, window, dry_run, batch_size,
                 "Reminder: {n} order(s) will be cancelled if they get no tracking update; the first on {first}.",
                 kind=Notification.Kind.REMINDER)


def _flag(qs, deadline_field, action, as_of, window, dry_run, batch_size, message, kind=Notification.Kind.POLICY):
    def apply(rows):
        n = actions.flag_orders(order_ids=[pk for pk, _, _ in rows], action=action,
                                actor=Actor.policy(window.rule), at=as_of, data=_explain(window, rows))
        _notify_shops(rows, kind, message, email=True)
        return n

    return _run(qs, deadline_field, as_of, dry_run, batch_size, apply)


def _notify_shops(rows, kind, message, email):
    notify_shops(tally((shop_id, deadline) for _, deadline, shop_id in rows), kind=kind, message=message, email=email)
