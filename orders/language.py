"""The buyer's language and clock: what their emails, platform messages and order page read in.

The storefront says which language the buyer shopped in (its order payload's `locale`, stored
as Order.language); without one, the platform's default (English). Their times are the shop's
time zone, named on every time (core.when), never bare UTC.
"""

from contextlib import contextmanager

from django.conf import settings
from django.utils import timezone, translation

CODES = frozenset(code for code, _ in settings.LANGUAGES)


def language_of_locale(value):
    """The supported language of a locale tag ("vi-VN", "th_TH", "es-419", "id"), or ""."""
    if not isinstance(value, str) or not value or len(value) > 35:
        return ""
    base = value.replace("_", "-").split("-")[0].lower()
    return base if base in CODES else ""


def order_language(order):
    return order.language if order.language in CODES else settings.LANGUAGE_CODE


@contextmanager
def buyer_language(order, language=None):
    """Run a block in the buyer's language (or `language`, the buyer's own pick on their page)
    and the shop's time zone: compose their emails and messages inside it."""
    tz = order.shop.tzinfo
    with translation.override(language or order_language(order)), timezone.override(tz):
        yield
