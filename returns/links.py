"""Signed links to the buyer's return page: proof of ownership without an account."""

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "returns.buyer-link.v1"
DEFAULT_MAX_AGE = 60 * 60 * 24 * 60  # 60 days: past any return window


def max_age():
    return getattr(settings, "RETURNS_LINK_MAX_AGE", DEFAULT_MAX_AGE)


def make_token(order):
    return _token(order.pk, order.number)


def _token(pk, number):
    return signing.dumps({"o": pk, "n": number}, salt=SALT, compress=True)


def read_token(token):
    """The order id the token proves, or None (tampered, expired or malformed)."""
    try:
        data = signing.loads(token, salt=SALT, max_age=max_age())
    except (signing.BadSignature, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("o"), int):
        return None
    return data["o"], data.get("n")


def path_for(order):
    return reverse("returns_public:link", kwargs={"token": make_token(order)})


def url_for(order):
    return _base() + path_for(order)


def urls_for(orders):
    """{pk: url} for many (pk, number) pairs: the route is reversed once, not per order."""
    marker = "TOKEN"
    head, tail = reverse("returns_public:link", kwargs={"token": marker}).split(marker)
    base = _base() + head
    return {pk: f"{base}{_token(pk, number)}{tail}" for pk, number in orders}


def _base():
    return getattr(settings, "RETURNS_PUBLIC_BASE_URL", "http://localhost:8000").rstrip("/")
