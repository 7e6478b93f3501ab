"""Shop health (SPEC "Shop health and insight"): the rates a platform judges a shop by, over
a period and week by week, and a demand forecast per SKU with a restock hint.

It reads every app's data (orders, packages, requests), so it lives in the top package.
Every figure is one aggregate query over indexed ranges of the shop's rows, so the page
costs the same few queries whatever the shop's size.
"""

import math
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.db.models import Avg, Count, F, Q, Sum
from django.db.models.functions import TruncWeek
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from orders.models import Order, OrderLine
from returns.models import BuyerRequest
from shipping.models import Package
from shipping.transitions import REACHED_CARRIER
from shops.models import SKU

PERIODS = (7, 30, 90)  # days a seller can look back over
WEEKS = 12  # the charts
FORECAST_DAYS = 14  # what the forecast covers
HISTORY_DAYS = 28  # the sales it is drawn from
COVER_TARGET_DAYS = 28  # a restock hint brings the stock up to this many days of sales
S = Order.Status
R = Order.CancelReason
P = Package.Status
# Cancellations the shop caused: its own (not "buyer asked"), and the platform's for a
# parcel the shop never handed over (P5). Unpaid orders and carrier losses are not the shop's.
SELLER_CAUSED = [R.OUT_OF_STOCK, R.DAMAGED_OR_EXPIRED, R.PRICING_ERROR, R.OTHER, R.NO_TRACKING]


@dataclass(frozen=True)
class Rate:
    label: str
    numerator: int
    denominator: int
    good_when_low: bool
    explain: str

    @property
    def percent(self):
        return None if not self.denominator else Decimal(100 * self.numerator / self.denominator).quantize(Decimal("0.1"))


# An order cancelled before its ship-by time never had to ship: not due, not late.
_not_cancelled_before = Q(cancelled_at__isnull=True) | Q(cancelled_at__gte=F("ship_by"))


def _rate(label, num, den, good_when_low, explain):
    return Rate(label, num or 0, den or 0, good_when_low, explain)


def figures(shop, *, days, parts=("summary", "weeks", "forecast")):
    """What the page shows, each part computed at most once per HEALTH_CACHE_SECONDS (600)
    per shop (the rates per period too): on a 200,000-order shop the three reads take about
    0.7 s, and these are trends, not a live count (the page says when they were computed).
    The period switch (HTMX) asks for the rates only."""
    from django.conf import settings
    from django.core.cache import cache

    compute = {
        "summary": lambda now: summary(shop, days=days, now=now),
        "weeks": lambda now: weekly(shop, now=now),
        "forecast": lambda now: forecast(shop, now=now),
    }
    seconds = getattr(settings, "HEALTH_CACHE_SECONDS", 600)
    out, oldest = {}, None
    for part in parts:
        key = f"shop-health:{shop.pk}:{shop.time_zone}:{part}" + (f":{days}" if part == "summary" else "")
        cached = cache.get(key) if seconds else None
        if cached is None:
            now = timezone.now()
            cached = (compute[part](now), now)
            if seconds:
                cache.set(key, cached, seconds)
        out[part], at = cached
        oldest = at if oldest is None else min(oldest, at)
    out["computed_at"] = oldest
    return out


def summary(shop, *, days, now=None):
    """The shop's rates over the last `days` days, and its average handling time."""
    now = now or timezone.now()
    start = now - timedelta(days=days)
    orders = Order.objects.for_shop(shop)
    o = orders.aggregate(
        paid=Count("pk", filter=Q(placed_at__gte=start, paid_at__isnull=False)),
        seller_cancelled=Count("pk", filter=Q(placed_at__gte=start, paid_at__isnull=False, status=S.CANCELLED,
                                              cancel_reason__in=SELLER_CAUSED)),
        due=Count("pk", filter=Q(ship_by__gte=start, ship_by__lt=now, paid_at__isnull=False) & _not_cancelled_before),
        late=Count("pk", filter=Q(ship_by__gte=start, ship_by__lt=now, paid_at__isnull=False,
                                  late_dispatch_at__isnull=False)),
        delivered=Count("pk", filter=Q(delivered_at__gte=start)),
        handling=Avg(F("shipped_at") - F("paid_at"), filter=Q(shipped_at__gte=start, paid_at__isnull=False)),
    )
    p = Package.objects.for_shop(shop).aggregate(
        delivered=Count("pk", filter=Q(status=P.DELIVERED, delivered_at__gte=start,
                                       promised_delivery_at__isnull=False)),
        on_time=Count("pk", filter=Q(status=P.DELIVERED, delivered_at__gte=start,
                                     delivered_at__lte=F("promised_delivery_at"))),
        handed_over=Count("pk", filter=Q(collected_at__gte=start, status__in=REACHED_CARRIER)),
        lost=Count("pk", filter=Q(collected_at__gte=start, status=P.LOST)),
    )
    returns = BuyerRequest.objects.for_shop(shop).filter(
        created_at__gte=start, kind__in=[BuyerRequest.Kind.RETURN, BuyerRequest.Kind.REFUND_ONLY]
    ).count()
    rates = [
        _rate(_("Late dispatch rate"), o["late"], o["due"], True,
              _("Paid orders whose ship-by time fell in the period and were not ready or shipped by then (P2).")),
        _rate(_("Cancellation rate (shop-caused)"), o["seller_cancelled"], o["paid"], True,
              _("Paid orders placed in the period that the shop cancelled, or the platform cancelled for no "
              "tracking (P5). Buyer-asked, unpaid and carrier-lost cancellations do not count.")),
        _rate(_("On-time delivery rate"), p["on_time"], p["delivered"], False,
              _("Packages delivered in the period by their promised delivery date.")),
        _rate(_("Lost rate"), p["lost"], p["handed_over"], True,
              _("Packages handed to the carrier in the period that were declared lost.")),
        _rate(_("Return rate"), returns, o["delivered"], True,
              _("Return and refund requests opened in the period, per order delivered in the period.")),
    ]
    return {"rates": rates, "handling": _duration(o["handling"]), "start": start, "now": now}


