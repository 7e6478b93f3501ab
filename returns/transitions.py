"""The allowed moves of a buyer request, as data: {action: (from_states, to_state, kinds)}.

Actions check one request against this table; P11 reads the same from-states to find the
requests it may approve.
"""

from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from core.refusals import Refused
from orders import transitions as order_transitions
from orders.models import Order

from .models import BuyerRequest

R = BuyerRequest.Status
K = BuyerRequest.Kind
ALL_KINDS = frozenset(K.values)

TRANSITIONS: dict[str, tuple[frozenset, str, frozenset]] = {
    "approve": (frozenset({R.REQUESTED}), R.APPROVED, ALL_KINDS),
    "reject": (frozenset({R.REQUESTED}), R.REJECTED, ALL_KINDS),
    # The seller may push the answer deadline back once (P11); the status does not change.
    "extend": (frozenset({R.REQUESTED}), R.REQUESTED, ALL_KINDS),
    # Until the item is on its way back the buyer may change their mind.
    "withdraw": (frozenset({R.REQUESTED, R.APPROVED}), R.WITHDRAWN, ALL_KINDS),
    "ship_back": (frozenset({R.APPROVED}), R.RETURN_SHIPPED, frozenset({K.RETURN})),
    "receive": (frozenset({R.RETURN_SHIPPED}), R.RECEIVED, frozenset({K.RETURN})),
    # A return is refunded once the item is back; the other kinds as soon as approved.
    "refund": (frozenset({R.RECEIVED}), R.REFUNDED, frozenset({K.RETURN})),
    "refund_approved": (frozenset({R.APPROVED}), R.REFUNDED, frozenset({K.CANCEL, K.REFUND_ONLY})),
    # Platform staff may overrule a rejection and refund a return the seller never confirmed.
    "staff_approve": (frozenset({R.REQUESTED, R.REJECTED}), R.APPROVED, ALL_KINDS),
    # The seller says the item did not come back, or not as sent (empty box, used, another
    # item): staff rule, and P14 does not refund it meanwhile.
    "dispute": (frozenset({R.RETURN_SHIPPED, R.RECEIVED}), R.DISPUTED, frozenset({K.RETURN})),
    "staff_refund": (frozenset({R.APPROVED, R.RETURN_SHIPPED, R.RECEIVED, R.DISPUTED}), R.REFUNDED,
                     frozenset({K.RETURN})),
    "staff_reject": (frozenset({R.DISPUTED}), R.REJECTED, frozenset({K.RETURN})),
    # The platform's rules on returns: an approved return the buyer never ships back closes
    # (P13); one the buyer shipped and the seller never refunded is refunded in full (P14).
    "lapse": (frozenset({R.APPROVED}), R.LAPSED, frozenset({K.RETURN})),
    "auto_refund": (frozenset({R.RETURN_SHIPPED, R.RECEIVED}), R.REFUNDED, frozenset({K.RETURN})),
}
# --- the named sets of statuses: every query, view, admin and template reads these.
# Waiting for the seller's answer, else approved by the platform (P11).
AWAITING_ANSWER = TRANSITIONS["approve"][0]
# An approved return waiting for the buyer to ship it back, else closed (P13; returns only).
AWAITING_SHIP_BACK = TRANSITIONS["lapse"][0]
# A return on its way back or back: waiting for the seller's refund, else the platform's (P14).
AWAITING_REFUND = TRANSITIONS["auto_refund"][0]
# Open: not closed yet. One at a time per order (the request_one_open_per_order constraint).
OPEN = frozenset({R.REQUESTED, R.APPROVED, R.RETURN_SHIPPED, R.RECEIVED, R.DISPUTED})
# Requests whose quantities still count against what the buyer bought.
COUNTING = OPEN | {R.REFUNDED}

# Moves only the platform makes: its staff, or its rules.
STAFF_ONLY = frozenset({"staff_approve", "staff_refund", "staff_reject", "lapse", "auto_refund"})

# What the order must be for a new request of each kind.
ORDER_STATES_FOR_KIND = {
    # Paid, not yet with the carrier (an unpaid order simply lapses under P1).
    K.CANCEL: order_transitions.PRE_HANDOVER,
    K.REFUND_ONLY: frozenset({Order.Status.DELIVERED}),
    K.RETURN: frozenset({Order.Status.DELIVERED}),
}

_PAST = {
    "approve": pgettext_lazy("cannot be", "approved"),
    "reject": pgettext_lazy("cannot be", "rejected"),
    "extend": pgettext_lazy("cannot be", "extended"),
    "withdraw": pgettext_lazy("cannot be", "withdrawn"),
    "ship_back": pgettext_lazy("cannot be", "marked as shipped back"),
    "receive": pgettext_lazy("cannot be", "marked as received"),
    "refund": pgettext_lazy("cannot be", "refunded"),
    "refund_approved": pgettext_lazy("cannot be", "refunded"),
    "staff_approve": pgettext_lazy("cannot be", "approved"),
    "staff_refund": pgettext_lazy("cannot be", "refunded"),
    "dispute": pgettext_lazy("cannot be", "disputed"),
    "staff_reject": pgettext_lazy("cannot be", "rejected"),
    "lapse": pgettext_lazy("cannot be", "closed as not shipped back"),
    "auto_refund": pgettext_lazy("cannot be", "refunded by the platform"),
}


class InvalidTransition(Refused):
    """An action the request's status or kind does not allow."""

    def __init__(self, action, request):
        self.action, self.from_status = action, request.status  # the status the move was tried from
        label = BuyerRequest.Status(request.status).label.lower()
        kind = BuyerRequest.Kind(request.kind).label.lower()
        kinds = TRANSITIONS[action][2]
        if request.kind not in kinds:
            reason = _("Request %(number)s is %(status)s; a %(kind)s request cannot be %(done)s.")
        else:
            reason = _("Request %(number)s is %(status)s; it cannot be %(done)s now.")
        super().__init__(reason % {"number": request.number, "status": label, "kind": kind, "done": _PAST[action]})


def allowed(action, request, staff=False):
    if action in STAFF_ONLY and not staff:
        return False
    sources, _, kinds = TRANSITIONS[action]
    if request.status not in sources or request.kind not in kinds:
        return False
    if action == "extend" and request.extended_at is not None:
        return False
    return True


def from_states(action):
    return TRANSITIONS[action][0]


def check(action, request, staff=False):
    """Return the status the action leads to, or raise InvalidTransition."""
    if action not in TRANSITIONS:
        raise KeyError(f"Unknown request action {action!r}")
    sources, target, kinds = TRANSITIONS[action]
    if action in STAFF_ONLY and not staff:
        raise InvalidTransition(action, request)
    if request.status not in sources or request.kind not in kinds:
        raise InvalidTransition(action, request)
    return target
