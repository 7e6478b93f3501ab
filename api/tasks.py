"""django-q2 entry points of the api app."""

from . import outbox


def pump_webhooks():
    """Sequence the change feed and deliver webhooks for 55 seconds; the schedule starts one a
    minute, so deliveries leave within about a quarter of a second of their commit while one runs."""
    return outbox.pump(seconds=55)
