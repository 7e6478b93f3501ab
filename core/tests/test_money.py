"""Money by currency (core.money): each currency's minor units, each language's format (CLDR)."""

import re
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import translation

from core import money


@pytest.mark.parametrize(
    "currency, language, amount, text",
    [
        ("VND", "vi", "1250000.00", "1.250.000\xa0₫"),
        ("VND", "en", "1250000", "₫1,250,000"),
        ("IDR", "id", "1250000.00", "Rp1.250.000"),
        ("JPY", "en", "1200", "¥1,200"),
        ("USD", "en", "49", "$49.00"),
        ("USD", "vi", "49.5", "49,50\xa0US$"),
        ("EUR", "es", "1250.5", "1.250,50\xa0€"),
        ("EUR", "en", "49.00", "€49.00"),
        ("THB", "th", "349.5", "฿349.50"),
    ],
)
def test_format_money_per_currency_and_language(currency, language, amount, text):
    assert money.format_money(Decimal(amount), currency, language=language) == text


def test_currencies_without_minor_units_never_show_cents():
    for currency in ("VND", "IDR", "JPY"):
        assert money.places(currency) == 0
        for language in ("en", "vi", "th", "id", "es"):
            text = money.format_money(Decimal("1250000.00"), currency, language=language)
            assert re.search(r"\d[.,]\d\d\D*$", text) is None, text
    assert money.places("USD") == money.places("EUR") == money.places("THB") == 2


def test_amount_text_is_a_plain_number_at_the_currency_precision():
    assert money.amount_text(Decimal("49"), "USD") == "49.00"
    assert money.amount_text(Decimal("1250000.00"), "VND") == "1250000"
    assert money.amount_text(Decimal("1250000.00"), "IDR") == "1250000"
    assert money.amount_text(Decimal("1200.00"), "JPY") == "1200"
    assert money.amount_text(Decimal("349.5"), "THB") == "349.50"
    assert money.amount_text(None, "USD") is None


def test_precision_error_names_the_currency_rule():
    assert money.precision_error("0.5", "VND") == "VND amounts have no decimals."
    assert money.precision_error("12.345", "USD") == "USD amounts have at most 2 decimals."
    assert money.precision_error("abc", "USD") == "Enter the amount as a number."
    assert money.precision_error("NaN", "USD") == "Enter the amount as a number."
    assert money.precision_error("12.50", "USD") is None
    assert money.precision_error("1250000.00", "VND") is None  # trailing zeros are the same amount
    assert money.precision_error("12", "JPY") is None


def test_supported_currencies_fit_the_columns():
    assert money.supported("VND") and money.supported("usd") and money.supported("THB")
    assert not money.supported("KWD")  # three minor digits: the columns hold two
    assert not money.supported("XXQ")


def test_money_filter_follows_the_active_language():
    template = Template("{% load intl %}{{ amount|money:currency }}")
    context = Context({"amount": Decimal("1250000.00"), "currency": "VND"})
    with translation.override("vi"):
        assert template.render(context).replace("\xa0", " ") == "1.250.000 ₫"
    with translation.override("en"):
        assert template.render(context) == "₫1,250,000"
    assert Template("{% load intl %}{{ None|money:'USD' }}").render(Context()) == ""
