"""The per-shop status counters behind the tabs stay equal to a GROUP BY whatever
sequence of actions (legal or refused, single or bulk) runs."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.actor import Actor
from orders import actions
from orders.models import Order
from orders.tests.factories import make_order
from orders.tests.test_actions import counts_match_group_by
from orders.transitions import InvalidTransition
from shops.tests.factories import ShopFactory, SKUFactory

ACTOR = Actor.policy("hypothesis")
STEPS = ["new_unpaid", "new_paid", "pay", "confirm", "bulk_confirm", "cancel", "bulk_cancel", "arrange",
         "in_transit", "delivered", "complete", "cancel_in_transit"]


@pytest.mark.django_db
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.tuples(st.sampled_from(STEPS), st.integers(0, 50)), min_size=1, max_size=25))
def test_counters_equal_group_by_after_random_action_sequences(steps):
    shops = [ShopFactory(), ShopFactory()]
    skus = [SKUFactory(shop=s, stock_on_hand=3) for s in shops]
    orders = []
    for step, pick in steps:
        shop_i = pick % 2
        if step in ("new_unpaid", "new_paid") or not orders:
            orders.append(make_order(shops[shop_i], lines=[(skus[shop_i], 1)], paid=step != "new_unpaid"))
            continue
        order = Order.objects.get(pk=orders[pick % len(orders)].pk)
        many = [o.pk for o in orders[pick % len(orders):][:3]]
        try:
            if step == "pay":
                actions.pay_order(order=order, actor=ACTOR)
            elif step == "confirm":
                actions.confirm_order(order=order, actor=ACTOR)
            elif step == "bulk_confirm":
                actions.confirm_orders(shop=order.shop, order_ids=many, actor=ACTOR)
            elif step == "cancel":
                actions.cancel_order(order=order, actor=ACTOR, reason="out_of_stock")
            elif step == "bulk_cancel":
                actions.cancel_orders(shop=order.shop, order_ids=many, actor=ACTOR, reason="pricing_error")
            elif step == "arrange":
                actions.arrange_shipment(order=order, actor=ACTOR)
            elif step == "in_transit":
                actions.mark_in_transit(order=order, actor=ACTOR)
            elif step == "delivered":
                actions.mark_delivered(order=order, actor=ACTOR)
            elif step == "complete":
                actions.complete_order(order=order, actor=ACTOR)
            elif step == "cancel_in_transit":
                actions.cancel_in_transit(order=order, actor=ACTOR)
        except (InvalidTransition, actions.ActionRefused):
            pass
        assert counts_match_group_by()
    for sku in skus:
        sku.refresh_from_db()
        assert 0 <= sku.reserved <= sku.stock_on_hand
