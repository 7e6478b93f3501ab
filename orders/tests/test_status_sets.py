"""The named status sets in orders.transitions say what their comments claim, and agree
with the transitions table (so the per-order check and the set-based paths cannot drift)."""

import pytest

from core.sql import constant_list
from orders import transitions as t
from orders.models import Order

S = Order.Status
ALL = frozenset(S.values)


def reachable(start):
    """Every status some chain of moves reaches from `start`, `start` included."""
    seen, todo = {start}, [start]
    while todo:
        here = todo.pop()
        for sources, target in t.TRANSITIONS.values():
            if here in sources and target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def test_cancellable_is_where_cancel_starts():
    assert t.CANCELLABLE == t.from_states("cancel")
    assert t.CANCELLABLE == {S.UNPAID, S.AWAITING_CONFIRMATION, S.AWAITING_SHIPMENT, S.AWAITING_COLLECTION}


def test_pre_handover_is_the_paid_cancellable_orders():
    assert t.PRE_HANDOVER == t.CANCELLABLE - t.from_states("pay")
    assert t.PRE_HANDOVER == {S.AWAITING_CONFIRMATION, S.AWAITING_SHIPMENT, S.AWAITING_COLLECTION}


def test_before_shipment_is_paid_and_not_yet_packed():
    assert t.BEFORE_SHIPMENT == t.from_states("confirm") | t.from_states("arrange_shipment")
    assert t.BEFORE_SHIPMENT == {S.AWAITING_CONFIRMATION, S.AWAITING_SHIPMENT}
    assert t.BEFORE_SHIPMENT < t.PRE_HANDOVER


def test_to_ship_and_reserving_run_from_confirmation_to_the_carrier():
    assert t.TO_SHIP == t.from_states("mark_in_transit") == {S.AWAITING_SHIPMENT, S.AWAITING_COLLECTION}
    assert t.RESERVING == t.TO_SHIP
    # Confirming reserves, handing over releases (to the carrier), and the moves between keep it.
    assert t.TRANSITIONS["confirm"][1] in t.RESERVING and not t.from_states("confirm") & t.RESERVING
    assert t.TRANSITIONS["mark_in_transit"][1] not in t.RESERVING
    assert t.TRANSITIONS["arrange_shipment"][1] in t.RESERVING


def test_handed_over_is_everything_after_the_carrier_has_it():
    assert t.HANDED_OVER == reachable(t.TRANSITIONS["mark_in_transit"][1]) - {S.CANCELLED}
    assert t.HANDED_OVER == {S.IN_TRANSIT, S.DELIVERED, S.COMPLETED}
    assert not t.HANDED_OVER & t.CANCELLABLE
    assert t.HANDED_OVER | t.CANCELLABLE | {S.CANCELLED} == ALL


def test_in_fulfillment_is_paid_and_not_yet_delivered():
    assert t.IN_FULFILLMENT == t.PRE_HANDOVER | t.from_states("mark_delivered")
    assert t.IN_FULFILLMENT == {S.AWAITING_CONFIRMATION, S.AWAITING_SHIPMENT, S.AWAITING_COLLECTION, S.IN_TRANSIT}


def test_every_named_set_is_a_frozenset_of_statuses():
    for name in ("CANCELLABLE", "PRE_HANDOVER", "BEFORE_SHIPMENT", "TO_SHIP", "RESERVING", "HANDED_OVER",
                 "IN_FULFILLMENT"):
        value = getattr(t, name)
        assert isinstance(value, frozenset) and value and value <= ALL, name


@pytest.mark.parametrize("status", S.values)
def test_the_order_flags_read_the_sets(status):
    order = Order(status=status)
    assert order.before_handover == (status in t.CANCELLABLE)
    assert order.paid_before_handover == (status in t.PRE_HANDOVER)
    assert order.ship_by_applies == (status in t.BEFORE_SHIPMENT)


def test_constant_list_is_sorted_plain_names_only():
    assert constant_list(t.TO_SHIP) == "('AWAITING_COLLECTION', 'AWAITING_SHIPMENT')"
    for bad in ([], ["it's"], ["A B"], ["A;--"]):
        with pytest.raises(ValueError):
            constant_list(bad)
