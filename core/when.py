"""Dates and times as people read them: one style for every page, email and label, in the active
language (CLDR patterns through Babel) and a time zone said out loud.

The time zone is the current one (`django.utils.timezone`): seller pages run in the shop's
(`{% timezone shop.time_zone %}` and shops.access.shop_required), the buyer's page and emails in
the shop's too (orders.language.buyer_language), so no page mixes UTC with local times.

Styles:
- "datetime" (the default): "Dec 7, 2026, 6:18 PM EST", "8 thg 12, 2026 06:18 GMT+7"
- "short": the same without the year and the zone, for lists where both are plain ("Dec 7, 6:18 PM")
- "date": "Dec 7, 2026"; "day": "Dec 7"; "time": "6:18 PM"
"""

from datetime import date, datetime
from functools import lru_cache

from babel.dates import format_date
from babel.dates import format_datetime as babel_format_datetime
from django.utils import timezone

from .money import babel_locale

STYLES = ("datetime", "short", "date", "day", "time")


@lru_cache(maxsize=256)
def _pattern(locale, style):
    """The CLDR pattern of a style in a locale (looked up once per pair)."""
    date_full = locale.datetime_skeletons["yMMMd"].pattern
    date_day = locale.datetime_skeletons["MMMd"].pattern
    time = locale.time_formats["short"].pattern
    if style == "date":
        return date_full
    if style == "day":
        return date_day
    if style == "time":
        return time
    combine = str(locale.datetime_formats["medium"])
    return combine.replace("{1}", date_full if style == "datetime" else date_day).replace("{0}", time)


def zone_label(value, locale):
    """The zone of an aware datetime as a reader knows it: its abbreviation where it has letters
    (EST, CET, WIB, GMT), else its offset in the locale's GMT format ("GMT+7", "GMT+5:30")."""
    name = value.tzname() or ""
    if name.isalpha():
        return name
    offset = value.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    text = f"{sign}{hours}" + (f":{rest:02d}" if rest else "") if minutes else ""
    gmt = locale.zone_formats.get("gmt", "GMT%s") if hasattr(locale, "zone_formats") else "GMT%s"
    return gmt % text if "%s" in gmt else f"GMT{text}"


def format_when(value, style="datetime", *, language=None, tz=None):
    """`value` (an aware datetime, or a date) in one of STYLES, in the active or given language
    and the current or given time zone; "" for None."""
    if value is None or value == "":
        return ""
    style = style if style in STYLES else "datetime"
    locale = babel_locale(language)
    if isinstance(value, datetime):
        if timezone.is_naive(value):
            value = timezone.make_aware(value, timezone.get_default_timezone())
        value = value.astimezone(tz or timezone.get_current_timezone())
        text = babel_format_datetime(value, _pattern(locale, style), locale=locale)
        if style == "datetime":
            text = f"{text} {zone_label(value, locale)}"
        return text
    if isinstance(value, date):
        return format_date(value, _pattern(locale, "day" if style == "day" else "date"), locale=locale)
    return str(value)
