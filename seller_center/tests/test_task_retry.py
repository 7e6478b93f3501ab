"""A policy run whose worker is killed half-way is handed out again within a minute and
finishes the work, and a run is never carried out twice at once (settings.Q_CLUSTER,
core.locks.run_alone)."""

import os
import signal
import threading
import time
from datetime import timedelta

import psycopg
import pytest
from django.conf import settings
from django.db import connection, connections
from django.utils import timezone

from core.locks import run_alone
from orders.models import Order, OrderEvent
from orders.tests.factories import make_order
from seller_center import policies
from shops.tests.factories import ShopFactory
from tests.services import cluster_env, database_url, manage, redis_url, start_cluster, stop_cluster


def test_the_queue_hands_a_lost_task_out_again_within_a_minute_and_never_during_its_run():
    q = settings.Q_CLUSTER
    assert "orm" in q and "redis" not in q  # the Redis broker has no receipts: a killed task would be lost
    assert q["timeout"] < q["retry"] < 60
    assert q["max_attempts"] > 1 and not q["ack_failures"]


def _holder(key):
    """Whether another session can take run_alone(key) while this one holds it."""
    out = []

    def other():
        try:
            with run_alone(key) as alone:
                out.append(alone)
        finally:
            connections.close_all()

    thread = threading.Thread(target=other)
    thread.start()
    thread.join()
    return out[0]


@pytest.mark.django_db
def test_run_alone_lets_one_process_in_at_a_time():
    with run_alone("test-job") as first:
        assert first is True
        assert _holder("test-job") is False
        assert _holder("another-job") is True
    assert _holder("test-job") is True


@pytest.mark.django_db
def test_a_policy_run_while_another_holds_the_lock_does_nothing():
    order = make_order(paid=False, placed_at=timezone.now() - timedelta(hours=30))
    with run_alone(policies.RUN_LOCK):
        result = []
        thread = threading.Thread(target=lambda: (result.extend(policies.run_all_task()), connections.close_all()))
        thread.start()
        thread.join()
    assert result == ["skipped: another policy run is in progress"]
    order.refresh_from_db()
    assert order.status == Order.Status.UNPAID
    assert any("unpaid orders cancelled" in line for line in policies.run_all_task())


def _blocked_run_pid(deadline):
    """The pid of the worker whose policy run waits on the table lock (its session names it)."""
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute("SELECT application_name FROM pg_stat_activity WHERE application_name LIKE %s "
                           "AND wait_event_type = 'Lock'", [f"{policies.RUN_LOCK} pid %"])
            row = cursor.fetchone()
        if row:
            return int(row[0].rsplit(" ", 1)[1])
        time.sleep(0.2)
    pytest.fail("the policy run never started")


@pytest.mark.django_db(transaction=True)
def test_a_policy_run_killed_mid_run_is_retried_within_a_minute_and_finishes(on_postgres):
    env = cluster_env(redis_url())
    shop = ShopFactory()
    orders = [make_order(shop, paid=False, placed_at=timezone.now() - timedelta(hours=30)) for _ in range(20)]
    ids = [o.pk for o in orders]
    # Hold the orders table: the run starts, takes its lock and waits on its first rule.
    blocker = psycopg.connect(database_url())
    blocker.execute("LOCK TABLE orders_order IN ACCESS EXCLUSIVE MODE")
    cluster = start_cluster(env)
    try:
        manage(env, "shell", "-c", "from django_q.tasks import async_task\n"
                                   "async_task('seller_center.policies.run_all_task')\n")
        pid = _blocked_run_pid(time.monotonic() + 60)
        os.kill(pid, signal.SIGKILL)
        killed_at = timezone.now()
        blocker.rollback()  # the killed worker's session gets the table, finds its client gone and ends
        blocker.close()
        from django_q.models import OrmQ, Task

        deadline = time.monotonic() + 100
        while time.monotonic() < deadline and not Task.objects.filter(cluster=env["Q_CLUSTER_NAME"]).exists():
            time.sleep(0.5)
        task = Task.objects.get(cluster=env["Q_CLUSTER_NAME"])
    finally:
        stop_cluster(cluster)
    assert task.success, task.result
    assert task.attempt_count == 1  # the killed attempt reported nothing
    # The retry's cancellations carry the time its run began (its as-of).
    retried_at = OrderEvent.objects.filter(order_id__in=ids, action="cancel").earliest("at").at
    waited = (retried_at - killed_at).total_seconds()
    assert 0 < waited < 60, waited
    assert not OrmQ.objects.filter(key=env["Q_CLUSTER_NAME"]).exists()  # acknowledged
    assert "P1 v0 (24 h): 20 unpaid orders cancelled" in task.result
    assert Order.objects.filter(pk__in=ids, status=Order.Status.CANCELLED).count() == len(ids)
    assert OrderEvent.objects.filter(order_id__in=ids, action="cancel").count() == len(ids)
    print(f"retried {waited:.1f} s after the kill")
