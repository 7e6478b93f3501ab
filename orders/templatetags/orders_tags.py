from datetime import datetime
from functools import lru_cache
from html import escape
from urllib.parse import urlencode

from django import template
from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from core.money import format_money
from core.when import format_when
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
        text = _("%(d)s d %(h)s h") % {"d": days, "h": hours}
    elif hours:
        text = _("%(h)s h %(m)s min") % {"h": hours, "m": minutes}
    else:
        text = _("%(m)s min") % {"m": minutes}
    return (_("overdue by %(time)s") if late else _("in %(time)s")) % {"time": text}


def query_string(query, **changes):
    """`query` (a QueryDict) as "?a=1&b=2" with some parameters replaced (None or "" drops
    one); the cursor parameters after/before are dropped unless given. The same string
    QueryDict.copy() + urlencode() makes, without copying the dict."""
    drop = {"after", "before", "pos", *changes}
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
              "currency", "placed_at", "ship_by", "handover_by", "auto_cancel_at", "paid_at", "pinned_note")
# Order.next_deadline reads only status and the three deadlines, all in ROW_FIELDS.
_next_deadline = Order.next_deadline.fget

# Looked up once: Model.get_FOO_display() hashes the whole choices list on every call.
_STATUS_LABELS = dict(Order.Status.choices)
_SHIPPING_LABELS = dict(Order.ShippingModel.choices)
_CONFIRMABLE = frozenset(s for s in Order.Status.values if allowed("confirm", s))
_ARRANGEABLE = frozenset(s for s in Order.Status.values if allowed("arrange_shipment", s))
_AWAITING_COLLECTION = Order.Status.AWAITING_COLLECTION
_SELLER, _PLATFORM = Order.ShippingModel.SELLER, Order.ShippingModel.PLATFORM


def _short_time(value, tz):
    """The list's times: core.when's short style in the member's language and the shop's zone."""
    return format_when(value, "short", tz=tz) if value else ""


@register.simple_tag
def row_values(orders, shop, now, can=True, tag_names=None):
    """The values of the Manage Orders rows, as text, for the `rows` partial of
    orders/order_list.html, which holds the markup (and escapes every value).

    The list is the page a seller lives in and may show 100 rows: formatted here in one
    pass, each cell is one plain lookup in the template's loop, with no date, number or
    choice-label filter per row. `orders` are rows of ROW_FIELDS (named tuples or orders).
    `can`: what the member may do (shops.roles.Can; True: everything), which decides each row's
    next action: Confirm, Ship (carrier and tracking inline, ship by seller), Arrange, Print,
    Answer request. `tag_names`: {tag id: name} of the shop, for the rows' `tag_ids`.
    """
    from orders import registry

    def may(permission):
        return can is True or permission in can

    can_confirm, can_ship, can_arrange, can_print, can_answer = (
        may("orders.confirm"), may("shipping.ship"), may("shipping.arrange"), may("shipping.labels"),
        may("requests.answer"))
    request_value = registry.ROW_VALUES.get("request")
    tag_names = tag_names or {}
    tz = shop.tzinfo
    detail = cached_url("orders:detail", shop=shop.slug, number="0")[:-2]  # ".../orders/"
    # The labels in the active language, as text (fastfor takes str), once per page.
    status_labels = {value: str(label) for value, label in _STATUS_LABELS.items()}
    shipping_labels = {value: str(label) for value, label in _SHIPPING_LABELS.items()}
    rows = []
    for order in orders:
        status = order.status
        placed = order.placed_at.astimezone(tz)
        deadline = _next_deadline(order)
        if deadline:
            due_what, when = deadline  # one of the model's fixed words
            due_datetime, late, due_text = when.isoformat(), when < now, countdown(when, now)
        else:
            due_what = due_datetime = due_text = ""
            late = False
        shipping = order.shipping_model
        tag_ids = getattr(order, "tag_ids", None) or ""
        tags = ", ".join(sorted(tag_names[int(t)] for t in tag_ids.split(",") if t and int(t) in tag_names))
        request_id = getattr(order, "request", None)
        pinned = getattr(order, "pinned_note", "") or ""
        arrangeable = status in _ARRANGEABLE
        labelled = bool(getattr(order, "label", False))
        rows.append({
            "pk": str(order.pk),  # {{ int }} would run number localization
            "number": order.number,
            "url": f"{detail}{order.number}/",
            "shipping": shipping_labels.get(shipping) or shipping,
            "items": order.items_summary,
            "buyer": order.buyer_name,
            "total": format_money(order.total, order.currency),
            "placed_datetime": placed.isoformat(),
            "placed": format_when(placed, "short", tz=tz),
            "has_due": bool(deadline),
            "due_what": due_what,
            "due_datetime": due_datetime,
            "late": late,
            "due_text": due_text,
            "status_class": f"status-{status.lower()}",
            "status_label": status_labels.get(status) or status,
            "confirm": can_confirm and status in _CONFIRMABLE,
            "paid": _short_time(getattr(order, "paid_at", None), tz),
            "pinned": pinned,
            "has_pinned": bool(pinned),
            "tags": tags,
            "has_tags": bool(tags),
            "tracking": getattr(order, "tracking", None) or "",
            "ship": can_ship and arrangeable and shipping == _SELLER,
            "arrange": can_arrange and arrangeable and shipping == _PLATFORM and not labelled,
            "print": can_print and shipping == _PLATFORM and (labelled or status == _AWAITING_COLLECTION),
            "answer": bool(can_answer and request_id and request_value and request_value.url),
            "answer_url": request_value.url(shop, request_id) if request_id and request_value and request_value.url else "",
        })
    return rows


