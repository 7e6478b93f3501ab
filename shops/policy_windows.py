"""The current window of each platform rule: defaults from SPEC, overridden by the newest
PolicyWindow version staff have added."""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.db import transaction

from .models import PolicyWindow

# rule: (default hours or count, what it is)
DEFAULTS = {
    "P1": (Decimal(24), "Unpaid order auto-cancelled after the payment window (hours)"),
    "P2": (Decimal(72), "Ready or shipped within this many hours of placement, else late dispatch"),
    "P3": (Decimal(48), "Carrier collects / seller drops off within this many hours of ready-to-ship"),
    "P4": (Decimal(120), "Handover shown within this many hours of placement, else overdue"),
    "P5": (Decimal(15 * 24), "No tracking update this many hours after placement: cancel and refund"),
    "P6": (Decimal(2), "Failed delivery attempts before a package is Lost (a count, not hours)"),
    "P7": (Decimal(12 * 24), "Receipt not acknowledged this many hours after order creation: Lost"),
    "P8": (Decimal(14 * 24), "Ship by seller: not received this many hours after shipment: Lost"),
    "P9": (Decimal(0), "Grace after the promised delivery date before Delayed (hours)"),
    "P10": (Decimal(1), "Abnormal delivery cancels and refunds the order (1 = on)"),
    "P11": (Decimal(48), "Unanswered request auto-approved after this many hours"),
    "P12": (Decimal(1), "Approved force-majeure tickets pause deadlines (1 = on)"),
    # Beyond the seeds: a return never ends half-way.
    "P13": (Decimal(7 * 24), "Approved return not shipped back by the buyer within this many hours: closed"),
    "P14": (Decimal(10 * 24), "Return shipped back and not refunded by the seller within this many hours: refunded"),
}


# What each rule means to a seller or a buyer, in their words; {window} is the window in
# words ("15 days", "48 hours"). Rule ids and versions are for staff (the admin).
IN_WORDS = {
    "P1": "the order was not paid within {window} of checkout",
    "P2": "the order was not ready or shipped within {window} of being placed",
    "P3": "the package was not collected or dropped off within {window} of being ready",
    "P4": "the order was not handed to the carrier within {window} of being placed",
    "P5": "the order had no tracking update within {window} of being placed",
    "P6": "delivery failed {window} times",
    "P7": "the buyer did not confirm receipt within {window} of the order",
    "P8": "the package was not received within {window} of being shipped",
    "P9": "the package is past its promised delivery date",
    "P10": "the delivery was lost or abnormal",
    "P11": "the request was not answered within {window}",
    "P12": "a force-majeure event was approved",
    "P13": "the return was not shipped back within {window} of its approval",
    "P14": "the return was not refunded within {window} of being shipped back",
}


@dataclass(frozen=True)
class Window:
    rule: str
    version: int  # 0 = the SPEC default, never changed by staff
    hours: Decimal
    enabled: bool = True

    @property
    def delta(self):
        return timedelta(hours=float(self.hours))

    @property
    def display(self):
        """The window in words: '24 h', '2 attempts', 'on'."""
        if self.rule == "P6":
            return f"{self.hours.normalize():f} attempts"
        if self.rule in ("P10", "P12"):
            return "on" if self.hours else "off"
        return f"{self.hours.normalize():f} h"

    @property
    def words(self):
        """The window as a seller reads it: '15 days', '48 hours', '2' (P6 counts attempts)."""
        if self.rule == "P6":
            return f"{self.hours.normalize():f}"
        hours = self.hours.normalize()
        if hours and hours % 24 == 0:
            days = int(hours // 24)
            return f"{days} day{'s' if days != 1 else ''}"
        return f"{hours:f} hour{'s' if hours != 1 else ''}"

    @property
    def reason(self):
        """Why the platform acted, in words: 'the order was not paid within 24 hours of checkout'."""
        return IN_WORDS.get(self.rule, "a platform rule applied").format(window=self.words)

    def explain(self):
        return {"rule": self.rule, "version": self.version, "window_hours": str(self.hours)}


def from_explain(data):
    """The Window an automated action recorded (its explain() in the history data), or None."""
    try:
        return Window(data["rule"], int(data.get("version", 0)), Decimal(str(data["window_hours"])))
    except (KeyError, TypeError, ValueError, ArithmeticError):
        return None


def current():
    """Every rule's window now: one query."""
    windows = {rule: Window(rule, 0, hours) for rule, (hours, _) in DEFAULTS.items()}
    seen = set()
    for w in PolicyWindow.objects.order_by("rule", "-version"):
        if w.rule not in seen:
            seen.add(w.rule)
            windows[w.rule] = Window(w.rule, w.version, w.hours, w.enabled)
    return windows


def window(rule):
    w = PolicyWindow.objects.filter(rule=rule).order_by("-version").first()
    return Window(rule, w.version, w.hours, w.enabled) if w else Window(rule, 0, DEFAULTS[rule][0])


@transaction.atomic
def add_version(*, rule, hours, user=None, note="", enabled=True):
    """Staff change a window: the next version; earlier runs keep the version they used."""
    if rule not in DEFAULTS:
        raise ValueError(f"Unknown rule {rule}")
    last = PolicyWindow.objects.select_for_update().filter(rule=rule).order_by("-version").first()
    return PolicyWindow.objects.create(
        rule=rule, version=(last.version if last else 0) + 1, hours=hours, enabled=enabled, created_by=user, note=note
    )
