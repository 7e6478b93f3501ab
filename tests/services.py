"""Outside services some tests run against (Redis, task clusters in their own processes)."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[1]


def redis_url():
    """REDIS_TEST_URL, answering; the test is skipped without it (failed under CI=true)."""
    url = os.environ.get("REDIS_TEST_URL", "")
    ci = os.environ.get("CI", "").lower() == "true"
    if not url:
        reason = "set REDIS_TEST_URL=redis://127.0.0.1:6379/15 to run the task-cluster tests"
        if ci:
            pytest.fail(f"CI needs the task-cluster tests: {reason}")
        pytest.skip(reason)
    try:
        import redis

        redis.from_url(url).ping()
    except Exception as exc:
        if ci:
            pytest.fail(f"Redis at {url} is not answering: {exc}")
        pytest.skip(f"Redis at {url} is not answering: {exc}")
    return url


def database_url():
    """The test database (PostgreSQL) as a DATABASE_URL for a child process."""
    db = connection.settings_dict
    return f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def cluster_env(redis, **more):
    """The environment of a production-like child process on the test database: PostgreSQL,
    Redis as the cache, a task cluster of its own name."""
    return {
        **os.environ,
        "DATABASE_URL": database_url(),
        "REDIS_URL": redis,
        "Q_CLUSTER_NAME": f"test-{uuid.uuid4().hex[:8]}",
        "Q_WORKERS": "2",
        "DJANGO_SETTINGS_MODULE": "seller_center.settings",
        **more,
    }


def manage(env, *args, **kw):
    """Run `manage.py *args` in a child process and wait for it."""
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, timeout=120, **kw)


def start_cluster(env):
    """A qcluster in its own process group (so the test can stop all of it)."""
    return subprocess.Popen([sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def stop_cluster(proc):
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        proc.wait()
