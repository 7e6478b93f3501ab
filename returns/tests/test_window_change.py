"""A new window version moves the open deadlines derived from it: a request's answer-by
(P11, twice for an extended one), an approved return's ship-back-by (P13), a shipped-back
return's refund-by (P14), a ready package's collect-by (P3); and the next policy run uses them."""

from datetime import timedelta

import pytest
from django.utils import timezone

from core.actor import Actor
from seller_center import policies
from shipping import actions as shipping_actions
from shipping.tests.factories import arranged, order_to_ship

from .. import actions
from ..models import BuyerRequest
from .factories import delivered_order, open_return

pytestmark = pytest.mark.django_db
R = BuyerRequest.Status
H = timedelta(hours=1)


def _refreshed(obj):
    obj.refresh_from_db()
    return obj


def test_new_p11_window_moves_open_answer_deadlines_and_the_next_run_uses_them(admin_client, shop, seller):
    plain = open_return(delivered_order(shop))
    extended = actions.extend_deadline(request=open_return(delivered_order(shop)), actor=Actor.seller(seller))
    answered = actions.reject_request(request=open_return(delivered_order(shop)), actor=Actor.seller(seller),
                                      reason="no_defect")
    assert plain.respond_by == plain.created_at + 48 * H
    assert extended.respond_by == extended.created_at + 96 * H

    response = admin_client.post("/admin/shops/policywindow/add/",
                                 {"rule": "P11", "hours": "24", "enabled": "on", "note": "faster answers"})
    assert response.status_code == 302
    from django.contrib.messages import get_messages

    assert any("requests' deadlines derived from it follow it" in str(m) for m in get_messages(response.wsgi_request))
    plain, extended, answered_after = _refreshed(plain), _refreshed(extended), _refreshed(answered)
    assert plain.respond_by == plain.created_at + 24 * H
    assert extended.respond_by == extended.created_at + 48 * H
    assert answered_after.respond_by == answered.respond_by  # closed: nothing moves

    row = plain.events.get(action="deadlines_recomputed")
    assert row.actor_kind == "staff" and row.label == "Deadline moved (new platform window)"
    assert row.note == "The platform now gives sellers 1 day to answer; the answer deadline moved with it."
    assert row.data["before"] == (plain.created_at + 48 * H).isoformat()
    assert row.data["after"] == plain.respond_by.isoformat() and row.data["window"]["version"] == 1
    assert row.why == ""  # not "not answered within": this row says the window changed
    assert not answered.events.filter(action="deadlines_recomputed").exists()

    # The next P11 run approves at the new deadline, not the old one.
    run = policies.run(as_of=plain.created_at + 25 * H, only={"P11"})
    assert [line["count"] for line in run] == [1]
    assert _refreshed(plain).status == R.APPROVED and _refreshed(extended).status == R.REQUESTED

    # The buyer and the seller read the new deadline on the request's timeline.
    page = admin_client.get(f"/admin/returns/buyerrequest/{extended.pk}/change/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "deadlines_recomputed" in body  # staff read the action as recorded, with the rule's data
    assert "The platform now gives sellers 1 day to answer; the answer deadline moved with it." in body


def test_window_changes_move_ship_back_refund_and_collection_deadlines(shop, seller):
    seller_actor = Actor.seller(seller)
    approved = actions.approve_request(request=open_return(delivered_order(shop)), actor=seller_actor)
    shipped = actions.approve_request(request=open_return(delivered_order(shop)), actor=seller_actor)
    shipped = actions.ship_back(request=shipped, carrier="UPS", tracking="1Z-RET-1")
    order = order_to_ship(shop)
    (pkg,) = arranged(order)
    pkg = shipping_actions.mark_ready(package=pkg, actor=seller_actor)
    ship_back_by, refund_by, collect_by = approved.ship_back_by, shipped.refund_by, pkg.collect_by

    policies.change_window(rule="P13", hours=7 * 24 + 48, note="holidays")
    policies.change_window(rule="P14", hours=5 * 24, note="faster refunds")
    policies.change_window(rule="P3", hours=24, note="carrier capacity")
    assert _refreshed(approved).ship_back_by == ship_back_by + 48 * H
    assert _refreshed(shipped).refund_by == refund_by - 5 * 24 * H
    assert _refreshed(pkg).collect_by == collect_by - 24 * H == pkg.ready_at + 24 * H
    assert approved.events.get(action="deadlines_recomputed").actor_kind == "policy"  # no user: the platform
    # A window change that keeps the hours (switching a rule off) moves nothing.
    policies.change_window(rule="P13", hours=7 * 24 + 48, enabled=False, note="off")
    assert approved.events.filter(action="deadlines_recomputed").count() == 1


def test_force_majeure_pause_stays_in_a_deadline_when_the_window_changes(shop, seller, admin_user):
    request = open_return(delivered_order(shop))
    pause = 30 * H
    actions.pause_request_deadlines(order_ids=[request.order_id], pause=pause, actor=Actor.staff(admin_user),
                                    at=timezone.now())
    policies.change_window(rule="P11", hours=72, user=admin_user, note="slower")
    assert _refreshed(request).respond_by == request.created_at + 72 * H + pause
