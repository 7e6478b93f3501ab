import re
import threading
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from core.actor import Actor
from orders import actions
from orders.models import Order, OrderEvent
from orders.tests.factories import advance, make_order
from orders.tests.test_actions import counts_match_group_by
from seller_center import policies
from shops import policy_windows
from shops.models import Notification
from shops.tests.factories import ShopFactory
from tests.pages import fetch_both, texts

pytestmark = pytest.mark.django_db
S = Order.Status
H = timedelta(hours=1)
EPS = timedelta(seconds=1)


def run(rule, as_of, **kw):
    return {line["func"].rsplit(".", 1)[1]: line["count"] for line in policies.run(as_of=as_of, only={rule}, **kw)}


def test_p1_cancels_unpaid_just_after_the_window_not_before():
    order = make_order(paid=False)
    deadline = order.placed_at + 24 * H
    assert order.auto_cancel_at == deadline
    assert run("P1", deadline - EPS)["cancel_unpaid"] == 0
    assert run("P1", deadline)["cancel_unpaid"] == 1
    order.refresh_from_db()
    assert order.status == S.CANCELLED and order.cancel_reason == "unpaid"
    event = order.events.get(action="cancel")
    assert event.actor_kind == "policy" and event.actor_label == "P1"
    assert event.data["rule"] == "P1" and event.data["version"] == 0 and event.data["deadline"] == deadline.isoformat()
    assert order.messages.filter(body__icontains="not paid in time").exists()


def test_p1_run_twice_changes_nothing_the_second_time():
    for _ in range(3):
        make_order(paid=False, placed_at=timezone.now() - 30 * H)
    as_of = timezone.now()
    assert run("P1", as_of)["cancel_unpaid"] == 3
    events = OrderEvent.objects.count()
    assert run("P1", as_of)["cancel_unpaid"] == 0
    assert OrderEvent.objects.count() == events
    assert counts_match_group_by()


def test_p2_flags_late_dispatch_once_at_ship_by():
    order = make_order()
    assert run("P2", order.ship_by - EPS)["flag_late_dispatch"] == 0
    assert run("P2", order.ship_by)["flag_late_dispatch"] == 1
    assert run("P2", order.ship_by + 10 * H)["flag_late_dispatch"] == 0
    order.refresh_from_db()
    assert order.late_dispatch_at == order.ship_by and order.status == S.AWAITING_CONFIRMATION
    assert order.events.filter(action="late_dispatch").count() == 1
    assert Notification.objects.filter(shop=order.shop, kind="policy", text__contains="late dispatch").exists()


def test_p2_ignores_orders_ready_for_collection():
    order = advance(make_order(), S.AWAITING_COLLECTION)
    assert run("P2", order.ship_by + H)["flag_late_dispatch"] == 0


def test_p4_flags_handover_overdue_at_120_hours():
    order = advance(make_order(), S.AWAITING_COLLECTION)
    deadline = order.placed_at + 120 * H
    assert run("P4", deadline - EPS)["flag_handover_overdue"] == 0
    assert run("P4", deadline)["flag_handover_overdue"] == 1
    order.refresh_from_db()
    assert order.handover_overdue_at == deadline


def test_p5_reminds_daily_then_cancels_at_15_days():
    order = make_order()
    late = order.ship_by + H
    assert run("P5", late)["remind_untracked"] == 1
    assert run("P5", late + 2 * H)["remind_untracked"] == 0  # once a day
    assert run("P5", late + 24 * H)["remind_untracked"] == 1
    assert Notification.objects.filter(shop=order.shop, kind="reminder").count() == 2
    deadline = order.placed_at + 15 * 24 * H
    assert run("P5", deadline - EPS)["cancel_untracked"] == 0
    assert run("P5", deadline)["cancel_untracked"] == 1
    order.refresh_from_db()
    assert order.status == S.CANCELLED and order.cancel_reason == "no_tracking"


def test_p5_leaves_orders_handed_to_the_carrier():
    order = advance(make_order(), S.IN_TRANSIT)
    assert run("P5", order.placed_at + 30 * 24 * H)["cancel_untracked"] == 0


def test_dry_run_counts_and_changes_nothing():
    order = make_order(paid=False, placed_at=timezone.now() - 30 * H)
    assert run("P1", timezone.now(), dry_run=True)["cancel_unpaid"] == 1
    order.refresh_from_db()
    assert order.status == S.UNPAID


