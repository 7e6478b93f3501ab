"""Manage Orders reads: filters from the URL, search, sort and keyset pagination.

Keyset, not OFFSET: page 10,000 costs what page 1 costs, because the next page starts at
the last row's (sort value, id) with an index range, whatever the depth.
"""

import base64
import json
import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django import forms
from django.db import connection
from django.db.models import Q
from django.utils import timezone

from core import params

from . import registry
from .models import Order, number_condition

PAGE_SIZES = (20, 50, 100)
DEFAULT_PAGE_SIZE = 50
MAX_SEARCH_TOKENS = 100
SORTS = {
    # key: (label, field, descending)
    "newest": ("Newest first", "placed_at", True),
    "oldest": ("Oldest first", "placed_at", False),
    "ship_by": ("Ship-by soonest", "ship_by", False),
}
DEADLINES = {
    "past_ship_by": "Past ship-by",
    "ship_24h": "Must ship within 24 h",
    "ship_48h": "Must ship within 48 h",
}
TABS = [("all", "All"), *Order.Status.choices]


class OrderFilterForm(forms.Form):
    tab = forms.ChoiceField(choices=TABS, required=False)
    q = forms.CharField(required=False, label="Search", widget=forms.Textarea(attrs={"rows": 1}))
    placed_from = params.DateField(required=False, label="Placed from", widget=forms.DateInput(attrs={"type": "date"}))
    placed_to = params.DateField(required=False, label="Placed to", widget=forms.DateInput(attrs={"type": "date"}))
    shipping_model = forms.ChoiceField(
        choices=[("", "Any shipping")] + Order.ShippingModel.choices, required=False, label="Shipping"
    )
    sku = forms.CharField(required=False, max_length=64, label="SKU")
    deadline = forms.ChoiceField(choices=[("", "Any deadline"), *DEADLINES.items()], required=False, label="Deadline")
    sort = forms.ChoiceField(choices=[(k, v[0]) for k, v in SORTS.items()], required=False, label="Sort")
    size = forms.TypedChoiceField(choices=[(n, n) for n in PAGE_SIZES], coerce=int, required=False, label="Per page")
    board = forms.CharField(required=False, max_length=40)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for f in registry.LIST_FILTERS.values():
            self.fields[f.key] = forms.ChoiceField(choices=[("", f"Any {f.label.lower()}"), *f.choices], required=False, label=f.label)

    def clean_q(self):
        tokens = [t for t in re.split(r"[\s,;]+", self.cleaned_data.get("q") or "") if t]
        if len(tokens) > MAX_SEARCH_TOKENS:
            raise forms.ValidationError(f"Paste at most {MAX_SEARCH_TOKENS} order numbers, tracking numbers or SKUs at once.")
        return list(dict.fromkeys(tokens))

    def clean(self):
        data = super().clean()
        if data.get("placed_from") and data.get("placed_to") and data["placed_from"] > data["placed_to"]:
            self.add_error("placed_to", "“Placed to” is before “Placed from”.")
        return data


@dataclass
class Page:
    rows: list
    next_cursor: str | None
    prev_cursor: str | None
    size: int


def _encode(order, field):
    value = getattr(order, field)
    raw = json.dumps([value.isoformat() if value else None, order.pk]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor):
    """(sort value, pk) of a cursor _encode wrote, or None for anything else (a hand-edited
    cursor starts the list again): the value an aware time within params' date range, the pk
    an id, so neither can overflow a query."""
    if not isinstance(cursor, str) or len(cursor) > params.MAX_PARAM_LENGTH or not cursor.isascii():
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        decoded = json.loads(raw)
    except (ValueError, TypeError, RecursionError):  # binascii.Error and JSONDecodeError are ValueErrors
        return None
    if not isinstance(decoded, list) or len(decoded) != 2:
        return None
    value, pk = params.parse_aware_datetime(decoded[0]), params.parse_id(decoded[1])
    if value is None or pk is None:
        return None
    return value, pk


def _after(qs, field, descending, value, pk):
    """Rows strictly after (value, pk) in the sort order; the first condition alone is an
    index range, the second only trims rows that share the boundary value."""
    if descending:
        return qs.filter(**{f"{field}__lte": value}).filter(Q(**{f"{field}__lt": value}) | Q(pk__lt=pk))
    return qs.filter(**{f"{field}__gte": value}).filter(Q(**{f"{field}__gt": value}) | Q(pk__gt=pk))


