"""The only code that changes an order's state.

Each action locks the rows it changes, checks the move against transitions.TRANSITIONS,
writes one history row per order and keeps the per-shop status counters exact in the
same transaction. Bulk actions are set-based: a fixed number of queries for any number
of orders, and each order is either fully applied or refused with a reason.

One module per concept: intake (the storefront's orders and payments), moves (one order's
moves), confirm, cancellation, deadlines (flags, pauses, recomputed windows), notes
(history rows and messages that change no status), counters, stock, results. Callers
import from here (`orders.actions.confirm_order`); the modules import each other directly.
"""

from .cancellation import (
    SELLER_CANCEL_REASONS,
    cancel_due_orders,
    cancel_in_transit,
    cancel_order,
    cancel_orders,
)
from .confirm import confirm_order, confirm_orders
from .counters import bump_status_counts
from .deadlines import flag_orders, pause_deadlines, pause_for_holiday, recompute_deadlines
from .intake import pay_order, receive_order
from .moves import arrange_shipment, arrange_shipments, complete_order, mark_delivered, mark_in_transit
from .notes import add_note, post_message, record_event
from .results import ActionRefused, BulkResult
from .tags import create_tag, pin_note, tag_orders

__all__ = [
    "SELLER_CANCEL_REASONS",
    "ActionRefused",
    "BulkResult",
    "add_note",
    "arrange_shipment",
    "arrange_shipments",
    "bump_status_counts",
    "cancel_due_orders",
    "cancel_in_transit",
    "cancel_order",
    "cancel_orders",
    "complete_order",
    "confirm_order",
    "confirm_orders",
    "create_tag",
    "flag_orders",
    "mark_delivered",
    "mark_in_transit",
    "pause_deadlines",
    "pin_note",
    "pause_for_holiday",
    "pay_order",
    "receive_order",
    "recompute_deadlines",
    "record_event",
    "post_message",
    "tag_orders",
]
