"""The client's address, for rate limits and the login throttle.

REMOTE_ADDR, or, behind TRUSTED_PROXIES reverse proxies that each append the address they
saw to X-Forwarded-For, the entry the outermost of them appended (the N-th from the
right). Every entry left of it was written by the client, who can write anything there,
so nothing else in the header is believed."""

import ipaddress
import logging
from datetime import UTC, datetime, timedelta

from django.conf import settings


def _address(text):
    """`text` as a normalised IP address, or None. Accepts the `1.2.3.4:port` and
    `[v6]:port` forms some proxies write."""
    text = (text or "").strip()
    if text.startswith("[") and "]" in text:
        text = text[1:text.index("]")]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def client_ip(request):
    """The client's IP address as a string, or None when even REMOTE_ADDR is not one."""
    proxies = max(getattr(settings, "TRUSTED_PROXIES", 0), 0)
    if proxies:
        forwarded = [p for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if p.strip()]
        if len(forwarded) >= proxies:
            seen = _address(forwarded[-proxies])
            if seen is not None:
                return seen
    return _address(request.META.get("REMOTE_ADDR"))


# --- requests that bypass the proxy -------------------------------------------------------
# With TRUSTED_PROXIES set, a request whose X-Forwarded-For holds fewer entries than there are
# proxies did not come through all of them: a client reached the app directly (or the proxy
# does not add the header). Each is counted in this process and in the cache, per UTC day,
# and logged (the first in a process, then at most once a minute) with its address.
# seller_center.checks (sc.W030) and /healthz report the counts.

MISSING_DAYS = 7
_missing = {"count": 0, "logged_at": None}
logger = logging.getLogger(__name__)


def came_through_proxies(request):
    """False when TRUSTED_PROXIES is set and the request lacks the proxies' entries."""
    proxies = max(getattr(settings, "TRUSTED_PROXIES", 0), 0)
    if not proxies:
        return True
    forwarded = [p for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if p.strip()]
    return len(forwarded) >= proxies


def _day_key(day):
    return f"proxy-header-missing:{day.isoformat()}"


def note_missing_header(request):
    from django.core.cache import cache

    now = datetime.now(UTC)
    _missing["count"] += 1
    key = _day_key(now.date())
    try:
        cache.add(key, 0, timeout=(MISSING_DAYS + 1) * 86400)
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=(MISSING_DAYS + 1) * 86400)
    last = _missing["logged_at"]
    if last is None or now - last >= timedelta(minutes=1):
        _missing["logged_at"] = now
        logger.warning("A request to %s came from %s without the X-Forwarded-For of the %d trusted proxy(ies) "
                       "(%d so far in this process): is the app reachable without the proxy?",
                       request.path, request.META.get("REMOTE_ADDR"), settings.TRUSTED_PROXIES, _missing["count"])


def missing_header_count():
    """Requests without the proxies' header over the last MISSING_DAYS days, as the cache holds
    them (every web process's with a shared cache; this process's with a per-process one)."""
    from django.core.cache import cache

    today = datetime.now(UTC).date()
    keys = [_day_key(today - timedelta(days=d)) for d in range(MISSING_DAYS)]
    return sum(cache.get_many(keys).values())


def missing_header_in_process():
    return _missing["count"]