def filtered(shop, data, now=None):
    """The orders of one shop matching the cleaned filter data (no tab, no order)."""
    now = now or timezone.now()
    qs = Order.objects.for_shop(shop)
    tz = shop.tzinfo
    if data.get("placed_from"):
        qs = qs.filter(placed_at__gte=datetime.combine(data["placed_from"], time.min, tzinfo=tz))
    if data.get("placed_to"):
        qs = qs.filter(placed_at__lt=datetime.combine(data["placed_to"] + timedelta(days=1), time.min, tzinfo=tz))
    if data.get("shipping_model"):
        qs = qs.filter(shipping_model=data["shipping_model"])
    if data.get("sku"):
        qs = qs.with_sku(data["sku"].strip())
    deadline = data.get("deadline")
    if deadline == "past_ship_by":
        qs = qs.past_ship_by(now)
    elif deadline in ("ship_24h", "ship_48h"):
        qs = qs.ship_within(now, 24 if deadline == "ship_24h" else 48)
    tokens = data.get("q") or []
    if tokens:
        qs = qs.search(tokens, extra=[r.resolve(shop, tokens) for r in registry.SEARCH_RESOLVERS.values()])
    for f in registry.LIST_FILTERS.values():
        if data.get(f.key):
            qs = f.apply(qs, data[f.key])
    card = registry.BOARD_CARDS.get(data.get("board") or "")
    if card is not None and card.filter is not None:
        qs = card.filter(qs, shop, now)
    return qs


def page_size(data):
    """The page size a list shows for cleaned filter data: the chosen one, else the default."""
    size = (data or {}).get("size")
    return size if size in PAGE_SIZES else DEFAULT_PAGE_SIZE


def empty_page(data=None):
    """The page of a list whose filter was refused: no rows, no cursors."""
    return Page([], None, None, page_size(data))


def page(qs, *, sort="newest", size=DEFAULT_PAGE_SIZE, after=None, before=None):
    """One keyset page of `qs` in the chosen sort."""
    _, field, descending = SORTS.get(sort, SORTS["newest"])
    size = size if size in PAGE_SIZES else DEFAULT_PAGE_SIZE
    forward = [f"-{field}", "-pk"] if descending else [field, "pk"]
    backward = [f"{field}", "pk"] if descending else [f"-{field}", "-pk"]
    cursor = _decode(after) if after else None
    back = _decode(before) if (before and not after) else None
    if back:
        value, pk = back
        rows = list(_after(qs, field, not descending, value, pk).order_by(*backward)[: size + 1])
        has_more_back = len(rows) > size
        rows = rows[:size][::-1]
        return Page(rows, _encode(rows[-1], field) if rows else None, _encode(rows[0], field) if has_more_back and rows else None, size)
    if cursor:
        qs = _after(qs, field, descending, *cursor)
    rows = list(qs.order_by(*forward)[: size + 1])
    has_more = len(rows) > size
    rows = rows[:size]
    return Page(
        rows,
        _encode(rows[-1], field) if has_more and rows else None,
        _encode(rows[0], field) if cursor and rows else None,
        size,
    )


def tokens_not_found(shop, tokens):
    """The pasted search tokens that are no order number (in any case), SKU or, through the
    registered resolvers, tracking number of this shop, in the order pasted. One query each,
    whatever the number of tokens (at most MAX_SEARCH_TOKENS)."""
    from shops.models import SKU

    if not tokens:
        return []
    numbers = set(
        Order.objects.for_shop(shop).filter(number_condition(tokens))
        .values_list("number", flat=True)[: 10 * MAX_SEARCH_TOKENS]
    )
    upper = {n.upper() for n in numbers}
    found = {t for t in tokens if t in numbers or t.upper() in upper}
    found |= set(SKU.objects.filter(shop=shop, code__in=tokens).values_list("code", flat=True))
    for resolver in registry.SEARCH_RESOLVERS.values():
        if resolver.found is not None:
            found |= resolver.found(shop, tokens)
    return [t for t in tokens if t not in found]


def tab_counts(shop):
    """Exact per-status counts from the counters (one indexed read), plus All.

    Plain SQL: every Manage Orders view reads the counters, and building this one-line
    query through the ORM took about seven times as long as running it."""
    from .models import OrderStatusCount

    meta = OrderStatusCount._meta
    qn = connection.ops.quote_name
    sql = (f"SELECT {qn(meta.get_field('status').column)}, {qn(meta.get_field('count').column)} "
           f"FROM {qn(meta.db_table)} WHERE {qn(meta.get_field('shop').column)} = %s")
    counts = dict.fromkeys(Order.Status.values, 0)
    with connection.cursor() as cursor:
        cursor.execute(sql, [shop.pk])
        counts.update(cursor.fetchall())
    counts["all"] = sum(counts.values())
    return counts