def test_window_version_change_applies_to_later_runs_only():
    early = make_order(paid=False, placed_at=timezone.now() - 30 * H)
    run("P1", timezone.now())
    early.refresh_from_db()
    assert early.events.get(action="cancel").data["version"] == 0
    later = make_order(paid=False, placed_at=timezone.now() - 30 * H)
    policies.change_window(rule="P1", hours=48, note="holiday season")
    later.refresh_from_db()
    assert later.auto_cancel_at == later.placed_at + 48 * H
    assert run("P1", timezone.now())["cancel_unpaid"] == 0
    assert run("P1", later.placed_at + 48 * H)["cancel_unpaid"] == 1
    later.refresh_from_db()
    assert later.events.get(action="cancel").data["version"] == 1
    assert early.events.get(action="cancel").data["version"] == 0  # history keeps the version it used
    assert policy_windows.window("P1").version == 1


def test_disabled_rule_does_nothing():
    make_order(paid=False, placed_at=timezone.now() - 30 * H)
    policies.change_window(rule="P1", hours=24, enabled=False, note="off for an incident")
    lines = policies.run(as_of=timezone.now(), only={"P1"})
    assert [line["text"] for line in lines] == ["P1 v1: off"]
    assert Order.objects.filter(status=S.UNPAID).count() == 1


def test_force_majeure_pause_holds_deadlines():
    order = make_order()
    until = timezone.now() + 48 * H
    actions.pause_deadlines(order_ids=[order.pk], until=until, actor=Actor.policy("P12"), note="flood")
    order.refresh_from_db()
    assert run("P2", order.ship_by - 10 * H)["flag_late_dispatch"] == 0
    assert run("P2", until - H)["flag_late_dispatch"] == 0  # paused, even past the old ship-by
    assert order.events.filter(action="deadlines_paused").exists()


def test_apply_policies_command_prints_one_line_per_rule(capsys):
    make_order(paid=False, placed_at=timezone.now() - 30 * H)
    call_command("apply_policies", "--rule", "P1", "--dry-run")
    out = capsys.readouterr().out
    assert "P1 v0 (24 h): 1 would be unpaid orders cancelled" in out
    call_command("apply_policies", "--at", timezone.now().isoformat(), "--rule", "P1")
    assert "1 unpaid orders cancelled" in capsys.readouterr().out


@pytest.mark.django_db(transaction=True)
def test_two_runners_at_once_cancel_each_order_exactly_once(on_postgres):
    shop = ShopFactory()
    orders = [make_order(shop, paid=False, placed_at=timezone.now() - 30 * H) for _ in range(60)]
    as_of = timezone.now()
    barrier = threading.Barrier(2)
    totals, errors = [], []

    def runner():
        try:
            barrier.wait()
            totals.append(run("P1", as_of, batch_size=7)["cancel_unpaid"])
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=runner) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert sum(totals) == len(orders)
    assert OrderEvent.objects.filter(action="cancel").count() == len(orders)
    assert counts_match_group_by()


def test_order_page_explains_a_policy_status(seller_client, shop):
    from django.urls import reverse

    order = make_order(shop, paid=False, placed_at=timezone.now() - 30 * H)
    run("P1", timezone.now())
    url = reverse("orders:detail", kwargs={"shop": shop.slug, "number": order.number})
    for page in texts(*fetch_both(seller_client, url, "order-main")):
        assert "Why: The order was not paid within 1 day of checkout (deadline" in page
        assert "by the platform" in page
        assert not re.search(r"\bP1\b|window version|Cancel_unpaid", page)


def test_board_shows_orders_about_to_be_auto_cancelled(seller_client, shop):
    from django.urls import reverse

    order = make_order(shop, paid=False, placed_at=timezone.now() - 10 * H)
    board, partial = fetch_both(seller_client, reverse("orders:board", kwargs={"shop": shop.slug}), "board")
    cards = {c["card"].key: c["count"] for c in board.context["cards"]}
    assert cards["auto_cancel_24h"] == 1
    for body in texts(board, partial):
        assert '?board=auto_cancel_24h&amp;sort=newest">\n      <span class="board-count">1</span>' in body
    listing, rows = fetch_both(seller_client, reverse("orders:list", kwargs={"shop": shop.slug}) + "?board=auto_cancel_24h",
                               "results")
    assert len(listing.context["orders"]) == 1
    assert f'aria-label="Select order {order.number}"' in rows.content.decode()
