from datetime import datetime
from functools import lru_cache
from html import escape
from urllib.parse import urlencode

from django import template
from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from django.utils.safestring import mark_safe

from orders.models import Order
from orders.transitions import allowed

register = template.Library()


@register.filter
def countdown(when, now=None):
    """'in 5 h 12 min' / 'overdue by 2 h' — the text a live countdown starts from."""
    if not when:
        return ""
    now = now or timezone.now()
    seconds = int((when - now).total_seconds())
    late = seconds < 0
    seconds = abs(seconds)
    days, rem = divmod(seconds, 86400)
    hours, rem = divmod(rem, 3600)
    minutes = rem // 60
    if days:
        text = f"{days} d {hours} h"
    elif hours:
        text = f"{hours} h {minutes} min"
    else:
        text = f"{minutes} min"
    return f"overdue by {text}" if late else f"in {text}"


def query_string(query, **changes):
    """`query` (a QueryDict) as "?a=1&b=2" with some parameters replaced (None or "" drops
    one); the cursor parameters after/before are dropped unless given. The same string
    QueryDict.copy() + urlencode() makes, without copying the dict."""
    drop = {"after", "before", *changes}
    pairs = [(key, value) for key, values in query.lists() if key not in drop for value in values]
    pairs += [(key, value) for key, value in changes.items() if value not in (None, "")]
    return f"?{urlencode(pairs)}"


@register.simple_tag(takes_context=True)
def query_with(context, **changes):
    """The current query string with some parameters replaced (None drops one)."""
    return query_string(context["request"].GET, **changes)


@lru_cache(maxsize=4096)
def _reverse(viewname, kwargs, urlconf, prefix):
    return reverse(viewname, urlconf=urlconf, kwargs=dict(kwargs))


@register.simple_tag
def cached_url(viewname, **kwargs):
    """{% url %} for the links every page view repeats (the nav, the shop switcher, the
    Manage Orders forms): reverse() walks the URL patterns each time, about 0.1 ms a
    link, and these depend only on the names, the shop slug and the script prefix."""
    urlconf = get_urlconf(settings.ROOT_URLCONF)
    return _reverse(viewname, tuple(sorted(kwargs.items())), urlconf, get_script_prefix())


@register.filter
def isotime(value):
    """An ISO-8601 string from history data, as a datetime the date filter can show."""
    try:
        return datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None


# The columns of a Manage Orders row, the sort fields among them (the page cursor reads
# them). The view reads them with values_list(named=True): building 50-100 Order instances
# with 25 deferred fields each cost more than formatting the whole table.
ROW_FIELDS = ("pk", "shop_id", "number", "status", "shipping_model", "items_summary", "buyer_name", "total",
              "currency", "placed_at", "ship_by", "handover_by", "auto_cancel_at")
# Order.next_deadline reads only status and the three deadlines, all in ROW_FIELDS.
_next_deadline = Order.next_deadline.fget

