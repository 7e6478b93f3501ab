"""Shipping starts from an order awaiting shipment; packages move through shipping actions."""

import io
from datetime import datetime, timedelta
from itertools import count

from django.utils import timezone

from core.actor import Actor
from orders.tests.factories import advance, make_order
from shipping import actions, tracking
from shipping.models import Package
from shops.tests.factories import ShopFactory, SKUFactory

_ids = count(1)
ACTOR = Actor.policy("test")


def order_to_ship(shop=None, *, model="PLATFORM", lines=None, **kw):
    """A confirmed order (stock reserved), awaiting shipment."""
    shop = shop or ShopFactory()
    if lines is None:
        lines = [(SKUFactory(shop=shop), 1)]
    order = make_order(shop, lines=lines, shipping_model=model, **kw)
    return advance(order, order.Status.AWAITING_SHIPMENT)


def ups_number():
    return f"1Z{next(_ids):016d}"


def arranged(order, actor=ACTOR, handover="DROP_OFF"):
    if handover == "PICKUP":
        slot = actions.pickup_slots(order.shop)[0][0]
        return actions.arrange_platform_shipment(order=order, actor=actor, handover="PICKUP", pickup_slot=slot)
    return actions.arrange_platform_shipment(order=order, actor=actor, handover="DROP_OFF", dropoff_point="SCX-DP-001")


def event(package, tag, *, at=None, subtag="", event_id=None, location="Hub", message=""):
    at = at or timezone.now()
    return {
        "event_id": event_id or f"e-{next(_ids)}",
        "carrier": package.carrier,
        "tracking_number": package.tracking_number,
        "tag": tag,
        "subtag": subtag,
        "occurred_at": at.isoformat(),
        "location": location,
        "message": message or tag,
    }


def feed(*events):
    """Events as the carrier sends them: not before the latest of them happened."""
    latest = max((datetime.fromisoformat(e["occurred_at"]) for e in events), default=None)
    now = timezone.now()
    return tracking.receive(list(events), now=max(now, latest) if latest else now)


def png_bytes(size=(40, 30), color=(200, 30, 30), fmt="PNG"):
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, format=fmt)
    return buf.getvalue()


def refreshed(obj):
    obj.refresh_from_db()
    return obj


def ago(**kw):
    return timezone.now() - timedelta(**kw)


__all__ = ["Package"]
