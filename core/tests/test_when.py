"""Dates and times (core.when): the language's own patterns, the current time zone, named."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from django.template import Context, Template
from django.utils import timezone, translation

from core.when import format_when

AT = datetime(2026, 12, 7, 23, 18, tzinfo=UTC)


def _plain(text):
    return text.replace("\u202f", " ").replace("\xa0", " ")


def test_shop_time_zone_and_language():
    with translation.override("vi"), timezone.override(ZoneInfo("Asia/Ho_Chi_Minh")):
        assert format_when(AT) == "06:18 8 thg 12, 2026 GMT+7"  # the next morning in Ho Chi Minh City
        assert format_when(AT, "date") == "8 thg 12, 2026"
        assert format_when(AT, "time") == "06:18"
    with translation.override("en"), timezone.override(ZoneInfo("America/New_York")):
        assert _plain(format_when(AT)) == "Dec 7, 2026, 6:18 PM EST"
        assert _plain(format_when(AT, "short")) == "Dec 7, 6:18 PM"
    with translation.override("th"), timezone.override(ZoneInfo("Asia/Bangkok")):
        assert format_when(AT, "date") == "8 ธ.ค. 2026"
    with translation.override("id"), timezone.override(ZoneInfo("Asia/Jakarta")):
        assert format_when(AT) == "8 Des 2026 06.18 WIB"
    with translation.override("es"), timezone.override(ZoneInfo("Europe/Madrid")):
        assert format_when(AT) == "8 dic 2026, 0:18 CET"


def test_explicit_zone_and_half_hour_offsets():
    with translation.override("en"):
        assert _plain(format_when(AT, tz=ZoneInfo("Asia/Kolkata"))) == "Dec 8, 2026, 4:48 AM IST"
        assert _plain(format_when(AT, tz=ZoneInfo("Asia/Kathmandu"))).endswith("GMT+5:45")
        assert _plain(format_when(AT, tz=UTC)).endswith("UTC")


def test_dates_none_and_the_filter():
    with translation.override("vi"):
        assert format_when(date(2026, 12, 8), "date") == "8 thg 12, 2026"
        assert format_when(None) == ""
        with timezone.override(ZoneInfo("Asia/Ho_Chi_Minh")):
            out = Template('{% load intl %}{{ at|when }}|{{ at|when:"day" }}').render(Context({"at": AT}))
        assert out == "06:18 8 thg 12, 2026 GMT+7|8 thg 12"
        with timezone.override(ZoneInfo("UTC")):
            out = Template('{% load intl tz %}{% timezone "Asia/Bangkok" %}{{ at|when:"time" }}{% endtimezone %}').render(
                Context({"at": AT}))
        assert out == "06:18"
