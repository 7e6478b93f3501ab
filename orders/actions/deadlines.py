"""The platform's deadlines on orders: flags when one is missed (late dispatch, overdue
handover, reminded), paused for force majeure, recomputed when a window changes."""

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core.locks import lock

from .. import history, registry
from ..models import Order
from ..transitions import CANCELLABLE, PRE_HANDOVER
from .results import ActionRefused

S = Order.Status

FLAGS = {
    # action: the timestamp field it sets
    "late_dispatch": "late_dispatch_at",
    "handover_overdue": "handover_overdue_at",
    "tracking_reminder": "tracking_reminder_at",
}


@transaction.atomic
def flag_orders(*, order_ids, action, actor, at, note="", data=None):
    """Mark orders (late dispatch, overdue handover, reminded) without moving their status:
    one UPDATE and one history row per order. `data` maps order id -> history data."""
    field_name = FLAGS[action]
    rows = list(lock(Order.objects.filter(pk__in=order_ids)).values_list("pk", "status"))
    if not rows:
        return 0
    Order.objects.filter(pk__in=[pk for pk, _ in rows]).update(**{field_name: at, "updated_at": at})
    history.record_each(
        history.event(pk, action, actor, from_status=status, to_status=status, at=at, note=note,
                      data=(data or {}).get(pk))
        for pk, status in rows
    )
    return len(rows)


@transaction.atomic
def pause_deadlines(*, order_ids, until, actor, note="", data=None):
    """Force majeure approved (P12): the orders' deadlines stop until `until`, and each
    deadline moves later by the paused time so no rule fires because of the event."""
    now = timezone.now()
    pause = until - now
    if pause.total_seconds() <= 0:
        raise ActionRefused(_("The pause must end in the future."))
    rows = list(lock(Order.objects.filter(pk__in=order_ids)).values_list("pk", "status"))
    Order.objects.filter(pk__in=[pk for pk, _ in rows]).update(
        deadlines_paused_until=until,
        ship_by=F("ship_by") + pause,
        handover_by=F("handover_by") + pause,
        auto_cancel_at=F("auto_cancel_at") + pause,
        updated_at=now,
    )
    history.record_each(
        history.event(pk, "deadlines_paused", actor, from_status=status, to_status=status, at=now, note=note,
                      data={"until": until.isoformat(), **((data or {}).get(pk) or {})})
        for pk, status in rows
    )
    for hook in registry.PAUSE_HOOKS.values():
        hook.pause(order_ids=[pk for pk, _ in rows], pause=pause, actor=actor, at=now)
    return len(rows)


def pause_for_holiday(*, warehouse, until, actor, note):
    """A warehouse's holiday approved (shops.warehouses.rule_holiday calls this hook): the open orders
    shipping from it pause as force majeure pauses them; for the default warehouse, so do the shop's
    orders still awaiting confirmation (they will reserve there). Returns how many."""
    open_orders = Order.objects.filter(shop_id=warehouse.shop_id, status__in=PRE_HANDOVER,
                                       deadlines_paused_until__isnull=True)
    mine = Q(warehouse_id=warehouse.pk)
    if warehouse.is_default:
        mine |= Q(warehouse__isnull=True)
    ids = list(open_orders.filter(mine).values_list("pk", flat=True))
    if not ids:
        return 0
    return pause_deadlines(order_ids=ids, until=until, actor=actor, note=note,
                           data={pk: {"warehouse": warehouse.name} for pk in ids})


@transaction.atomic
def recompute_deadlines(*, windows):
    """A window changed: open orders' stored deadlines follow the new version (later runs
    use it; what earlier runs did stays in the history with the version they used)."""
    open_orders = Order.objects.filter(deadlines_paused_until__isnull=True)
    open_orders.filter(status=S.UNPAID).update(auto_cancel_at=F("placed_at") + windows["P1"].delta)
    open_orders.filter(status__in=PRE_HANDOVER).update(auto_cancel_at=F("placed_at") + windows["P5"].delta)
    open_orders.filter(status__in=CANCELLABLE).update(
        ship_by=F("placed_at") + windows["P2"].delta, handover_by=F("placed_at") + windows["P4"].delta
    )