@register.simple_tag
def widget(field, value=None):
    """What Django's own widget templates print for a bound field, from the context the
    widget builds (`name`, `type`, `value`, `attrs` with id and aria-invalid/aria-describedby
    on error, `selected` options), for the `input` and `select` partials of
    orders/order_list.html: {{ field }} renders each <option> through two templates of its
    own, 10 ms for the filter bar. `options` are text for {% fastfor %} (the filter bar has
    no optgroups). `value` is the value in effect when it is not the field's own (the page
    size the list shows when the URL names none, or names one it refused), so Apply keeps
    what the seller sees."""
    widget = field.field.widget
    attrs = field.build_widget_attrs({}, widget)
    if field.auto_id and "id" not in widget.attrs:
        attrs.setdefault("id", field.auto_id)
    context = widget.get_context(field.html_name, field.value() if value is None else value, attrs)["widget"]
    return {
        "name": context["name"],
        "type": context.get("type"),
        "value": context["value"],
        "attrs": [(name, attr if attr is True else str(attr)) for name, attr in context["attrs"].items() if attr is not False],
        "options": [
            {"value": str(option["value"]), "label": str(option["label"]), "selected": bool(option["selected"])}
            for _group, options, _index in context.get("optgroups", ()) for option in options
        ],
    }


class FastForNode(template.Node):
    """{% fastfor row in rows %}…{% empty %}…{% endfastfor %}: a {% for %} over dicts of
    text and flags whose body Django renders once per combination of flags, not once per
    row; the rows then only fill in their escaped text. 100 Manage Orders rows of a dozen
    cells cost ~10x more through {% for %} (variable lookup, localization and lazy
    escaping per cell) than the whole rest of the page's template.

    The contract, checked where it can be: each row is a dict with the same keys, each
    value a str (text, printed as it is: `{{ row.key }}`, autoescaped) or a bool (a flag
    for `{% if row.key %}`); the body sees only the row (no forloop, no other variables),
    prints text without filters and never tests it. A test renders the same body with
    {% for %} (`slow=True` below) and compares.
    """

    TOKEN = "\x00{}\x00"

    def __init__(self, var, sequence, nodelist, nodelist_empty):
        self.var, self.sequence = var, sequence
        self.nodelist, self.nodelist_empty = nodelist, nodelist_empty
        self.formats = {}  # language -> the body per tuple of the flags that are on; the node lives as long as its template

    def __repr__(self):
        return f"<FastFor {self.var} in {self.sequence}>"

    def compile(self, context, row):
        """The body for row's flags as a str.format template with one {key} per text."""
        for key, value in row.items():
            if value.__class__ not in (str, bool):
                raise TypeError(f"{self!r}: {key} is {type(value).__name__}, not str or bool")
        tokens = {key: value if value.__class__ is bool else self.TOKEN.format(key) for key, value in row.items()}
        html = self.nodelist.render(context.new({self.var: tokens}))
        html = html.replace("{", "{{").replace("}", "}}")
        for key, value in tokens.items():
            if value is not True and value is not False:
                html = html.replace(value, "{" + key + "}")
        if "\x00" in html:
            raise template.TemplateSyntaxError(f"{self!r}: print each row text as it is, without filters")
        return html

    def render(self, context, slow=False):
        rows = self.sequence.resolve(context, ignore_failures=True)
        if not rows:
            return self.nodelist_empty.render(context)
        if slow:  # what {% for %} renders, for the tests
            return "".join(self.nodelist.render(context.new({self.var: row})) for row in rows)
        # The body holds translated words ({% translate %}): one set of compiled bodies per
        # language, or the first request's language would serve every later one.
        formats = self.formats.setdefault(get_language(), {})
        out = []
        for row in rows:
            on = tuple([key for key, value in row.items() if value is True])
            body = formats.get(on)
            if body is None:
                body = formats[on] = self.compile(context, row)
            out.append(body.format_map({key: escape(value) for key, value in row.items() if value.__class__ is str}))
        return mark_safe("".join(out))


@register.tag
def fastfor(parser, token):
    bits = token.split_contents()
    if len(bits) != 4 or bits[2] != "in":
        raise template.TemplateSyntaxError("{% fastfor row in rows %} takes one variable and one sequence")
    sequence = parser.compile_filter(bits[3])
    nodelist = parser.parse(("empty", "endfastfor"))
    nodelist_empty = template.NodeList()
    if parser.next_token().contents == "empty":
        nodelist_empty = parser.parse(("endfastfor",))
        parser.delete_first_token()
    return FastForNode(bits[1], sequence, nodelist, nodelist_empty)
