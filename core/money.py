"""Money by currency, from CLDR (Babel): each currency's own minor units and each language's format.

One place decides how an amount reads and how precise it may be:
- `format_money(amount, currency)`: for people (pages, emails, labels), in the active language:
  "1.250.000 ₫" in Vietnamese, "$49.00" in English, "49,00 €" in Spanish; VND, IDR and JPY
  have no minor unit, so they never show cents that do not exist.
- `amount_text(amount, currency)`: for machines (the API, the CSV export, the change feed): a plain
  number at the currency's precision, "49.00" for USD, "1250000" for VND, with the code beside it.
- `precision_error(amount, currency)`: why an amount cannot be one of that currency (0.5 VND,
  12.345 USD), or None; intake and refunds refuse such amounts instead of rounding them.

Amounts are stored as DecimalField(decimal_places=2), which holds every currency of two minor
digits or fewer; a currency of three (KWD, BHD) is refused where money comes in (`supported`).
"""

from decimal import Decimal, InvalidOperation
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.numbers import format_currency, get_currency_precision, list_currencies
from django.utils import translation
from django.utils.translation import gettext as _

STORED_PLACES = 2  # Order.total, Refund.amount … are decimal_places=2


@lru_cache(maxsize=512)
def _currencies():
    return frozenset(list_currencies())


def known(currency):
    """An ISO 4217 code CLDR knows."""
    return isinstance(currency, str) and currency.upper() in _currencies()


def supported(currency):
    """A currency the platform can hold: known, and no more minor digits than the columns have."""
    return known(currency) and places(currency) <= STORED_PLACES


@lru_cache(maxsize=1)
def whole_currencies():
    """The codes of the currencies without minor units (VND, IDR, JPY, KRW …), sorted."""
    return tuple(sorted(code for code in _currencies() if code.isalpha() and len(code) == 3 and places(code) == 0))


@lru_cache(maxsize=512)
def places(currency):
    """The currency's minor digits (CLDR): USD 2, EUR 2, THB 2, VND 0, IDR 0, JPY 0."""
    return get_currency_precision((currency or "").upper())


@lru_cache(maxsize=64)
def _quantum(digits):
    return Decimal(1).scaleb(-digits)


def quantum(currency):
    """The currency's smallest amount: Decimal("0.01") for USD, Decimal("1") for VND."""
    return _quantum(places(currency))


def quantize(amount, currency):
    """`amount` at the currency's precision (rounding half up a stored amount that has more)."""
    return Decimal(amount).quantize(_quantum(places(currency)))


def precision_error(amount, currency):
    """Why `amount` is not an amount of `currency` (more decimals than it has), or None."""
    try:
        value = Decimal(amount)
    except (InvalidOperation, TypeError, ValueError):
        return _("Enter the amount as a number.")
    if not value.is_finite():
        return _("Enter the amount as a number.")
    digits = places(currency)
    if value.as_tuple().exponent < -digits and value != value.quantize(_quantum(digits)):
        if digits == 0:
            return _("%(currency)s amounts have no decimals.") % {"currency": currency}
        return _("%(currency)s amounts have at most %(places)d decimals.") % {"currency": currency, "places": digits}
    return None


def amount_text(amount, currency):
    """The amount as a plain number at the currency's precision: "49.00" USD, "1250000" VND."""
    if amount is None:
        return None
    return str(quantize(amount, currency))


def babel_locale(language=None):
    """The Babel locale of a Django language code ("vi", "en-us", "es"), the active language's by
    default; English when unknown."""
    return _babel_locale(language or translation.get_language() or "en")


@lru_cache(maxsize=32)
def _babel_locale(language):
    code = translation.to_locale(language)
    try:
        return Locale.parse(code)
    except (UnknownLocaleError, ValueError):
        try:
            return Locale.parse(code.split("_")[0])
        except (UnknownLocaleError, ValueError):
            return Locale.parse("en")


def format_money(amount, currency, language=None):
    """The amount as people in the active (or given) language read it: "1.250.000 ₫" (vi)."""
    if amount is None or amount == "":
        return ""
    currency = (currency or "").upper()
    try:
        value = Decimal(amount)
    except (InvalidOperation, TypeError, ValueError):
        return str(amount)
    if not known(currency):
        return f"{value} {currency}".strip()
    return format_currency(value, currency, locale=babel_locale(language), currency_digits=True)
