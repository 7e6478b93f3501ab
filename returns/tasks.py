"""django-q2 entry points of returns."""

from django.utils import timezone

from shops import policy_windows

from . import actions, policies


def auto_approve_unanswered(as_of=None):
    """P11 on its own (the policy runner also calls it with every other rule)."""
    window = policy_windows.window("P11")
    if not window.enabled:
        return 0
    return policies.auto_approve_unanswered(as_of=as_of or timezone.now(), window=window)


def refund_cancelled_paid(as_of=None):
    window = policy_windows.window("P10")
    if not window.enabled:
        return 0
    return policies.refund_cancelled_paid(as_of=as_of or timezone.now(), window=window)


def send_return_link(order_id):
    return actions.send_return_link(order_id=order_id)