# Escaped once: Model.get_FOO_display() hashes the whole choices list on every call.
_STATUS_HTML = {
    value: f'<span class="status status-{escape(value.lower())}">{escape(label)}</span>'
    for value, label in Order.Status.choices
}
_SHIPPING_HTML = {value: escape(label) for value, label in Order.ShippingModel.choices}
_CONFIRMABLE = frozenset(s for s in Order.Status.values if allowed("confirm", s))
# strftime("%b") in the C locale Python runs in, without a strftime call per row.
_MONTHS = (None, "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@register.simple_tag
def order_rows(orders, shop, now):
    """The Manage Orders table rows, built in one pass.

    The list is the page a seller lives in and may show 100 rows; rendering each cell
    through template lookups and lazy escaping cost most of the page's time, so the rows
    are formatted here, every value from the order escaped with html.escape, and the
    template keeps the rest of the page. `orders` are rows of ROW_FIELDS (named tuples or
    orders).
    """
    if not orders:
        return mark_safe('<tr><td colspan="9" class="empty">No orders match this view.</td></tr>')
    tz = shop.tzinfo
    detail = escape(cached_url("orders:detail", shop=shop.slug, number="0")[:-2])  # ".../orders/"
    currencies = {}
    rows = []
    for order in orders:
        number = escape(order.number)
        status = order.status
        placed = order.placed_at.astimezone(tz)
        deadline = _next_deadline(order)
        if deadline:
            what, when = deadline  # what: one of the model's fixed words; countdown: digits and words
            due = (f'<span class="muted small">{what}</span> <time data-countdown datetime="{when.isoformat()}"'
                   f' class="{"late" if when < now else ""}">{countdown(when, now)}</time>')
        else:
            due = '<span class="muted">—</span>'
        confirm = (f'<button type="submit" name="row_confirm" value="{order.pk}" class="small"'
                   f' aria-label="Confirm order {number}">Confirm</button>') if status in _CONFIRMABLE else ""
        shipping = order.shipping_model
        currency = currencies.get(order.currency)
        if currency is None:
            currency = currencies[order.currency] = escape(order.currency)
        rows.append(
            f'<tr><td><input type="checkbox" name="ids" value="{order.pk}" aria-label="Select order {number}"></td>'
            f'<td><a href="{detail}{number}/">{number}</a>'
            f'<div class="muted small">{_SHIPPING_HTML.get(shipping) or escape(shipping)}</div></td>'
            f"<td>{escape(order.items_summary)}</td><td>{escape(order.buyer_name)}</td>"
            f'<td class="num">{order.total} {currency}</td>'
            f'<td><time datetime="{placed.isoformat()}">{_MONTHS[placed.month]} {placed.day}, '
            f"{placed.hour:02d}:{placed.minute:02d}</time></td>"
            f"<td>{due}</td>"
            f"<td>{_STATUS_HTML.get(status) or _status_html(status)}</td>"
            f"<td>{confirm}</td></tr>"
        )
    return mark_safe("\n".join(rows))


def _status_html(status):
    return f'<span class="status status-{escape(status.lower())}">{escape(status)}</span>'


@register.simple_tag
def select(field, selected=None):
    """A <select> for a bound ChoiceField, with the same attributes Django's widget gives
    (including aria-invalid/aria-describedby on error), without a template per option:
    the Manage Orders filter bar has several selects on every page view. `selected` is the
    value in effect when it is not the field's own (the page size the list shows when the
    URL names none, or names one it refused), so Apply keeps what the seller sees."""
    value = field.value() if selected is None else selected
    value = "" if value is None else str(value)
    options = "".join(
        f'<option value="{escape(str(v))}"{" selected" if str(v) == value else ""}>{escape(str(label))}</option>'
        for v, label in field.field.choices
    )
    invalid = f' aria-invalid="true" aria-describedby="{field.auto_id}_error"' if field.errors else ""
    return mark_safe(f'<select name="{escape(field.html_name)}" id="{escape(field.auto_id)}"{invalid}>{options}</select>')


@register.simple_tag(name="input")
def input_tag(field):
    """A bound field's <input>, attribute for attribute what {{ field }} gives (value,
    maxlength, aria-invalid/aria-describedby on error, id) without the form renderer's
    templates, for the filter bar's text and date inputs."""
    widget = field.field.widget
    value = widget.format_value(field.value())
    attrs = {**widget.attrs, **field.build_widget_attrs({}, widget)}
    if field.auto_id and "id" not in widget.attrs:
        attrs.setdefault("id", field.auto_id)
    html = [f'<input type="{escape(widget.input_type)}" name="{escape(field.html_name)}"']
    if value is not None:
        html.append(f' value="{escape(str(value))}"')
    for name, attr in attrs.items():
        if attr is True:
            html.append(f" {escape(name)}")
        elif attr is not False:
            html.append(f' {escape(name)}="{escape(str(attr))}"')
    return mark_safe("".join(html) + ">")
