"""The only code that changes requests, refunds and order messages.

Each action locks the request first and then its order (the same order everywhere, P11
included, so two writers never deadlock), checks the move against transitions.TRANSITIONS,
writes one RequestEvent and one order history row, and tells the other side: the seller
through the bell (and email), the buyer through a message on the order (and email).

One module per concept: opening (the buyer asks), answers (approve, reject, extend),
follow_up (withdraw, ship back, receipt, dispute, reminders, lapse), refunds, deadlines
(force-majeure pauses, changed windows), messages (the order's messages, the return link),
reasons, moves (the request's move and timeline row), notices (telling each side).
Callers import from here (`returns.actions.approve_request`); the modules import each other directly.
"""

from core.actor import Actor
from orders.actions import ActionRefused

from .answers import approve_request, extend_deadline, reject_request
from .deadlines import WINDOW_DEADLINES, follow_window, pause_request_deadlines
from .follow_up import (
    confirm_receipt,
    dispute_return,
    lapse_return,
    remind_refund,
    remind_ship_back,
    ship_back,
    withdraw_request,
)
from .messages import TooManyMessages, post_message, send_return_link
from .opening import TooManyRequests, check_request_limits, open_request
from .reasons import DISPUTE_REASONS, reject_reasons
from .refunds import refund_order, refund_orders, refund_request

__all__ = [
    "DISPUTE_REASONS",
    "WINDOW_DEADLINES",
    "ActionRefused",
    "Actor",
    "TooManyMessages",
    "TooManyRequests",
    "approve_request",
    "check_request_limits",
    "confirm_receipt",
    "dispute_return",
    "extend_deadline",
    "follow_window",
    "lapse_return",
    "open_request",
    "pause_request_deadlines",
    "post_message",
    "refund_order",
    "refund_orders",
    "refund_request",
    "reject_reasons",
    "reject_request",
    "remind_refund",
    "remind_ship_back",
    "send_return_link",
    "ship_back",
    "withdraw_request",
]
