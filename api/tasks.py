"""django-q2 entry points of the api app."""

from django.conf import settings

from . import outbox


def pump_seconds():
    """How long one pump runs: just under the schedule's minute, and inside the cluster's task
    timeout (a task running past it is killed and retried, which would cut every pump short)."""
    timeout = settings.Q_CLUSTER.get("timeout") or 60
    return max(5, min(55, timeout - 5))


def pump_webhooks():
    """Sequence the change feed and deliver webhooks for up to 55 seconds; the schedule starts one a
    minute, so while one runs a delivery leaves within about a quarter of a second of its commit."""
    return outbox.pump(seconds=pump_seconds())
