"""The only code that changes packages, prints, photos and tickets.

An order moves only through orders.actions, and only from sync_order (sync.py): when every
package of an order is ready, it is arranged (awaiting collection); when every one is with
the carrier, in transit; when every one is delivered, delivered.

One module per concept: packages (the split, the unsplit order's one package, the platform's
numbers), handover (ship by platform, ready for handover), ship (ship by seller, many rows),
tracking_numbers (one package's own number, its correction), disputes (a number two shops
entered: staff rule, the feed is held meanwhile), printing, photos, flags (the platform's
markers and staff moves), tickets (complaints, force majeure), sync, events.
Callers import from here (`shipping.actions.mark_ready`); the modules import each other directly.
"""

from core.actor import Actor
from orders.actions import ActionRefused

from ..transitions import InvalidPackageMove
from .bulk import MAX_BULK, arrange_orders, handover_choice, mark_orders_ready
from .combine import combine_orders, uncombine, void_label
from .flags import (
    flag_late_collection,
    follow_window,
    mark_delayed,
    mark_lost,
    order_override_refusal,
    staff_move_packages,
)
from .handover import PICKUP_SLOT_HOURS, arrange_platform_shipment, mark_all_ready, mark_ready, pickup_slots
from .packages import MAX_PACKAGES, create_packages, ensure_packages
from .photos import add_handover_photo
from .printing import MAX_PRINT, record_print, set_label_note
from .ship import PROMISED_TRANSIT, ShipReport, ShipRow, ship_package, ship_packages
from .sync import order_moves, sync_order
from .tickets import file_complaint, file_force_majeure, rule_ticket
from .tracking_numbers import correct_tracking, set_tracking

__all__ = [
    "MAX_BULK",
    "MAX_PRINT",
    "arrange_orders",
    "combine_orders",
    "uncombine",
    "void_label",
    "handover_choice",
    "mark_orders_ready",
    "MAX_PACKAGES",
    "PICKUP_SLOT_HOURS",
    "PROMISED_TRANSIT",
    "ActionRefused",
    "Actor",
    "InvalidPackageMove",
    "ShipReport",
    "ShipRow",
    "add_handover_photo",
    "arrange_platform_shipment",
    "correct_tracking",
    "create_packages",
    "ensure_packages",
    "file_complaint",
    "file_force_majeure",
    "flag_late_collection",
    "follow_window",
    "mark_all_ready",
    "mark_delayed",
    "mark_lost",
    "mark_ready",
    "order_moves",
    "order_override_refusal",
    "pickup_slots",
    "record_print",
    "rule_ticket",
    "set_label_note",
    "set_tracking",
    "ship_package",
    "ship_packages",
    "staff_move_packages",
    "sync_order",
]
