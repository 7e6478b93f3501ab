"""Two qcluster processes sharing one queue (in PostgreSQL, Redis as the cache) apply the rules exactly once."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from orders.models import Order, OrderEvent
from orders.tests.factories import make_order
from shops.tests.factories import ShopFactory
from tests.services import cluster_env, manage, redis_url, start_cluster, stop_cluster


@pytest.mark.django_db(transaction=True)
def test_two_qclusters_cancel_each_unpaid_order_once(on_postgres):
    env = cluster_env(redis_url())
    shop = ShopFactory()
    orders = [make_order(shop, paid=False, placed_at=timezone.now() - timedelta(hours=30)) for _ in range(40)]
    clusters = [start_cluster(env) for _ in range(2)]
    try:
        # Ten copies of the same run, as if the schedule fired on every machine at once.
        manage(env, "shell", "-c", "from django_q.tasks import async_task\n"
                                   "for _ in range(10): async_task('seller_center.policies.run_all_task')\n")
        from django_q.models import Task

        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if Task.objects.filter(cluster=env["Q_CLUSTER_NAME"]).count() >= 10:
                break
            time.sleep(0.5)
        tasks = Task.objects.filter(cluster=env["Q_CLUSTER_NAME"])
        assert tasks.count() == 10, "not every queued run finished"
        assert all(t.success for t in tasks), [t.result for t in tasks if not t.success]
    finally:
        for proc in clusters:
            stop_cluster(proc)
    ids = [o.pk for o in orders]
    assert Order.objects.filter(pk__in=ids, status=Order.Status.CANCELLED).count() == len(ids)
    assert OrderEvent.objects.filter(order_id__in=ids, action="cancel").count() == len(ids)
