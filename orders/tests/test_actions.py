import threading

import pytest
from django.db import connection
from django.db.models import Count

from core.actor import Actor
from orders import actions
from orders.models import Order, OrderEvent, OrderMessage, OrderStatusCount
from orders.tests.factories import advance, make_order
from orders.transitions import TRANSITIONS, InvalidTransition
from shops.tests.factories import ShopFactory, SKUFactory

S = Order.Status
pytestmark = pytest.mark.django_db
ACTOR = Actor.policy("test")


def _call(action, order):
    calls = {
        "pay": lambda: actions.pay_order(order=order, actor=ACTOR),
        "confirm": lambda: actions.confirm_order(order=order, actor=ACTOR),
        "arrange_shipment": lambda: actions.arrange_shipment(order=order, actor=ACTOR),
        "mark_in_transit": lambda: actions.mark_in_transit(order=order, actor=ACTOR),
        "mark_delivered": lambda: actions.mark_delivered(order=order, actor=ACTOR),
        "complete": lambda: actions.complete_order(order=order, actor=ACTOR),
        "cancel": lambda: actions.cancel_order(order=order, actor=ACTOR, reason="other", note="x"),
        "cancel_in_transit": lambda: actions.cancel_in_transit(order=order, actor=ACTOR),
    }
    return calls[action]()


def counts_match_group_by():
    grouped = {
        (r["shop_id"], r["status"]): r["n"] for r in Order.objects.values("shop_id", "status").annotate(n=Count("id"))
    }
    counters = {(c.shop_id, c.status): c.count for c in OrderStatusCount.objects.all() if c.count}
    return grouped == counters


# Sorted, so every xdist worker collects the same parameters in the same order.
ILLEGAL = [(action, status) for action, (sources, _) in TRANSITIONS.items() for status in S.values if status not in sources]
LEGAL = [(action, str(status)) for action, (sources, _) in TRANSITIONS.items() for status in sorted(sources)]


@pytest.mark.parametrize("action,status", ILLEGAL)
def test_action_from_illegal_status_is_refused_and_changes_nothing(action, status):
    order = advance(make_order(paid=False), status)
    events_before = order.events.count()
    with pytest.raises(InvalidTransition) as exc:
        _call(action, order)
    assert order.number in str(exc.value)
    order.refresh_from_db()
    assert order.status == status
    assert order.events.count() == events_before
    assert counts_match_group_by()


@pytest.mark.parametrize("action,status", LEGAL)
def test_action_from_legal_status_moves_and_writes_one_history_row(action, status):
    order = advance(make_order(paid=False), status)
    events_before = order.events.count()
    _call(action, order)
    order.refresh_from_db()
    assert order.status == TRANSITIONS[action][1]
    assert order.events.count() == events_before + 1
    last = order.events.order_by("-id").first()
    assert (last.action, last.from_status, last.to_status) == (action, status, order.status)
    assert counts_match_group_by()


def test_confirm_reserves_stock():
    shop = ShopFactory()
    sku = SKUFactory(shop=shop, stock_on_hand=5)
    order = make_order(shop, lines=[(sku, 3)])
    actions.confirm_order(order=order, actor=ACTOR)
    sku.refresh_from_db()
    assert (sku.stock_on_hand, sku.reserved) == (5, 3)


def test_confirm_with_short_line_is_refused_naming_sku_and_changes_nothing():
    shop = ShopFactory()
    plenty, short = SKUFactory(shop=shop, stock_on_hand=10), SKUFactory(shop=shop, code="MUG-RED", stock_on_hand=1)
    order = make_order(shop, lines=[(plenty, 2), (short, 2)])
    with pytest.raises(actions.ActionRefused, match="MUG-RED"):
        actions.confirm_order(order=order, actor=ACTOR)
    plenty.refresh_from_db()
    short.refresh_from_db()
    order.refresh_from_db()
    assert (plenty.reserved, short.reserved) == (0, 0)
    assert order.status == S.AWAITING_CONFIRMATION
    assert not order.events.filter(action="confirm").exists()


