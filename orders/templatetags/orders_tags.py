from django import template
from django.utils import timezone

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


@register.simple_tag(takes_context=True)
def query_with(context, **changes):
    """The current query string with some parameters replaced (None drops one)."""
    params = context["request"].GET.copy()
    for key, value in changes.items():
        params.pop(key, None)
        if value not in (None, ""):
            params[key] = value
    for key in ("after", "before"):
        if key not in changes:
            params.pop(key, None)
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"


@register.filter
def isotime(value):
    """An ISO-8601 string from history data, as a datetime the date filter can show."""
    from datetime import datetime

    try:
        return datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None


ROW_FIELDS = ("id", "shop_id", "number", "status", "shipping_model", "items_summary", "buyer_name", "total",
              "currency", "placed_at", "ship_by", "handover_by", "auto_cancel_at")


@register.simple_tag
def order_rows(orders, shop, now):
    """The Manage Orders table rows, built in one pass.

    The list is the page a seller lives in and may show 100 rows; rendering each cell
    through template lookups and lazy escaping cost most of the page's time, so the rows
    are formatted here, every value escaped with html.escape, and the template keeps the
    rest of the page. The view loads only ROW_FIELDS.
    """
    from html import escape

    from django.urls import reverse
    from django.utils.safestring import mark_safe

    if not orders:
        return mark_safe('<tr><td colspan="9" class="empty">No orders match this view.</td></tr>')
    tz = shop.tzinfo
    detail = escape(reverse("orders:detail", kwargs={"shop": shop.slug, "number": "0"})[:-2])  # ".../orders/"
    rows = []
    for order in orders:
        number = escape(order.number)
        placed = order.placed_at.astimezone(tz)
        deadline = order.next_deadline
        if deadline:
            what, when = deadline
            due = (f'<span class="muted small">{escape(what)}</span> <time data-countdown datetime="{when.isoformat()}"'
                   f' class="{"late" if when < now else ""}">{escape(countdown(when, now))}</time>')
        else:
            due = '<span class="muted">—</span>'
        confirm = (f'<button type="submit" name="row_confirm" value="{order.pk}" class="small"'
                   f' aria-label="Confirm order {number}">Confirm</button>') if order.can_confirm() else ""
        rows.append(
            f'<tr><td><input type="checkbox" name="ids" value="{order.pk}" aria-label="Select order {number}"></td>'
            f'<td><a href="{detail}{number}/">{number}</a>'
            f'<div class="muted small">{escape(order.get_shipping_model_display())}</div></td>'
            f"<td>{escape(order.items_summary)}</td><td>{escape(order.buyer_name)}</td>"
            f'<td class="num">{order.total} {escape(order.currency)}</td>'
            f'<td><time datetime="{placed.isoformat()}">{placed.strftime("%b")} {placed.day}, {placed:%H:%M}</time></td>'
            f"<td>{due}</td>"
            f'<td><span class="status status-{order.status.lower()}">{escape(order.get_status_display())}</span></td>'
            f"<td>{confirm}</td></tr>"
        )
    return mark_safe("\n".join(rows))


@register.simple_tag
def select(field):
    """A <select> for a bound ChoiceField, with the same attributes Django's widget gives
    (including aria-invalid/aria-describedby on error), without a template per option:
    the Manage Orders filter bar has several selects on every page view."""
    from html import escape

    from django.utils.safestring import mark_safe

    value = field.value()
    value = "" if value is None else str(value)
    options = "".join(
        f'<option value="{escape(str(v))}"{" selected" if str(v) == value else ""}>{escape(str(label))}</option>'
        for v, label in field.field.choices
    )
    invalid = f' aria-invalid="true" aria-describedby="{field.auto_id}_error"' if field.errors else ""
    return mark_safe(f'<select name="{escape(field.html_name)}" id="{escape(field.auto_id)}"{invalid}>{options}</select>')
