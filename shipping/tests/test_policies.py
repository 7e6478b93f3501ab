"""Shipping's timed rules (P3, P6-P10) just before and just after their windows, run twice."""

from datetime import timedelta

import pytest
from django.utils import timezone

from orders.models import Order
from orders.tests.test_actions import counts_match_group_by
from seller_center import policies
from shipping import actions
from shipping.models import Package
from shipping.tests.factories import ACTOR, arranged, event, feed, order_to_ship, refreshed, ups_number

pytestmark = pytest.mark.django_db
P = Package.Status
S = Order.Status
EPS = timedelta(seconds=1)


def run(rule, as_of, func=None):
    lines = policies.run(as_of=as_of, only={rule})
    counts = {line["func"].rsplit(".", 1)[1]: line["count"] for line in lines}
    return counts[func] if func else counts


def collected_package(model="PLATFORM", at=None):
    order = order_to_ship(model=model)
    if model == "SELLER":
        (pkg,) = actions.ensure_packages(order, ACTOR)
        actions.ship_package(package=pkg, carrier="ups", tracking_number=ups_number(), actor=ACTOR)
    else:
        (pkg,) = arranged(order)
        actions.mark_ready(package=refreshed(pkg), actor=ACTOR)
        feed(event(refreshed(pkg), "InTransit", subtag="InTransit_002", at=at or timezone.now()))
    return refreshed(pkg), refreshed(order)


def test_p3_flags_a_ready_package_not_collected_in_48_hours():
    order = order_to_ship()
    (pkg,) = arranged(order)
    actions.mark_ready(package=refreshed(pkg), actor=ACTOR)
    pkg = refreshed(pkg)
    assert run("P3", pkg.collect_by - EPS, "flag_late_collection") == 0
    assert run("P3", pkg.collect_by, "flag_late_collection") == 1
    assert run("P3", pkg.collect_by + timedelta(hours=5), "flag_late_collection") == 0
    pkg = refreshed(pkg)
    assert pkg.late_collection_at == pkg.collect_by
    assert pkg.events.get(action="late_collection").data["rule"] == "P3"


def test_p9_marks_delayed_past_the_promised_date_once():
    pkg, _ = collected_package()
    promised = pkg.promised_delivery_at
    assert promised is not None
    assert run("P9", promised - EPS, "mark_delayed") == 0
    assert run("P9", promised, "mark_delayed") == 1
    assert run("P9", promised + timedelta(days=1), "mark_delayed") == 0
    assert refreshed(pkg).is_delayed


def test_p6_two_failed_attempts_make_the_package_lost_and_p10_cancels_the_order():
    pkg, order = collected_package()
    now = timezone.now()
    feed(event(pkg, "AttemptFail", at=now + timedelta(hours=1)))
    assert run("P6", now + timedelta(hours=2), "lost_after_failed_attempts") == 0
    feed(event(pkg, "AttemptFail", at=now + timedelta(hours=26)))
    assert refreshed(pkg).failed_attempts == 2
    assert run("P6", now + timedelta(hours=27), "lost_after_failed_attempts") == 1
    assert refreshed(pkg).status == P.LOST
    assert refreshed(order).status == S.IN_TRANSIT
    assert run("P10", now + timedelta(hours=28), "cancel_abnormal") == 1
    order = refreshed(order)
    assert order.status == S.CANCELLED and order.cancel_reason == "delivery_failed"
    assert order.events.get(action="cancel_in_transit").actor_label == "P10"
    assert run("P10", now + timedelta(hours=29), "cancel_abnormal") == 0
    assert counts_match_group_by()
    # The refund rule (run with P10, after the cancellation) refunded the buyer in full, once.
    from returns.models import Refund

    assert run("P10", now + timedelta(hours=31), "refund_cancelled_paid") == 0
    refund = Refund.objects.get(order=order)
    assert refund.amount == order.total


def test_p7_lost_when_not_received_12_days_after_the_order():
    pkg, order = collected_package()
    deadline = order.placed_at + timedelta(days=12)
    assert run("P7", deadline - EPS, "lost_unacknowledged") == 0
    assert run("P7", deadline, "lost_unacknowledged") == 1
    assert refreshed(pkg).status == P.LOST


def test_p8_ship_by_seller_lost_14_days_after_shipment_unless_p7_fires_first():
    pkg, order = collected_package(model="SELLER")
    deadline = pkg.collected_at + timedelta(days=14)
    assert run("P8", deadline - EPS, "lost_seller_shipped") == 0
    assert run("P8", deadline, "lost_seller_shipped") == 1
    assert refreshed(pkg).status == P.LOST


def test_delivered_packages_are_never_lost_or_delayed():
    pkg, order = collected_package()
    feed(event(pkg, "Delivered", at=timezone.now() + timedelta(hours=2)))
    later = timezone.now() + timedelta(days=40)
    counts = {**run("P6", later), **run("P7", later), **run("P9", later)}
    assert not any(counts.values()), counts
    assert refreshed(order).status == S.DELIVERED


def test_force_majeure_pause_holds_package_rules():
    from orders import actions as order_actions

    pkg, order = collected_package()
    until = timezone.now() + timedelta(days=30)
    order_actions.pause_deadlines(order_ids=[order.pk], until=until, actor=ACTOR, note="storm")
    assert run("P7", order.placed_at + timedelta(days=13), "lost_unacknowledged") == 0
    assert refreshed(pkg).status != P.LOST


def test_full_run_twice_changes_nothing_the_second_time():
    for _ in range(2):
        collected_package()
    later = timezone.now() + timedelta(days=20)
    first = policies.run(as_of=later)
    assert sum(line["count"] for line in first) > 0
    second = policies.run(as_of=later)
    assert sum(line["count"] for line in second) == 0, [line["text"] for line in second if line["count"]]


def test_every_automated_action_notifies_the_seller():
    from shops.models import Notification

    pkg, order = collected_package()
    run("P7", order.placed_at + timedelta(days=12))
    run("P10", order.placed_at + timedelta(days=12, hours=1))
    texts = list(Notification.objects.filter(shop=order.shop).values_list("kind", "text"))
    assert any(kind == "shipping" and "package(s): Not received" in text for kind, text in texts), texts
    assert any(kind == "policy" and "lost in delivery" in text for kind, text in texts), texts
    assert not any(rule in text for rule in ("P7", "P10") for _, text in texts), texts  # rule ids are for staff
    assert refreshed(order).messages.filter(sender="platform", body__icontains="cancelled").exists()  # the buyer


def test_cancelled_orders_packages_are_not_chased_for_late_collection():
    from orders import actions as order_actions

    order = order_to_ship()
    (pkg,) = arranged(order)
    actions.mark_ready(package=refreshed(pkg), actor=ACTOR)
    pkg = refreshed(pkg)
    order_actions.cancel_order(order=refreshed(order), actor=ACTOR, reason=Order.CancelReason.BUYER_REQUESTED)
    later = pkg.collect_by + timedelta(hours=1)
    assert run("P3", later, "flag_late_collection") == 0
    assert refreshed(pkg).late_collection_at is None
    assert not Package.objects.for_shop(order.shop).late_to_collect(later).exists()
