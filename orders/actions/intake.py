"""Orders the storefront pushes: received, paid, and the shop told of a paid order."""

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from core.actor import Actor
from core.locks import lock_one
from core.money import format_money
from shops import policy_windows
from shops.actions import notify
from shops.models import Notification

from .. import history
from ..models import Order, OrderLine
from .counters import bump_status_counts
from .moves import _move

S = Order.Status


@transaction.atomic
def receive_order(*, shop, number, placed_at, paid_at, currency, shipping_model, buyer, lines, digest="", at=None,
                  language=""):
    """Create an order pushed by the storefront. `lines` are (sku, quantity, unit_price);
    `language` the buyer's (orders.language), for their emails and page.
    `at` is when the platform received it (default now; the demo tells a story in the past);
    the payment is recorded when it happened if that is later, never in the future."""
    now = at or timezone.now()
    address = buyer["address"]
    windows = policy_windows.current()
    order = Order.objects.create(
        number=number,
        shop=shop,
        status=S.UNPAID,
        shipping_model=shipping_model,
        placed_at=placed_at,
        status_changed_at=now,
        ship_by=placed_at + windows["P2"].delta,
        handover_by=placed_at + windows["P4"].delta,
        auto_cancel_at=placed_at + windows["P1"].delta,
        buyer_name=buyer["name"],
        buyer_email=buyer.get("email", ""),
        buyer_phone=buyer.get("phone", ""),
        address_line1=address["line1"],
        address_line2=address.get("line2", ""),
        city=address["city"],
        region=address.get("region", ""),
        postal_code=address.get("postal_code", ""),
        country=address["country"],
        district=address.get("district", ""),
        subdistrict=address.get("subdistrict", ""),
        language=language or "",
        currency=currency,
        total=sum((price * qty for _, qty, price in lines), start=0),
        item_count=sum(qty for _, qty, _ in lines),
        items_summary=_summary(lines),
        source_digest=digest,
    )
    OrderLine.objects.bulk_create(
        OrderLine(order=order, sku=sku, sku_code=sku.code, name=sku.name, quantity=qty, unit_price=price)
        for sku, qty, price in lines
    )
    actor = Actor.storefront()
    history.record(order, "place", actor, from_status="", to_status=S.UNPAID, at=now,
                   data={"placed_at": placed_at.isoformat()})
    bump_status_counts({(shop.pk, S.UNPAID): 1})
    if paid_at is not None:
        event = _move(order, "pay", actor, at=max(now, min(paid_at, timezone.now())), paid_at=paid_at,
                      auto_cancel_at=placed_at + windows["P5"].delta, data={"paid_at": paid_at.isoformat()})
        _announce_new_order(order, at=event.at)
    return order


def _announce_new_order(order, at=None):
    """A paid order awaits confirmation: ring the bell and email the shop."""
    notify(
        shop=order.shop,
        kind=Notification.Kind.NEW_ORDER,
        text=f"New order {order.number}: {order.items_summary} — {format_money(order.total, order.currency)}. "
             "Confirm it to reserve stock.",
        url=reverse("orders:detail", kwargs={"shop": order.shop.slug, "number": order.number}),
        email_subject=f"New order {order.number} awaits confirmation",
        about_order=order.pk,
        at=at,
    )


def _summary(lines):
    text = ", ".join(f"{qty}× {sku.code}" for sku, qty, _ in lines[:3])
    if len(lines) > 3:
        text += f" +{len(lines) - 3} more"
    return text[:200]


@transaction.atomic
def pay_order(*, order, actor, paid_at=None, note="", at=None):
    order = lock_one(Order.objects, order.pk)
    at = at or timezone.now()
    paid_at = paid_at or at
    untracked = order.placed_at + policy_windows.window("P5").delta
    _move(order, "pay", actor, note=note, at=at, paid_at=paid_at, auto_cancel_at=untracked,
          data={"paid_at": paid_at.isoformat()})
    _announce_new_order(order, at=at)
    return order
