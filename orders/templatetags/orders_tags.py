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


@register.simple_tag
def order_rows(orders, shop, now):
    """The Manage Orders table rows, built in one pass.

    The list is the page a seller lives in and may show 100 rows; rendering each cell
    through template lookups cost most of the page's time, so the rows are formatted here
    (every value escaped by format_html) and the template keeps the rest of the page.
    """
    from django.urls import reverse
    from django.utils.dateformat import format as date_format
    from django.utils.html import format_html, format_html_join
    from django.utils.safestring import mark_safe

    if not orders:
        return mark_safe('<tr><td colspan="9" class="empty">No orders match this view.</td></tr>')
    tz = shop.tzinfo
    detail = reverse("orders:detail", kwargs={"shop": shop.slug, "number": "0"})[:-2]  # ".../orders/"

    def cells(order):
        placed = order.placed_at.astimezone(tz)
        deadline = order.next_deadline
        if deadline:
            what, when = deadline
            due = format_html(
                '<span class="muted small">{}</span> <time data-countdown datetime="{}" class="{}">{}</time>',
                what, when.isoformat(), "late" if when < now else "", countdown(when, now),
            )
        else:
            due = mark_safe('<span class="muted">—</span>')
        confirm = format_html(
            '<button type="submit" name="row_confirm" value="{}" class="small" aria-label="Confirm order {}">Confirm</button>',
            order.pk, order.number,
        ) if order.can_confirm() else ""
        return (
            order.pk, order.number, f"{detail}{order.number}/", order.number, order.get_shipping_model_display(),
            order.items_summary, order.buyer_name, order.total, order.currency,
            placed.isoformat(), date_format(placed, "M j, H:i"), due,
            order.status.lower(), order.get_status_display(), confirm,
        )

    return format_html_join(
        "\n",
        '<tr><td><input type="checkbox" name="ids" value="{}" aria-label="Select order {}"></td>'
        '<td><a href="{}">{}</a><div class="muted small">{}</div></td>'
        "<td>{}</td><td>{}</td>"
        '<td class="num">{} {}</td>'
        '<td><time datetime="{}">{}</time></td>'
        "<td>{}</td>"
        '<td><span class="status status-{}">{}</span></td>'
        "<td>{}</td></tr>",
        (cells(order) for order in orders),
    )
