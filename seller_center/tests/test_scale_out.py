"""Two qcluster processes sharing one Redis queue apply the rules exactly once."""

import os
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from orders.models import Order, OrderEvent
from orders.tests.factories import make_order
from shops.tests.factories import ShopFactory

ROOT = Path(__file__).resolve().parents[2]


def _redis_url():
    url = os.environ.get("REDIS_TEST_URL", "")
    if not url:
        reason = "set REDIS_TEST_URL=redis://127.0.0.1:6379/15 to run the scale-out test"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI needs the scale-out test: {reason}")
        pytest.skip(reason)
    try:
        import redis

        redis.from_url(url).ping()
    except Exception as exc:
        pytest.fail(f"Redis at {url} is not answering: {exc}") if os.environ.get("CI") == "true" else pytest.skip(str(exc))
    return url


@pytest.mark.django_db(transaction=True)
def test_two_qclusters_on_redis_cancel_each_unpaid_order_once(on_postgres):
    redis_url = _redis_url()
    shop = ShopFactory()
    orders = [make_order(shop, paid=False, placed_at=timezone.now() - timedelta(hours=30)) for _ in range(40)]
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "REDIS_URL": redis_url,
        "Q_CLUSTER_NAME": f"scale-{uuid.uuid4().hex[:8]}",
        "Q_WORKERS": "2",
        "DJANGO_SETTINGS_MODULE": "seller_center.settings",
    }
    clusters = [
        subprocess.Popen([sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(2)
    ]
    try:
        # Ten copies of the same run, as if the schedule fired on every machine at once.
        enqueue = (
            "from django_q.tasks import async_task\n"
            "for _ in range(10): async_task('seller_center.policies.run_all_task')\n"
        )
        subprocess.run([sys.executable, "manage.py", "shell", "-c", enqueue], cwd=ROOT, env=env, check=True, timeout=60)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            from django_q.models import Task

            if Task.objects.filter(cluster=env["Q_CLUSTER_NAME"]).count() >= 10:
                break
            time.sleep(0.5)
        from django_q.models import Task

        tasks = Task.objects.filter(cluster=env["Q_CLUSTER_NAME"])
        assert tasks.count() == 10, "not every queued run finished"
        assert all(t.success for t in tasks), [t.result for t in tasks if not t.success]
    finally:
        for proc in clusters:
            proc.terminate()
        for proc in clusters:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
    ids = [o.pk for o in orders]
    assert Order.objects.filter(pk__in=ids, status=Order.Status.CANCELLED).count() == len(ids)
    assert OrderEvent.objects.filter(order_id__in=ids, action="cancel").count() == len(ids)
