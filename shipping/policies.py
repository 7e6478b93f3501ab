"""The timed platform rules on packages (SPEC P3, P6-P10).

Set-based functions of (as_of, window), like orders.policies: due packages are found with
one indexed query per batch, locked with SKIP LOCKED on PostgreSQL, and changed through
shipping.actions (packages) and orders.actions (orders). A second run, or a second worker,
finds nothing left to do.
"""

from django.db.models import Exists, OuterRef, Q

from core.actor import Actor
from core.batching import due_chunks, locked_batches
from orders import actions as order_actions
from orders.models import Order
from shops.actions import add_to_tally, notify_shops, tally
from shops.models import Notification

from . import actions
from .models import Package
from .transitions import WITH_CARRIER

P = Package.Status


def _paused(as_of):
    """Packages of orders whose deadlines a force-majeure ticket holds (P12)."""
    return Q(order__deadlines_paused_until__gt=as_of)


def _explain(window, rows, what):
    return {pk: {**window.explain(), what: d.isoformat() if d else None} for pk, d in rows}


def _apply(qs, field, as_of, window, dry_run, batch_size, action, what, note):
    qs = qs.of_open_orders().exclude(_paused(as_of))
    if dry_run:
        return qs.count()
    done = 0
    for rows in locked_batches(qs, [field, "shop_id"], batch_size):
        moved = action(package_ids=[pk for pk, _, _ in rows], actor=Actor.policy(window.rule), at=as_of,
                       note=note, data=_explain(window, [(pk, d) for pk, d, _ in rows], what))
        done += moved
        if moved:
            notify_shops(tally((shop_id, d) for _, d, shop_id in rows), kind=Notification.Kind.SHIPPING,
                         message=f"{{n}} package(s): {note}", email=False)
    return done


def flag_late_collection(*, as_of, window, dry_run=False, batch_size=500):
    """P3: ready for handover, and neither collected (pickup) nor dropped off by collect-by."""
    qs = Package.objects.filter(status=P.READY, collect_by__lte=as_of, late_collection_at__isnull=True)
    return _apply(qs, "collect_by", as_of, window, dry_run, batch_size, actions.flag_late_collection, "deadline",
                  "Not collected or dropped off within the handover window.")


def mark_delayed(*, as_of, window, dry_run=False, batch_size=500):
    """P9: still with the carrier past the promised delivery date: Delayed (counts
    against the carrier)."""
    qs = Package.objects.filter(status__in=WITH_CARRIER, is_delayed=False,
                                promised_delivery_at__lte=as_of - window.delta)
    return _apply(qs, "promised_delivery_at", as_of, window, dry_run, batch_size, actions.mark_delayed, "deadline",
                  "Past the promised delivery date.")


def lost_after_failed_attempts(*, as_of, window, dry_run=False, batch_size=500):
    """P6: after N failed delivery attempts (N is the window's number) the package is Lost."""
    qs = Package.objects.filter(status__in=WITH_CARRIER, failed_attempts__gte=int(window.hours))
    return _apply(qs, "last_event_at", as_of, window, dry_run, batch_size, actions.mark_lost, "last_event_at",
                  f"{int(window.hours)} failed delivery attempts.")


def lost_unacknowledged(*, as_of, window, dry_run=False, batch_size=500):
    """P7: the buyer has not received it this long after the order was placed: Lost."""
    qs = Package.objects.filter(status__in=WITH_CARRIER, order__placed_at__lte=as_of - window.delta)
    return _apply(qs, "collected_at", as_of, window, dry_run, batch_size, actions.mark_lost, "collected_at",
                  "Not received within the delivery window after the order was placed.")


def lost_seller_shipped(*, as_of, window, dry_run=False, batch_size=500):
    """P8: ship by seller, not received this long after shipment: Lost."""
    qs = Package.objects.filter(status__in=WITH_CARRIER, order__shipping_model=Order.ShippingModel.SELLER,
                                collected_at__lte=as_of - window.delta)
    return _apply(qs, "collected_at", as_of, window, dry_run, batch_size, actions.mark_lost, "collected_at",
                  "Ship by seller: not received within the window after shipment.")


def cancel_abnormal(*, as_of, window, dry_run=False, batch_size=500):
    """P10: an order with a lost package is cancelled (the refund rule refunds the buyer,
    who is told on the order). In transit it is 'cancel_in_transit'; a partly collected
    order still awaiting collection is cancelled the ordinary way."""
    lost = Exists(Package.objects.filter(order=OuterRef("pk"), status=P.LOST))
    total = 0
    for statuses, action in (([Order.Status.IN_TRANSIT], "cancel_in_transit"),
                             ([Order.Status.AWAITING_COLLECTION], "cancel")):
        qs = Order.objects.filter(lost, status__in=statuses).exclude(deadlines_paused_until__gt=as_of)
        if dry_run:
            total += qs.count()
            continue
        by_shop = {}
        for chunk in due_chunks(qs, batch_size):
            for shop_id, n, _ in order_actions.cancel_due_orders(
                due=chunk, actor=Actor.policy(window.rule), reason=Order.CancelReason.DELIVERY_FAILED,
                action=action, note="A package was lost in delivery; the buyer is refunded.",
                explain=window.explain(), at=as_of,
            ):
                total += n
                add_to_tally(by_shop, shop_id, n, as_of)
        notify_shops(by_shop, kind=Notification.Kind.POLICY,
                     message="{n} order(s) cancelled by the platform: a package was lost in delivery.")
    return total
