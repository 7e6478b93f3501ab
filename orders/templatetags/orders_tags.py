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
