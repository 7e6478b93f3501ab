"""The named request status sets in returns.transitions say what their comments claim,
agree with the transitions table, and with the one-open-request constraint."""

import pytest

from orders import transitions as order_transitions
from returns import transitions as t
from returns.models import BuyerRequest

R = BuyerRequest.Status
K = BuyerRequest.Kind
ALL = frozenset(R.values)


def test_awaiting_sets_are_where_the_platform_rules_start():
    assert t.AWAITING_ANSWER == t.from_states("approve") == t.from_states("reject") == {R.REQUESTED}
    assert t.AWAITING_SHIP_BACK == t.from_states("lapse") == t.from_states("ship_back") == {R.APPROVED}
    assert t.AWAITING_REFUND == t.from_states("auto_refund") == {R.RETURN_SHIPPED, R.RECEIVED}


def test_open_is_every_status_a_move_leaves_except_a_staff_overrule():
    left = set().union(*(sources for action, (sources, _, _) in t.TRANSITIONS.items() if action != "staff_approve"))
    assert t.OPEN == left
    assert t.OPEN == {R.REQUESTED, R.APPROVED, R.RETURN_SHIPPED, R.RECEIVED, R.DISPUTED}
    assert t.AWAITING_ANSWER | t.AWAITING_SHIP_BACK | t.AWAITING_REFUND < t.OPEN


def test_counting_is_open_or_refunded():
    assert t.COUNTING == t.OPEN | {R.REFUNDED}


def test_the_one_open_request_constraint_spells_open():
    (constraint,) = [c for c in BuyerRequest._meta.constraints if c.name == "request_one_open_per_order"]
    ((lookup, statuses),) = constraint.condition.children
    assert lookup == "status__in" and frozenset(statuses) == t.OPEN


def test_a_cancel_request_needs_a_paid_order_before_handover():
    assert t.ORDER_STATES_FOR_KIND[K.CANCEL] == order_transitions.PRE_HANDOVER


def test_every_named_set_is_a_frozenset_of_statuses():
    for name in ("AWAITING_ANSWER", "AWAITING_SHIP_BACK", "AWAITING_REFUND", "OPEN", "COUNTING"):
        value = getattr(t, name)
        assert isinstance(value, frozenset) and value and value <= ALL, name


@pytest.mark.parametrize("status", R.values)
def test_the_request_flags_read_the_sets(status):
    request = BuyerRequest(status=status)
    assert request.is_open == (status in t.OPEN)
    assert request.awaiting_refund == (status in t.AWAITING_REFUND)
