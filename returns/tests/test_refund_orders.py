"""refund_orders writes refunds, history rows and buyer messages set-based: each equals
what a one-by-one refund wrote, and the statements do not grow with the batch."""

from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.actor import Actor
from orders.actions import cancel_order
from orders.models import Order, OrderMessage
from orders.tests.factories import make_order
from shops.tests.factories import UserFactory

from .. import actions, links
from ..models import Refund
from .factories import delivered_order, open_return, paid_order
from .test_actions import _through

pytestmark = pytest.mark.django_db
POLICY = Actor.policy("P10")
EXPLAIN = {"rule": "P10", "version": 2, "window_hours": "1"}


def _cancelled(order):
    return cancel_order(order=order, actor=Actor.policy("P5"), reason="no_tracking", note="late")


def test_refund_orders_refunds_what_is_left_once_with_history_message_and_email(shop, seller,
                                                                              django_capture_on_commit_callbacks):
    full = _cancelled(paid_order(shop))  # 30.00
    returned = delivered_order(shop)  # 45.00, 10.00 already refunded for a return
    _through(open_return(returned), "REFUNDED", Actor.seller(seller))
    unpaid = _cancelled(make_order(shop, paid=False))
    mail.outbox.clear()

    ids = [full.pk, returned.pk, unpaid.pk]
    with django_capture_on_commit_callbacks(execute=True):
        assert actions.refund_orders(order_ids=ids, actor=POLICY, note="The order was cancelled.", explain=EXPLAIN,
                                     explain_time="cancelled_at") == 2
    assert actions.refund_orders(order_ids=ids, actor=POLICY, note="The order was cancelled.") == 0

    assert not Refund.objects.filter(order=unpaid).exists()
    first = Refund.objects.get(order=full)
    assert (first.kind, first.amount, first.seq, first.refunded_before, first.order_total) == (
        "order", Decimal("30.00"), 1, Decimal("0"), Decimal("30.00"))
    assert first.data == {**EXPLAIN, "cancelled_at": Order.objects.get(pk=full.pk).cancelled_at.isoformat()}
    assert (first.actor_kind, first.actor_label, first.note) == ("policy", "P10", "The order was cancelled.")
    rest = Refund.objects.get(order=returned, kind="order")
    assert (rest.amount, rest.seq, rest.refunded_before) == (Decimal("35.00"), 2, Decimal("10.00"))

    for order, amount in ((full, "30.00"), (returned, "35.00")):
        event = order.events.get(action="refund", actor_kind="policy")
        assert event.note == f"Refunded {amount} USD to the buyer. The order was cancelled."
        assert event.from_status == event.to_status == Order.objects.get(pk=order.pk).status
        assert OrderMessage.objects.filter(order=order, body=f"Order {order.number} was refunded: {amount} USD.").count() == 1
    sent = {m.to[0]: m for m in mail.outbox}
    assert set(sent) == {full.buyer_email, returned.buyer_email}
    token = sent[full.buyer_email].body.rsplit("/returns/o/", 1)[1].split("/")[0]
    assert links.read_token(token) == (full.pk, full.number)
    assert sent[full.buyer_email].subject == f"Order {full.number} refunded"


def test_refund_order_one_by_one_goes_through_the_same_path(shop):
    staff_user = UserFactory(is_staff=True)
    order = _cancelled(paid_order(shop))
    refund = actions.refund_order(order=order, actor=Actor.staff(staff_user), note="Goodwill")
    assert refund.amount == order.total and refund.actor_kind == "staff"
    assert order.events.get(action="refund").note == f"Refunded {order.total} USD to the buyer. Goodwill"


def test_refund_orders_statements_do_not_grow_with_the_batch(shop):
    def batch(n):
        orders = [_cancelled(paid_order(shop)) for _ in range(n)]
        with CaptureQueriesContext(connection) as queries:
            assert actions.refund_orders(order_ids=[o.pk for o in orders], actor=POLICY, explain=EXPLAIN,
                                         explain_time="cancelled_at") == n
        return len(queries)

    assert batch(2) == batch(12)
