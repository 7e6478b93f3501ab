"""The client's address, for rate limits and the login throttle.

REMOTE_ADDR, or, behind TRUSTED_PROXIES reverse proxies that each append the address they
saw to X-Forwarded-For, the entry the outermost of them appended (the N-th from the
right). Every entry left of it was written by the client, who can write anything there,
so nothing else in the header is believed."""

import ipaddress

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
