"""The set-based writes of platform cancellations: the database builds each history row
and buyer message from the order, so their content must equal what the one-by-one
actions write, and the statements must not grow with the number of orders."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db.models import F, TextField, Value
from django.db.models.functions import Concat
from django.test.utils import CaptureQueriesContext

from core.actor import Actor
from orders import actions, history
from orders.models import Order, OrderEvent, OrderMessage
from orders.tests.factories import advance, make_order
from orders.tests.test_actions import counts_match_group_by
from shops.models import ShopEvent
from shops.tests.factories import ShopFactory, SKUFactory

pytestmark = pytest.mark.django_db
S = Order.Status
POLICY = Actor.policy("P5")
EXPLAIN = {"rule": "P5", "version": 3, "window_hours": "360"}


def _cancel_due(orders, **kw):
    """cancel_due_orders on these orders; returns how many it cancelled."""
    due = Order.objects.filter(pk__in=[o.pk for o in orders])
    return sum(n for _, n, _ in actions.cancel_due_orders(due=due, **kw))


def _due(orders, at):
    Order.objects.filter(pk__in=[o.pk for o in orders]).update(auto_cancel_at=at)


def test_cancel_due_orders_writes_history_messages_counters_and_releases_stock():
    shop = ShopFactory()
    sku = SKUFactory(shop=shop, stock_on_hand=10)
    reserved = advance(make_order(shop, lines=[(sku, 3)]), S.AWAITING_SHIPMENT)
    new = make_order(shop, lines=[(sku, 2)])
    unpaid = make_order(shop, paid=False)
    shipped = advance(make_order(shop, lines=[(sku, 1)]), S.IN_TRANSIT)
    sku.refresh_from_db()
    reserved_before = sku.reserved
    whole = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    fraction = datetime(2026, 11, 20, 8, 0, 0, 120000, tzinfo=UTC)
    _due([reserved, new], whole)
    _due([unpaid, shipped], fraction)

    n = _cancel_due([reserved, new, unpaid, shipped], actor=POLICY,
                                  reason="no_tracking", note="No tracking update in time.", explain=EXPLAIN,
                                  deadline_field="auto_cancel_at")

    assert n == 3  # the order in transit is not cancellable and is left alone
    shipped.refresh_from_db()
    assert shipped.status == S.IN_TRANSIT and not shipped.events.filter(action="cancel").exists()
    for order, deadline in ((reserved, whole), (new, whole), (unpaid, fraction)):
        order.refresh_from_db()
        assert order.status == S.CANCELLED and order.cancel_reason == "no_tracking" and order.auto_cancel_at is None
        event = order.events.get(action="cancel")
        assert (event.actor_kind, event.actor_label, event.to_status) == ("policy", "P5", S.CANCELLED)
        assert event.data == {"reason": "no_tracking", **EXPLAIN, "deadline": deadline.isoformat()}
        assert order.messages.get().body == f"Your order {order.number} was cancelled. Reason: {order.get_cancel_reason_display()}."
    assert reserved.events.get(action="cancel").from_status == S.AWAITING_SHIPMENT
    sku.refresh_from_db()
    assert sku.reserved == reserved_before - 3
    assert counts_match_group_by()
    # Twice: nothing more.
    assert _cancel_due([reserved], actor=POLICY, reason="no_tracking", note="x") == 0


def test_cancel_orders_by_a_seller_tells_the_buyer_the_note_and_staff_notes_stay_internal():
    shop = ShopFactory()
    a, b = make_order(shop), make_order(shop)
    seller = Actor(kind="seller", label="alice")
    actions.cancel_orders(shop=shop, order_ids=[a.pk], actor=seller, reason="other", note="Discontinued")
    actions.cancel_orders(shop=None, order_ids=[b.pk], actor=Actor(kind="staff", label="staff"),
                          reason="other", note="Fraud suspected")
    assert a.messages.get().body.endswith("Reason: Other. Discontinued")
    assert b.messages.get().body.endswith("Reason: Other.")
    assert b.events.get(action="cancel").note == "Fraud suspected"


@pytest.mark.parametrize("reserved", [False, True])
def test_cancel_due_orders_statements_do_not_grow_with_the_batch(reserved):
    def batch(n):
        shop = ShopFactory()
        orders = [make_order(shop) for _ in range(n)]
        if reserved:
            orders = [advance(o, S.AWAITING_SHIPMENT) for o in orders]
        with CaptureQueriesContext(connection) as queries:
            done = _cancel_due(orders, actor=POLICY, reason="no_tracking", note="late", explain=EXPLAIN,
                               deadline_field="auto_cancel_at")
        assert done == n
        return len(queries)

    assert batch(2) == batch(25)
    assert counts_match_group_by()


def test_bump_status_counts_many_keys_in_fixed_statements():
    shops = [ShopFactory() for _ in range(5)]
    for shop in shops:
        make_order(shop)
    deltas = {(shop.pk, S.AWAITING_CONFIRMATION): -1 for shop in shops}
    deltas.update({(shop.pk, S.CANCELLED): 1 for shop in shops})
    Order.objects.filter(shop__in=shops).update(status=S.CANCELLED)
    with CaptureQueriesContext(connection) as queries:
        actions.bump_status_counts(deltas)
    assert len(queries) <= 3
    assert counts_match_group_by()


def test_messages_for_many_orders_are_one_statement():
    shop = ShopFactory()
    orders = [make_order(shop) for _ in range(3)]
    with CaptureQueriesContext(connection) as queries:
        history.bulk_post_messages([o.pk for o in orders], OrderMessage.Sender.PLATFORM,
                                   Concat(Value("Hello "), F("number"), output_field=TextField()),
                                   at=orders[0].placed_at + timedelta(hours=1))
    assert len(queries) == 1
    assert sorted(OrderMessage.objects.values_list("body", flat=True)) == sorted(f"Hello {o.number}" for o in orders)


def test_history_for_many_orders_is_one_statement_and_refuses_a_typo():
    shop = ShopFactory()
    orders = [make_order(shop) for _ in range(3)]
    at = orders[0].placed_at + timedelta(hours=1)
    feed_before = ShopEvent.objects.count()
    with CaptureQueriesContext(connection) as queries:
        n = history.bulk_record(Order.objects.filter(pk__in=[o.pk for o in orders]), "note", Actor.policy("P1"),
                                at=at, note=Concat(Value("About "), F("number"), output_field=TextField()))
    # One INSERT ... SELECT for the history, one for the shop's change feed.
    assert n == 3 and len(queries) == 2
    rows = OrderEvent.objects.filter(action="note").values_list("order__number", "note", "from_status", "to_status")
    assert sorted(rows) == sorted((o.number, f"About {o.number}", o.status, o.status) for o in orders)
    feed = ShopEvent.objects.order_by("id")[feed_before:]
    assert sorted((e.type, e.object_key, e.shop_id, e.action, e.at) for e in feed) == sorted(
        ("order.updated", o.number, shop.pk, "note", at) for o in orders)
    with pytest.raises(ValueError, match="not one of its actions"):
        history.bulk_record([orders[0].pk], "noet", Actor.policy("P1"), at=at)
    with pytest.raises(ValueError, match="not one of its actions"):
        history.record(orders[0], "noet", Actor.policy("P1"), from_status="", to_status="", at=at)
