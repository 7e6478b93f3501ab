"""{% load intl %}: money and dates as the reader's language writes them (core.money, core.when).

    {{ order.total|money:order.currency }}   "1.250.000 ₫" in Vietnamese, "$49.00" in English
    {{ order.placed_at|when }}               "Dec 7, 2026, 6:18 PM EST" in the current time zone
    {{ order.placed_at|when:"date" }}        also "short", "day", "time" (core.when.STYLES)
"""

from django import template

from core.money import amount_text, format_money, quantum
from core.when import format_when

register = template.Library()


@register.filter
def money(amount, currency):
    return format_money(amount, currency)


@register.filter
def when(value, style="datetime"):
    return format_when(value, style)


@register.filter
def amount(value, currency):
    """A plain number at the currency's precision, for inputs and code-beside texts: "1250000"."""
    return amount_text(value, currency) if value not in (None, "") else ""


@register.filter
def money_step(currency):
    """The step of a money <input type="number">: 1 for VND, IDR, JPY; 0.01 for USD."""
    return str(quantum(currency))
