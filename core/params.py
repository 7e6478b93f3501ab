"""Integers, ids, dates and local URLs from query strings, form fields and URL paths, parsed in one place.

Python's own parsers take more than a page can use: `str.isdigit()` is true for "²", which
int() then refuses; int() takes "٣", " 3 " and "1_000"; a database refuses an id past 2**63
(SQLite raises OverflowError, a 500); `date.max + 1 day` overflows; PostgreSQL refuses NUL in
text. Everything here takes ASCII digits only, within a bounded range, and answers None (or a
form error, or a 400 through `BadParameter`) for anything else.
"""

import re
from datetime import UTC, date, datetime

from django import forms
from django.core.exceptions import BadRequest
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

MAX_ID = 2**63 - 1  # a BigAutoField's largest value, on PostgreSQL and SQLite alike
# The dates a seller may type or a URL may carry: wide enough for any real order, narrow
# enough that a day added or a time zone applied stays inside what datetime and the
# databases can hold.
MIN_DATE = date(1970, 1, 1)
MAX_DATE = date(2999, 12, 31)
MAX_PARAM_LENGTH = 200  # a cursor or an id list item longer than this is not one of ours

_INT = re.compile(r"-?[0-9]{1,19}", re.ASCII)
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})", re.ASCII)
_WHITESPACE = " \t\r\n"
# Characters no local URL, order number or path segment of ours holds.
_CONTROL = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")


class BadParameter(BadRequest):
    """A query or form parameter the view cannot use; Django answers 400."""


def parse_int(value, default=None, *, lo=None, hi=None):
    """`value` (str or int) as an int within [lo, hi], or `default`."""
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _INT.fullmatch(value.strip(_WHITESPACE)):
        number = int(value.strip(_WHITESPACE))
    else:
        return default
    if (lo is not None and number < lo) or (hi is not None and number > hi):
        return default
    return number


def parse_id(value, default=None):
    """A database id (1 .. 2**63-1), or `default`."""
    return parse_int(value, default, lo=1, hi=MAX_ID)


def parse_ids(values, *, limit=None):
    """A list of ids, duplicates dropped, order kept; None when any value is not an id or
    there are more than `limit` of them (the caller refuses the whole request)."""
    values = list(values)
    if limit is not None and len(values) > limit:
        return None
    ids = [parse_id(v) for v in values]
    if any(i is None for i in ids):
        return None
    return list(dict.fromkeys(ids))


def require_int(value, *, lo, hi, name):
    """parse_int or a 400 naming the parameter."""
    number = parse_int(value, lo=lo, hi=hi)
    if number is None:
        raise BadParameter(_("%(name)s must be a whole number from %(lo)s to %(hi)s.") % {"name": name, "lo": lo, "hi": hi})
    return number


def require_id(value, *, name):
    number = parse_id(value)
    if number is None:
        raise BadParameter(_("%(name)s must be an id.") % {"name": name})
    return number


def in_date_range(value):
    """True for a date or datetime between MIN_DATE and MAX_DATE."""
    day = value.date() if isinstance(value, datetime) else value
    return MIN_DATE <= day <= MAX_DATE


def parse_date(value, default=None):
    """An ISO date (YYYY-MM-DD, ASCII) between MIN_DATE and MAX_DATE, or `default`."""
    if isinstance(value, datetime):
        return value.date() if in_date_range(value) else default
    if isinstance(value, date):
        return value if in_date_range(value) else default
    if not isinstance(value, str) or not (match := _DATE.fullmatch(value.strip(_WHITESPACE))):
        return default
    try:
        day = date(*(int(part) for part in match.groups()))
    except ValueError:
        return default
    return day if in_date_range(day) else default


def parse_aware_datetime(value, default=None):
    """An ISO-8601 time with a UTC offset, as aware UTC, dated MIN_DATE .. MAX_DATE, or
    `default` (naive times, other types and unparsable text alike)."""
    if not isinstance(value, str) or len(value) > 64 or not value.isascii():
        return default
    try:
        parsed = datetime.fromisoformat(value)
        if parsed.utcoffset() is None:
            return default
        utc = parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        return default
    return utc if in_date_range(utc) else default


_RANGE_ERROR = f"Enter a date between {MIN_DATE:%Y-%m-%d} and {MAX_DATE:%Y-%m-%d}."


class DateField(forms.DateField):
    """forms.DateField that refuses dates a query could not add a day or a time zone to."""

    def to_python(self, value):
        day = super().to_python(value)
        if day is not None and not in_date_range(day):
            raise forms.ValidationError(_RANGE_ERROR, code="date_range")
        return day


class DateTimeField(forms.DateTimeField):
    """forms.DateTimeField bounded as DateField is, so a time zone applied later cannot
    carry it past year 9999 or before year 1."""

    def to_python(self, value):
        when = super().to_python(value)
        if when is not None and not in_date_range(when):
            raise forms.ValidationError(_RANGE_ERROR, code="date_range")
        return when


def has_bad_characters(value):
    """True when `value` holds NUL, other control characters or lone surrogates."""
    return bool(_CONTROL.search(value))


def local_url(request, value, *, prefix="/"):
    """`value` if it is a path on this site under `prefix` (a redirect target from a form's
    `next`), else None: no other host or scheme, no backslash tricks, no control characters."""
    if not isinstance(value, str) or not value or len(value) > 2000 or has_bad_characters(value):
        return None
    if not value.startswith(prefix) or "\\" in value:
        return None
    if not url_has_allowed_host_and_scheme(value, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return None
    return value


class NumberConverter:
    """URL converter for an order number: any path segment without control characters, so a
    NUL (which PostgreSQL refuses in a query) is a 404 before any query."""

    regex = r"[^/\x00-\x1f\x7f]+"

    def to_python(self, value):
        if has_bad_characters(value):
            raise ValueError(value)  # the resolver tries the next pattern, then answers 404
        return value

    def to_url(self, value):
        return value