def test_bulk_confirm_serves_oldest_first_and_reports_each_order():
    shop = ShopFactory()
    sku = SKUFactory(shop=shop, code="LAST-ONE", stock_on_hand=1)
    first, second = make_order(shop, lines=[(sku, 1)]), make_order(shop, lines=[(sku, 1)])
    other_shop_order = make_order()
    result = actions.confirm_orders(shop=shop, order_ids=[second.pk, first.pk, other_shop_order.pk], actor=ACTOR)
    assert [o.number for o in result.done] == [first.number]
    assert "LAST-ONE" in str(result.refused[second.number])
    assert other_shop_order.number not in result.refused
    assert "1 confirmed; 2 refused" in result.summary("confirmed")
    other_shop_order.refresh_from_db()
    assert other_shop_order.status == S.AWAITING_CONFIRMATION


def test_cancel_releases_reservation_and_messages_buyer():
    shop = ShopFactory()
    sku = SKUFactory(shop=shop, stock_on_hand=4)
    order = make_order(shop, lines=[(sku, 4)])
    actions.confirm_order(order=order, actor=ACTOR)
    actions.cancel_order(order=order, actor=ACTOR, reason="pricing_error")
    sku.refresh_from_db()
    order.refresh_from_db()
    assert sku.reserved == 0
    assert order.cancel_reason == "pricing_error"
    assert OrderMessage.objects.filter(order=order, body__contains="Pricing error").exists()


def test_cancel_by_seller_with_platform_reason_is_refused(seller):
    order = make_order()
    with pytest.raises(actions.ActionRefused):
        actions.cancel_order(order=order, actor=Actor.seller(seller), reason="unpaid")
    with pytest.raises(actions.ActionRefused):
        actions.cancel_order(order=order, actor=Actor.seller(seller), reason="other", note="  ")
    order.refresh_from_db()
    assert order.status == S.AWAITING_CONFIRMATION


def test_cancel_in_transit_is_refused():
    order = advance(make_order(), S.IN_TRANSIT)
    with pytest.raises(InvalidTransition, match="with the carrier"):
        actions.cancel_order(order=order, actor=ACTOR, reason="out_of_stock")


def test_mark_in_transit_consumes_reserved_stock():
    shop = ShopFactory()
    sku = SKUFactory(shop=shop, stock_on_hand=5)
    order = advance(make_order(shop, lines=[(sku, 2)]), S.AWAITING_COLLECTION)
    actions.mark_in_transit(order=order, actor=ACTOR)
    sku.refresh_from_db()
    assert (sku.stock_on_hand, sku.reserved) == (3, 0)


def test_history_is_append_only():
    order = make_order()
    event = order.events.first()
    with pytest.raises(ValueError):
        event.save()
    with pytest.raises(ValueError):
        event.delete()


def test_add_note_writes_history_without_status_change(seller):
    order = make_order()
    actions.add_note(order=order, actor=Actor.seller(seller), text="Buyer called")
    assert order.events.filter(action="note", note="Buyer called").exists()
    with pytest.raises(actions.ActionRefused):
        actions.add_note(order=order, actor=Actor.seller(seller), text="  ")


@pytest.mark.django_db(transaction=True)
def test_two_confirms_racing_for_the_last_unit_exactly_one_wins(on_postgres):
    shop = ShopFactory()
    sku = SKUFactory(shop=shop, stock_on_hand=1)
    orders = [make_order(shop, lines=[(sku, 1)]) for _ in range(2)]
    barrier = threading.Barrier(2)
    outcomes = []

    def confirm(order):
        try:
            barrier.wait()
            actions.confirm_order(order=order, actor=ACTOR)
            outcomes.append("ok")
        except actions.ActionRefused:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=confirm, args=(o,)) for o in orders]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    sku.refresh_from_db()
    assert sorted(outcomes) == ["ok", "refused"]
    assert (sku.stock_on_hand, sku.reserved) == (1, 1)
    assert Order.objects.filter(status=S.AWAITING_SHIPMENT).count() == 1
    assert OrderEvent.objects.filter(action="confirm").count() == 1


def test_cancel_by_staff_keeps_the_reason_out_of_the_buyers_message(seller):
    order = make_order()
    seller.is_staff = True
    actions.cancel_order(order=order, actor=Actor.staff(seller), reason="other", note="fraud suspected")
    message = order.messages.get()
    assert "fraud" not in message.body and "Other" in message.body
    assert order.events.get(action="cancel").note == "fraud suspected"


def test_cancel_by_seller_tells_the_buyer_the_sellers_note(seller):
    order = make_order(seller.memberships.get().shop)
    actions.cancel_order(order=order, actor=Actor.seller(seller), reason="other", note="Sorry, discontinued")
    assert "Sorry, discontinued" in order.messages.get().body