def _duration(delta):
    """'1 d 4 h', '5 h 12 min', or None."""
    if delta is None:
        return None
    if not isinstance(delta, timedelta):  # SQLite hands the average back in microseconds
        delta = timedelta(microseconds=float(delta))
    minutes = int(delta.total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    # Lazy: the figures are cached, and each reader reads them in their own language.
    return _duration_words(days, hours, minutes)


def _duration_text(days, hours, minutes):
    if days:
        return gettext("%(d)s d %(h)s h") % {"d": days, "h": hours}
    return gettext("%(h)s h %(m)s min") % {"h": hours, "m": minutes}


_duration_words = lazy(_duration_text, str)


def weekly(shop, *, weeks=WEEKS, now=None):
    """Week by week (in the shop's time zone), oldest first: paid orders, the shop-caused
    cancellation and late dispatch rates, and the on-time delivery rate."""
    now = now or timezone.now()
    tz = shop.tzinfo
    start = now - timedelta(weeks=weeks)
    week = TruncWeek("placed_at", tzinfo=tz)
    rows = {
        r["week"]: r
        for r in Order.objects.for_shop(shop).filter(placed_at__gte=start, paid_at__isnull=False)
        .annotate(week=week).values("week").order_by("week")
        .annotate(paid=Count("pk"),
                  cancelled=Count("pk", filter=Q(status=S.CANCELLED, cancel_reason__in=SELLER_CAUSED)),
                  due=Count("pk", filter=Q(ship_by__lt=now) & _not_cancelled_before),
                  late=Count("pk", filter=Q(ship_by__lt=now, late_dispatch_at__isnull=False)))
    }
    deliveries = {
        r["week"]: r
        for r in Package.objects.for_shop(shop).filter(status=P.DELIVERED, delivered_at__gte=start,
                                                       promised_delivery_at__isnull=False)
        .annotate(week=TruncWeek("delivered_at", tzinfo=tz)).values("week").order_by("week")
        .annotate(delivered=Count("pk"), on_time=Count("pk", filter=Q(delivered_at__lte=F("promised_delivery_at"))))
    }
    first = _monday(now.astimezone(tz)) - timedelta(weeks=weeks - 1)
    series = []
    for i in range(weeks):
        monday = first + timedelta(weeks=i)
        o, d = rows.get(monday, {}), deliveries.get(monday, {})
        cancellation = _rate("", o.get("cancelled"), o.get("paid"), True, "").percent
        late_dispatch = _rate("", o.get("late"), o.get("due"), True, "").percent
        on_time = _rate("", d.get("on_time"), d.get("delivered"), False, "").percent
        series.append({
            "week": monday, "paid": o.get("paid", 0),
            "cancellation": cancellation, "late_dispatch": late_dispatch, "on_time": on_time,
            # (value, colour) per chart column: red for a bad rate, green for a good one
            "bars": [(cancellation, "bad"), (late_dispatch, "bad"), (on_time, "good")],
        })
    return series


def _monday(local):
    day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=day.weekday())


@dataclass(frozen=True)
class Forecast:
    code: str
    name: str
    sold: int  # units in the last HISTORY_DAYS days
    available: int  # on hand, less what confirmed orders hold
    expected: int  # units expected in the next FORECAST_DAYS days
    cover_days: float | None  # how long the available stock lasts at the recent pace
    restock: int  # units to order now (0: enough)


def forecast(shop, *, now=None, limit=25):
    """Demand per SKU from the last four weeks of paid orders (cancelled ones too: they
    were demand), at a steady daily pace: what the next two weeks will take, how long the
    available stock lasts, and how much to reorder to hold four weeks of sales."""
    now = now or timezone.now()
    sold = (
        OrderLine.objects.filter(order__shop=shop, order__paid_at__isnull=False,
                                 order__placed_at__gte=now - timedelta(days=HISTORY_DAYS))
        .values("sku_id").order_by()
        .annotate(units=Sum("quantity")).order_by("-units")[:limit]
    )
    units = {r["sku_id"]: r["units"] for r in sold}
    skus = SKU.objects.for_shop(shop).filter(pk__in=units).only("code", "name", "stock_on_hand", "reserved")
    rows = []
    for sku in skus:
        daily = units[sku.pk] / HISTORY_DAYS
        available = sku.stock_on_hand - sku.reserved
        rows.append(Forecast(
            code=sku.code, name=sku.name, sold=units[sku.pk], available=available,
            expected=math.ceil(daily * FORECAST_DAYS), cover_days=round(available / daily, 1) if daily else None,
            restock=max(math.ceil(daily * COVER_TARGET_DAYS) - available, 0),
        ))
    return sorted(rows, key=lambda f: (f.cover_days if f.cover_days is not None else math.inf, f.code))
