import threading
from datetime import timedelta

import pytest
from django.db import connection

from core.actor import Actor
from orders.models import Order, OrderEvent
from orders.tests.factories import advance, make_order
from shops import policy_windows
from shops.models import Notification

from .. import actions, policies
from ..models import BuyerRequest, Refund
from .factories import delivered_order, open_cancel, open_return, paid_order

pytestmark = pytest.mark.django_db
R = BuyerRequest.Status
SECOND = timedelta(seconds=1)


@pytest.fixture
def p11():
    return policy_windows.window("P11")


@pytest.fixture
def p10():
    return policy_windows.window("P10")


def test_auto_approve_just_before_the_deadline_does_nothing(shop, p11):
    req = open_return(delivered_order(shop))
    assert policies.auto_approve_unanswered(as_of=req.respond_by - SECOND, window=p11) == 0
    req.refresh_from_db()
    assert req.status == R.REQUESTED


def test_auto_approve_just_after_the_deadline_approves_once(shop, p11):
    req = open_return(delivered_order(shop))
    assert policies.auto_approve_unanswered(as_of=req.respond_by + SECOND, window=p11) == 1
    assert policies.auto_approve_unanswered(as_of=req.respond_by + SECOND, window=p11) == 0
    req.refresh_from_db()
    assert req.status == R.APPROVED
    event = req.events.get(action="approve")
    assert (event.actor_kind, event.actor_label) == ("policy", "P11")
    assert event.data["rule"] == "P11" and event.data["deadline"] == req.respond_by.isoformat()
    assert Notification.objects.filter(shop=shop, kind=Notification.Kind.POLICY, text__contains=req.number).exists()


def test_auto_approve_dry_run_counts_without_changing(shop, p11):
    req = open_return(delivered_order(shop))
    assert policies.auto_approve_unanswered(as_of=req.respond_by, window=p11, dry_run=True) == 1
    req.refresh_from_db()
    assert req.status == R.REQUESTED


def test_auto_approve_waits_for_the_extended_deadline(shop, seller, p11):
    req = open_return(delivered_order(shop))
    first = req.respond_by
    req = actions.extend_deadline(request=req, actor=Actor.seller(seller))
    assert policies.auto_approve_unanswered(as_of=first + SECOND, window=p11) == 0
    assert policies.auto_approve_unanswered(as_of=req.respond_by - SECOND, window=p11) == 0
    assert policies.auto_approve_unanswered(as_of=req.respond_by + SECOND, window=p11) == 1


def test_auto_approve_leaves_answered_requests_alone(shop, seller, p11):
    req = open_return(delivered_order(shop))
    actions.reject_request(request=req, actor=Actor.seller(seller), reason="no_defect")
    assert policies.auto_approve_unanswered(as_of=req.respond_by + timedelta(days=3), window=p11) == 0
    req.refresh_from_db()
    assert req.status == R.REJECTED


def test_auto_approved_cancellation_cancels_and_refunds_exactly_once(shop, p11, p10):
    order = paid_order(shop)
    req = open_cancel(order)
    late = req.respond_by + SECOND
    assert policies.auto_approve_unanswered(as_of=late, window=p11) == 1
    assert policies.auto_approve_unanswered(as_of=late, window=p11) == 0
    # The refund rule runs after P11 in the same run: nothing left for it.
    assert policies.refund_cancelled_paid(as_of=late, window=p10) == 0
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert Refund.objects.filter(order=order).count() == 1
    assert Refund.objects.get(order=order).amount == order.total
    assert OrderEvent.objects.filter(order=order, action="cancel", actor_kind="policy", actor_label="P11").count() == 1


def test_auto_approve_a_cancellation_whose_order_shipped_closes_it_with_the_reason(shop, p11):
    order = paid_order(shop)
    req = open_cancel(order)
    advance(order, Order.Status.IN_TRANSIT)
    assert policies.auto_approve_unanswered(as_of=req.respond_by + SECOND, window=p11) == 0
    req.refresh_from_db()
    assert (req.status, req.reject_reason) == (R.REJECTED, "already_shipped")
    assert not Refund.objects.exists()


def test_auto_approve_refund_only_refunds_the_requested_amount(shop, p11):
    order = delivered_order(shop)
    req = open_return(order, kind="refund_only")
    policies.auto_approve_unanswered(as_of=req.respond_by + SECOND, window=p11)
    req.refresh_from_db()
    assert req.status == R.REFUNDED and Refund.objects.get().amount == req.amount


def test_auto_approve_in_batches(shop, p11):
    reqs = [open_return(delivered_order(shop)) for _ in range(5)]
    late = max(r.respond_by for r in reqs) + SECOND
    assert policies.auto_approve_unanswered(as_of=late, window=p11, batch_size=2) == 5


