"""The named package status sets in shipping.transitions say what their comments claim,
and agree with the transitions table and the feed ranks."""

import pytest

from shipping import transitions as t
from shipping.models import Package

P = Package.Status
ALL = frozenset(P.values)


def test_at_seller_is_where_the_seller_may_still_ship_or_relabel():
    assert t.AT_SELLER == {P.PACKING, P.READY}
    for action in ("ship", "set_tracking", "edit_label"):
        assert t.TRANSITIONS[action][0] == t.AT_SELLER, action
    assert t.AT_SELLER < t.TRANSITIONS["add_photo"][0]


def test_with_carrier_is_where_loss_delay_and_staff_delivery_start():
    for action in ("mark_lost", "mark_delayed", "staff_delivered"):
        assert t.TRANSITIONS[action][0] == t.WITH_CARRIER, action
    assert t.WITH_CARRIER == {P.COLLECTED, P.IN_TRANSIT, P.OUT_FOR_DELIVERY, P.AVAILABLE_FOR_PICKUP,
                              P.FAILED_ATTEMPT, P.EXCEPTION}
    assert not t.WITH_CARRIER & (t.AT_SELLER | t.FINAL)


def test_handed_over_and_reached_carrier():
    assert t.HANDED_OVER == t.WITH_CARRIER | {P.DELIVERED}
    assert t.REACHED_CARRIER == t.HANDED_OVER | {P.LOST}
    assert t.REACHED_CARRIER == ALL - t.AT_SELLER - {P.VOID}
    assert t.READY_OR_LATER == t.HANDED_OVER | {P.READY}


def test_final_and_gone_are_left_by_no_move():
    assert t.FINAL == {P.DELIVERED, P.LOST, P.VOID}
    assert t.GONE == t.FINAL - {P.DELIVERED}
    for action, (sources, _) in t.TRANSITIONS.items():
        assert not sources & t.FINAL, action
    for current in t.FINAL:
        for new in ALL:
            assert not t.feed_moves(current, None, new, None)


def test_every_named_set_is_a_frozenset_of_statuses():
    for name in ("AT_SELLER", "WITH_CARRIER", "HANDED_OVER", "REACHED_CARRIER", "GONE", "FINAL", "READY_OR_LATER"):
        value = getattr(t, name)
        assert isinstance(value, frozenset) and value and value <= ALL, name


@pytest.mark.parametrize("status", P.values)
def test_the_package_flags_read_the_table(status):
    package = Package(status=status)
    assert package.can_edit_label() == (status in t.TRANSITIONS["edit_label"][0])
    assert package.can_add_photo() == (status in t.TRANSITIONS["add_photo"][0])
    assert package.handed_over == (status in t.HANDED_OVER)
