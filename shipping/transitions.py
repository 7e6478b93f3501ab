"""The allowed moves of a package, as data.

Seller and platform moves are a table like the order's. Carrier feed moves are ranked
instead: an event moves a package only forward (a higher rank), or sideways within the
last-mile rank when it is newer, so a late or repeated event never moves it back.
"""

from datetime import timedelta

from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from core.refusals import Refused

from .models import Package, TrackingEvent

P = Package.Status
T = TrackingEvent.Tag

CORRECTION_WINDOW = timedelta(hours=72)

# --- the named sets of statuses: every query, view, admin and template reads these.
# Still with the seller: being packed, or ready and waiting for the carrier.
AT_SELLER = frozenset({P.PACKING, P.READY})
# With the carrier: collected, dropped off or shipped, and not yet delivered or lost.
WITH_CARRIER = frozenset({P.COLLECTED, P.IN_TRANSIT, P.OUT_FOR_DELIVERY, P.AVAILABLE_FOR_PICKUP,
                          P.FAILED_ATTEMPT, P.EXCEPTION})
# The carrier has it or delivered it.
HANDED_OVER = WITH_CARRIER | {P.DELIVERED}
# The carrier had it at some point: handed over, or lost since.
REACHED_CARRIER = HANDED_OVER | {P.LOST}
# Out of the flow without a delivery: lost, or replaced by a re-split.
GONE = frozenset({P.LOST, P.VOID})
# Nothing moves the package on from here.
FINAL = GONE | {P.DELIVERED}
# Counted as ready for the order: every active package at least ready.
READY_OR_LATER = HANDED_OVER | {P.READY}

TRANSITIONS: dict[str, tuple[frozenset, str | None]] = {
    "mark_ready": (frozenset({P.PACKING}), P.READY),
    "ship": (AT_SELLER, P.COLLECTED),  # ship by seller: handed to their carrier
    "set_tracking": (AT_SELLER, None),  # None: the status stays
    "edit_label": (AT_SELLER, None),
    "void": (frozenset({P.PACKING}), P.VOID),  # replaced by a re-split
    "mark_lost": (WITH_CARRIER, P.LOST),
    "mark_delayed": (WITH_CARRIER, None),
    "add_photo": (AT_SELLER | {P.COLLECTED, P.IN_TRANSIT}, None),
    # Platform staff, when the carrier's feed is missing or wrong (with a reason).
    "staff_collected": (frozenset({P.READY}), P.COLLECTED),
    "staff_delivered": (WITH_CARRIER, P.DELIVERED),
}

_PAST = {
    "mark_ready": pgettext_lazy("cannot be", "marked ready"),
    "ship": pgettext_lazy("cannot be", "marked shipped"),
    "set_tracking": pgettext_lazy("cannot be", "given a tracking number"),
    "edit_label": pgettext_lazy("cannot be", "relabelled"),
    "void": pgettext_lazy("cannot be", "replaced"),
    "mark_lost": pgettext_lazy("cannot be", "declared lost"),
    "mark_delayed": pgettext_lazy("cannot be", "marked delayed"),
    "add_photo": pgettext_lazy("cannot be", "given handover photos"),
    "staff_collected": pgettext_lazy("cannot be", "marked collected"),
    "staff_delivered": pgettext_lazy("cannot be", "marked delivered"),
}

# Feed ranks: a package never moves to a lower rank. Rank 4 is the last mile, where the
# carrier may go back and forth (out for delivery, failed, at a pickup point), so there
# the newer event wins.
RANK = {
    P.PACKING: 0, P.READY: 1, P.COLLECTED: 2, P.IN_TRANSIT: 3,
    P.OUT_FOR_DELIVERY: 4, P.AVAILABLE_FOR_PICKUP: 4, P.FAILED_ATTEMPT: 4, P.EXCEPTION: 4,
    P.DELIVERED: 6, P.LOST: 7, P.VOID: 8,
}
LAST_MILE = 4


def tag_status(tag, subtag=""):
    """The package status a carrier event means, or None for a tag that moves nothing."""
    if tag == T.IN_TRANSIT:
        # AfterShip InTransit_002: "accepted by carrier", i.e. picked up.
        return P.COLLECTED if subtag == "InTransit_002" else P.IN_TRANSIT
    return {
        T.OUT_FOR_DELIVERY: P.OUT_FOR_DELIVERY,
        T.AVAILABLE_FOR_PICKUP: P.AVAILABLE_FOR_PICKUP,
        T.ATTEMPT_FAIL: P.FAILED_ATTEMPT,
        T.EXCEPTION: P.EXCEPTION,
        T.DELIVERED: P.DELIVERED,
    }.get(tag)


def feed_moves(current, current_at, new, new_at):
    """Whether a carrier event saying `new` at `new_at` moves a package that is `current`
    since `current_at`."""
    if new is None or current in FINAL:
        return False
    if current == P.PACKING:
        # The carrier scanned a box the seller never marked ready: it has it all the same.
        return RANK[new] >= RANK[P.COLLECTED]
    if RANK[new] > RANK[current]:
        return True
    return RANK[new] == RANK[current] == LAST_MILE and new != current and (current_at is None or new_at > current_at)


class InvalidPackageMove(Refused):
    def __init__(self, action, package):
        self.action, self.from_status = action, package.status  # the status the move was tried from
        label = P(package.status).label.lower()
        super().__init__(_("Package %(seq)s of order %(number)s is %(status)s; it cannot be %(done)s.") % {
            "seq": package.seq, "number": package.order.number, "status": label, "done": _PAST.get(action, action)})


def allowed(action, status):
    return status in TRANSITIONS[action][0]


def check(action, package):
    """Return the status the action leads to (or the current one), or raise."""
    sources, target = TRANSITIONS[action]
    if package.status not in sources:
        raise InvalidPackageMove(action, package)
    return target or package.status