def test_refund_cancelled_paid_refunds_seller_cancellations_once_and_skips_unpaid(shop, seller, p10):
    paid = paid_order(shop)
    from orders.actions import cancel_order

    cancel_order(order=paid, actor=Actor.seller(seller), reason="out_of_stock")
    unpaid = make_order(shop, paid=False)
    cancel_order(order=unpaid, actor=Actor.seller(seller), reason="pricing_error")
    as_of = paid.placed_at + timedelta(days=1)
    assert policies.refund_cancelled_paid(as_of=as_of, window=p10, dry_run=True) == 1
    assert policies.refund_cancelled_paid(as_of=as_of, window=p10) == 1
    assert policies.refund_cancelled_paid(as_of=as_of, window=p10) == 0
    refund = Refund.objects.get()
    assert (refund.order_id, refund.amount, refund.actor_label) == (paid.pk, paid.total, "P10")


def test_policy_runner_lists_both_rules():
    from seller_center import policies as runner

    funcs = {r.func for r, _ in runner.available()}
    assert {"returns.policies.auto_approve_unanswered", "returns.policies.refund_cancelled_paid"} <= funcs


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_auto_approve_on_two_workers_at_once_refunds_once(on_postgres, shop, p11):
    orders = [paid_order(shop) for _ in range(6)]
    reqs = [open_cancel(o) for o in orders]
    late = max(r.respond_by for r in reqs) + SECOND
    counts, errors = [], []

    def worker():
        try:
            counts.append(policies.auto_approve_unanswered(as_of=late, window=p11, batch_size=2))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sum(counts) == 6
    assert Refund.objects.count() == 6
    assert BuyerRequest.objects.filter(status=R.REFUNDED).count() == 6


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_refund_order_called_twice_at_once_refunds_once(on_postgres, shop):
    order = paid_order(shop)
    barrier = threading.Barrier(3)

    results, errors = [], []

    def worker(actor):
        try:
            barrier.wait()
            results.append(actions.refund_order(order=order, actor=actor))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(Actor.policy(f"P{n}"),)) for n in (5, 10, 11)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert Refund.objects.filter(order=order).count() == 1
    assert len({r.pk for r in results}) == 1


def test_full_run_refunds_the_orders_it_cancels_in_the_same_run(shop):
    from seller_center import policies as runner

    order = paid_order(shop)  # paid, never handed over: P5 cancels it at its deadline
    order.refresh_from_db()
    lines = runner.run(as_of=order.auto_cancel_at)
    counts = {(line["rule"], line["func"].rsplit(".", 1)[1]): line["count"] for line in lines}
    assert counts[("P5", "cancel_untracked")] == 1
    assert counts[("P10", "refund_cancelled_paid")] == 1
    order.refresh_from_db()
    assert order.cancelled_at == order.status_changed_at
    assert Refund.objects.get(order=order).amount == order.total


# --- P13 and P14: every return reaches an end ------------------------------------------------


def _approved_return(shop):
    seller = shop.memberships.get().user
    return actions.approve_request(request=open_return(delivered_order(shop)), actor=Actor.seller(seller))


def test_p13_closes_an_approved_return_not_shipped_back_by_its_deadline_once(shop):
    p13 = policy_windows.window("P13")
    req = _approved_return(shop)
    assert req.ship_back_by == req.answered_at + p13.delta
    assert policies.lapse_unreturned(as_of=req.ship_back_by - SECOND, window=p13) == 0
    assert policies.lapse_unreturned(as_of=req.ship_back_by, window=p13) == 1
    assert policies.lapse_unreturned(as_of=req.ship_back_by + SECOND, window=p13) == 0
    req.refresh_from_db()
    assert req.status == R.LAPSED and req.closed_at is not None
    event = req.events.get(action="lapse")
    assert (event.actor_kind, event.actor_label, event.data["rule"]) == ("policy", "P13", "P13")
    assert event.data["ship_back_by"] == req.ship_back_by.isoformat()
    assert not Refund.objects.filter(order=req.order).exists()
    assert req.order.messages.filter(body__contains=f"{req.number} was closed").exists()
    # Closed, so the order is free for another request while it still allows one.
    assert open_return(req.order).status == R.REQUESTED


def test_p13_leaves_a_return_shipped_back_in_time(shop):
    p13 = policy_windows.window("P13")
    req = actions.ship_back(request=_approved_return(shop), carrier="UPS", tracking="1Z999")
    assert policies.lapse_unreturned(as_of=req.ship_back_by + timedelta(days=1), window=p13) == 0
    req.refresh_from_db()
    assert req.status == R.RETURN_SHIPPED


