"""The allowed moves of an order, as data.

Actions check one order against this table; policies read the same from-states to move
thousands of rows with one UPDATE ... WHERE status IN (...).
"""

from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from core.refusals import Refused

from .models import Order

S = Order.Status

TRANSITIONS: dict[str, tuple[frozenset, str]] = {
    "pay": (frozenset({S.UNPAID}), S.AWAITING_CONFIRMATION),
    "confirm": (frozenset({S.AWAITING_CONFIRMATION}), S.AWAITING_SHIPMENT),
    "arrange_shipment": (frozenset({S.AWAITING_SHIPMENT}), S.AWAITING_COLLECTION),
    # Ship by seller may hand over straight from awaiting shipment.
    "mark_in_transit": (frozenset({S.AWAITING_SHIPMENT, S.AWAITING_COLLECTION}), S.IN_TRANSIT),
    "mark_delivered": (frozenset({S.IN_TRANSIT}), S.DELIVERED),
    "complete": (frozenset({S.DELIVERED}), S.COMPLETED),
    # Before the carrier has the parcel, the order may still be cancelled.
    "cancel": (frozenset({S.UNPAID, S.AWAITING_CONFIRMATION, S.AWAITING_SHIPMENT, S.AWAITING_COLLECTION}),
               S.CANCELLED),
    # Lost or abnormal delivery (P10): the platform cancels and refunds.
    "cancel_in_transit": (frozenset({S.IN_TRANSIT}), S.CANCELLED),
}

# --- the named sets of statuses: every query, SQL text, view, admin and template reads these.
# Placed and not yet with the carrier: the deadlines run and the order may be cancelled.
CANCELLABLE = TRANSITIONS["cancel"][0]
# Paid and not yet with the carrier (P4, P5; a buyer may ask to cancel).
PRE_HANDOVER = CANCELLABLE - {S.UNPAID}
# Paid and not yet packed for the carrier: the ship-by deadline applies (P2).
BEFORE_SHIPMENT = TRANSITIONS["confirm"][0] | TRANSITIONS["arrange_shipment"][0]
# Confirmed and still to hand to the carrier: the orders the shipping pages work on.
TO_SHIP = TRANSITIONS["mark_in_transit"][0]
# Stock is reserved from confirmation until the carrier collects.
RESERVING = TO_SHIP
# With the carrier or past it: in transit, delivered or completed (too late to cancel).
HANDED_OVER = TRANSITIONS["mark_delivered"][0] | {S.DELIVERED, S.COMPLETED}
# Paid and not yet delivered: the orders a force-majeure ticket may pause.
IN_FULFILLMENT = PRE_HANDOVER | TRANSITIONS["mark_delivered"][0]

ACTION_LABELS = {
    "pay": "mark paid",
    "confirm": "confirm",
    "arrange_shipment": "arrange shipment",
    "mark_in_transit": "mark in transit",
    "mark_delivered": "mark delivered",
    "complete": "complete",
    "cancel": "cancel",
    "cancel_in_transit": "cancel an order in transit",
}


class InvalidTransition(Refused):
    """An action that the order's current status does not allow."""

    def __init__(self, action, status, number=None):
        self.action, self.status, self.number = action, status, number
        label = S(status).label.lower() if status in S.values else status
        done = _past(action)
        if action == "cancel" and status in HANDED_OVER:
            reason = (_("Order %(number)s is %(status)s; it cannot be %(done)s once it is with the carrier.") if number
                      else _("This order is %(status)s; it cannot be %(done)s once it is with the carrier."))
        else:
            reason = (_("Order %(number)s is %(status)s; it cannot be %(done)s.") if number
                      else _("This order is %(status)s; it cannot be %(done)s."))
        super().__init__(reason % {"number": number, "status": label, "done": done})


def _past(action):
    return _PAST.get(action, action)


# Translators: what an order "cannot be" when its status does not allow the action.
_PAST = {
    "pay": pgettext_lazy("cannot be", "marked paid"),
    "confirm": pgettext_lazy("cannot be", "confirmed"),
    "arrange_shipment": pgettext_lazy("cannot be", "arranged for shipment"),
    "mark_in_transit": pgettext_lazy("cannot be", "marked in transit"),
    "mark_delivered": pgettext_lazy("cannot be", "marked delivered"),
    "complete": pgettext_lazy("cannot be", "completed"),
    "cancel": pgettext_lazy("cannot be", "cancelled"),
    "cancel_in_transit": pgettext_lazy("cannot be", "cancelled as lost (it is not in transit)"),
}


def from_states(action):
    return TRANSITIONS[action][0]


def allowed(action, status):
    return status in TRANSITIONS[action][0]


def check(action, status, number=None):
    """Return the status the action leads to, or raise InvalidTransition."""
    if action not in TRANSITIONS:
        raise KeyError(f"Unknown order action {action!r}")
    sources, target = TRANSITIONS[action]
    if status not in sources:
        raise InvalidTransition(action, status, number)
    return target
