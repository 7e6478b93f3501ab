"""What the machine endpoints (storefront, payments, carrier feed) accept before any query.

Every check here answers with the field's error instead of letting the database or the
driver refuse the value later: PostgreSQL refuses NUL in text and offsets past ±15:59, and
psycopg cannot read back a timestamp before year 1 or after 9999 in UTC, so a row that held
one would break every page that reads it.
"""

import json
import re
from datetime import UTC, datetime, timedelta

from django.utils import timezone

# Times before this are a storefront or carrier bug (a zero date, a local time sent as epoch 0).
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
# PostgreSQL's timestamptz takes offsets up to ±15:59:59.
MAX_OFFSET = timedelta(hours=15, minutes=59, seconds=59)
TIME_FORMAT = "an ISO-8601 time with a UTC offset, e.g. 2026-11-21T10:00:00Z"

# Single-line fields: no control characters at all. Multi-line fields keep tab and newlines.
# Both refuse NUL (PostgreSQL cannot store it) and lone surrogates (no encoding can).
_SINGLE_LINE_BAD = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_MULTI_LINE_BAD = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


class PayloadError(Exception):
    """{field: [messages]} for a 400."""

    def __init__(self, errors):
        self.errors = errors
        super().__init__(errors)


def json_object(body, *, expected="expected a JSON object"):
    """The body as a dict, or PayloadError naming what is wrong with it."""
    try:
        data = json.loads(body or b"null")
    except RecursionError:
        raise PayloadError({"body": ["malformed JSON: nested too deeply"]}) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise PayloadError({"body": [f"malformed JSON: {exc}"]}) from None
    if not isinstance(data, dict):
        raise PayloadError({"body": [expected]})
    return data


def text_error(value, *, multiline=False):
    """Why `value` (a str) cannot be stored as text, or None."""
    if (_MULTI_LINE_BAD if multiline else _SINGLE_LINE_BAD).search(value):
        if "\x00" in value:
            return "must not contain NUL characters"
        if any("\ud800" <= c <= "\udfff" for c in value):
            return "must not contain lone surrogates (invalid Unicode)"
        return "must not contain control characters"
    return None


def parse_time(value, *, earliest=EARLIEST, latest=None, future=timedelta(minutes=10)):
    """(aware UTC datetime, None) or (None, message). `latest` defaults to now + `future`."""
    if not isinstance(value, str):
        return None, TIME_FORMAT
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None, TIME_FORMAT
    offset = parsed.utcoffset()
    if offset is None:
        return None, TIME_FORMAT
    if abs(offset) > MAX_OFFSET:
        return None, "the UTC offset must be within ±15:59"
    latest = latest or timezone.now() + future
    try:
        utc = parsed.astimezone(UTC)
    except OverflowError:  # before year 1 or after 9999 once in UTC
        utc = None
    if utc is None or not earliest <= utc <= latest:
        return None, f"must be between {earliest:%Y-%m-%d} and {latest:%Y-%m-%d %H:%M} UTC"
    return utc, None