@pytest.mark.parametrize("received", [False, True])
def test_p14_refunds_in_full_a_shipped_back_return_the_seller_did_not_refund(shop, seller, received):
    p14 = policy_windows.window("P14")
    req = actions.ship_back(request=_approved_return(shop), carrier="UPS", tracking="1Z999")
    assert req.refund_by == req.return_shipped_at + p14.delta
    if received:
        req = actions.confirm_receipt(request=req, actor=Actor.seller(seller))
    assert policies.refund_unrefunded_returns(as_of=req.refund_by - SECOND, window=p14) == 0
    assert policies.refund_unrefunded_returns(as_of=req.refund_by, window=p14) == 1
    assert policies.refund_unrefunded_returns(as_of=req.refund_by + SECOND, window=p14) == 0
    req.refresh_from_db()
    assert req.status == R.REFUNDED
    refund = Refund.objects.get(request=req)
    assert refund.amount == req.amount and refund.actor_label == "P14" and not refund.partial
    event = req.events.get(action="auto_refund")
    assert event.data["rule"] == "P14" and event.data["refund_by"] == req.refund_by.isoformat()
    assert Notification.objects.filter(shop=shop, text__contains=f"refunded return {req.number}").exists()


def test_p14_leaves_a_return_the_seller_refunded(shop, seller):
    p14 = policy_windows.window("P14")
    seller = Actor.seller(seller)
    req = actions.confirm_receipt(request=actions.ship_back(request=_approved_return(shop), carrier="UPS",
                                                            tracking="1Z999"), actor=seller)
    actions.refund_request(request=req, actor=seller, amount="5.00", note="Scuffed")
    assert policies.refund_unrefunded_returns(as_of=req.refund_by + timedelta(days=1), window=p14) == 0
    assert Refund.objects.filter(request=req).count() == 1


def test_sellers_cannot_lapse_or_auto_refund(shop, seller):
    from ..transitions import InvalidTransition

    req = _approved_return(shop)
    with pytest.raises(InvalidTransition):
        actions.refund_request(request=req, actor=Actor.seller(seller))
    assert not req.can("lapse") and req.can("lapse", staff=True)


def test_force_majeure_moves_the_sellers_request_deadlines_not_the_buyers(shop, seller, p11):
    from django.utils import timezone

    from orders.actions import pause_deadlines

    asked = open_return(delivered_order(shop))
    shipped = actions.ship_back(request=_approved_return(shop), carrier="UPS", tracking="1Z1")
    approved = _approved_return(shop)
    before = {r.pk: (r.respond_by, r.refund_by, r.ship_back_by) for r in (asked, shipped, approved)}
    pause = timedelta(days=3)
    pause_deadlines(order_ids=[asked.order_id, shipped.order_id, approved.order_id],
                    until=timezone.now() + pause, actor=Actor.policy("P12"), note="flood")
    for r in (asked, shipped, approved):
        r.refresh_from_db()
    assert asked.respond_by - before[asked.pk][0] >= pause - timedelta(seconds=5)
    assert shipped.refund_by - before[shipped.pk][1] >= pause - timedelta(seconds=5)
    assert approved.ship_back_by == before[approved.pk][2]
    assert asked.events.filter(action="deadline_paused").count() == 1
    assert shipped.events.get(action="deadline_paused").data["field"] == "refund_by"
    assert not approved.events.filter(action="deadline_paused").exists()
    # The old deadline no longer fires P11.
    assert policies.auto_approve_unanswered(as_of=before[asked.pk][0] + SECOND, window=p11) == 0


def test_buyer_is_reminded_once_a_day_before_the_ship_back_deadline(shop):
    p13 = policy_windows.window("P13")
    req = _approved_return(shop)
    day_before = req.ship_back_by - policies.REMIND_BEFORE
    assert policies.remind_ship_back(as_of=day_before - SECOND, window=p13) == 0
    assert policies.remind_ship_back(as_of=day_before, window=p13) == 1
    assert policies.remind_ship_back(as_of=day_before + timedelta(hours=2), window=p13) == 0
    assert req.events.filter(action="remind_ship_back").count() == 1
    assert req.order.messages.filter(body__startswith=f"Reminder: ship return {req.number} back").exists()
    req.refresh_from_db()
    assert req.status == R.APPROVED
    # Past the deadline there is nothing to remind of: the return is closed instead.
    assert policies.remind_ship_back(as_of=req.ship_back_by, window=p13) == 0


def test_seller_is_reminded_once_a_day_before_the_refund_deadline_and_sees_the_card(shop, seller_client):
    from orders import registry

    p14 = policy_windows.window("P14")
    req = actions.ship_back(request=_approved_return(shop), carrier="UPS", tracking="1Z999")
    day_before = req.refund_by - policies.REMIND_BEFORE
    assert policies.remind_refund(as_of=day_before, window=p14) == 1
    assert policies.remind_refund(as_of=day_before + SECOND, window=p14) == 0
    assert Notification.objects.filter(shop=shop, kind=Notification.Kind.REMINDER,
                                       text__contains=f"refund return {req.number}").count() == 1
    card = registry.BOARD_CARDS["returns_auto_refund_24h"]
    assert card.count(shop, day_before - SECOND) == 0 and card.count(shop, day_before + SECOND) == 1
