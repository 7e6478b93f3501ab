"""Orders start where the storefront leaves them (unpaid or awaiting confirmation);
later states are reached by calling the actions, never by writing a status."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from core.actor import Actor
from orders import actions
from shops.tests.factories import ShopFactory, SKUFactory

_counter = iter(range(1, 10**9))


def make_order(shop=None, *, lines=None, paid=True, number=None, placed_at=None, shipping_model="PLATFORM", **buyer):
    """Create an order through actions.receive_order. `lines` is a list of (sku, qty)."""
    shop = shop or ShopFactory()
    if lines is None:
        lines = [(SKUFactory(shop=shop), 1)]
    placed_at = placed_at or timezone.now() - timedelta(hours=1)
    n = next(_counter)
    return actions.receive_order(
        shop=shop,
        number=number or f"T{n:08d}",
        placed_at=placed_at,
        paid_at=placed_at + timedelta(minutes=5) if paid else None,
        currency=shop.currency,
        shipping_model=shipping_model,
        buyer={
            "name": buyer.get("name", "Dana Buyer"),
            "email": buyer.get("email", f"buyer{n}@example.com"),
            "phone": buyer.get("phone", "+15550001234"),
            "address": {
                "line1": "1 Market St",
                "line2": "",
                "city": "Springfield",
                "region": "IL",
                "postal_code": "62701",
                "country": "US",
            },
        },
        lines=[(sku, qty, Decimal(sku.price)) for sku, qty in lines],
    )


def advance(order, to, actor=None):
    """Walk an order forward through the actions until it reaches status `to`."""
    S = order.Status
    actor = actor or Actor.storefront()
    path = [
        (S.UNPAID, lambda o: actions.pay_order(order=o, actor=actor)),
        (S.AWAITING_CONFIRMATION, lambda o: actions.confirm_order(order=o, actor=actor)),
        (S.AWAITING_SHIPMENT, lambda o: actions.arrange_shipment(order=o, actor=actor)),
        (S.AWAITING_COLLECTION, lambda o: actions.mark_in_transit(order=o, actor=actor)),
        (S.IN_TRANSIT, lambda o: actions.mark_delivered(order=o, actor=actor)),
        (S.DELIVERED, lambda o: actions.complete_order(order=o, actor=actor)),
    ]
    if to == S.CANCELLED:
        return actions.cancel_order(order=order, actor=Actor.policy("test"), reason="other", note="test")
    for status, step in path:
        if order.status == to:
            break
        if order.status == status:
            order = step(order)
            order.refresh_from_db()
    assert order.status == to, f"could not reach {to} from {order.status}"
    return order
