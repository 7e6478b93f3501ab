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

    def explain(self):
        return {"rule": self.rule, "version": self.version, "window_hours": str(self.hours)}


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
