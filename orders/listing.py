"""Manage Orders reads: filters from the URL, search, sort and keyset pagination.

Keyset, not OFFSET: page 10,000 costs what page 1 costs, because the next page starts at
the last row's (sort value, id) with an index range, whatever the depth.
"""

import base64
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from urllib.parse import urlencode

from django import forms
from django.db import connection
from django.db.models import Aggregate, CharField, Exists, OuterRef, Q, Subquery, Value
from django.db.models.functions import Reverse, Upper
from django.db.models.lookups import In, StartsWith
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core import params
from shops.models import SKU

from . import registry
from .models import Order, OrderLine, OrderTag, email_key, number_condition, phone_digits

PAGE_SIZES = (20, 50, 100)
DEFAULT_PAGE_SIZE = 50
MAX_SEARCH_TOKENS = 100
# Search: the start or end of an order number is looked for when one value of at least this many
# characters was typed (and it is no whole number); the start of a buyer's name, the whole query as
# one line of at most MAX_PHRASE characters.
MIN_PARTIAL = 4
MAX_PHRASE = 100
# Order ids one search kind may resolve to before the list reads that kind by walking the shop's
# orders newest first instead (a SKU in every tenth order: 50 of them are near the top).
MAX_RESOLVED = 2000
_PHONE = re.compile(r"[\d\s().+/-]+")
SORTS = {
    # key: (label, field, descending)
    "newest": (_("Newest first"), "placed_at", True),
    "oldest": (_("Oldest first"), "placed_at", False),
    "ship_by": (_("Ship-by soonest"), "ship_by", False),
    # Unpaid orders have no paid time: this sort lists the paid ones (order_shop_paid serves it).
    "paid": (_("Paid, newest first (paid orders)"), "paid_at", True),
    "total_high": (_("Total, highest first"), "total", True),
    "total_low": (_("Total, lowest first"), "total", False),
}
# A sort on a field an order may lack lists only the orders that have it (a keyset over NULLs
# would skip them after page 1).
VALUE_REQUIRED_SORT_FIELDS = {"paid_at"}
DEADLINES = {
    "past_ship_by": _("Past ship-by"),
    "ship_24h": _("Must ship within 24 h"),
    "ship_48h": _("Must ship within 48 h"),
}
TABS = [("all", pgettext_lazy("orders tab", "All")), *Order.Status.choices]


class OrderFilterForm(forms.Form):
    tab = forms.ChoiceField(choices=TABS, required=False)
    q = forms.CharField(required=False, label=_("Search"), widget=forms.Textarea(attrs={"rows": 1}))
    placed_from = params.DateField(required=False, label=_("Placed from"), widget=forms.DateInput(attrs={"type": "date"}))
    placed_to = params.DateField(required=False, label=_("Placed to"), widget=forms.DateInput(attrs={"type": "date"}))
    shipping_model = forms.ChoiceField(
        choices=[("", _("Any shipping"))] + Order.ShippingModel.choices, required=False, label=_("Shipping")
    )
    sku = forms.CharField(required=False, max_length=64, label=_("SKU"))
    # A tag's id; another shop's tag matches no order of this shop (filtered() joins the shop).
    tag = forms.IntegerField(required=False, min_value=1, max_value=2**31 - 1, label=_("Tag"))
    updated_since = params.DateField(required=False, label=_("Updated since"),
                                     widget=forms.DateInput(attrs={"type": "date"}))
    deadline = forms.ChoiceField(choices=[("", _("Any deadline")), *DEADLINES.items()], required=False, label=_("Deadline"))
    sort = forms.ChoiceField(choices=[(k, v[0]) for k, v in SORTS.items()], required=False, label=_("Sort"))
    size = forms.TypedChoiceField(choices=[(n, n) for n in PAGE_SIZES], coerce=int, required=False, label=_("Per page"))
    board = forms.CharField(required=False, max_length=40)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for f in registry.LIST_FILTERS.values():
            self.fields[f.key] = forms.ChoiceField(choices=[("", f"Any {f.label.lower()}"), *f.choices], required=False, label=f.label)

    def clean_q(self):
        tokens = [t for t in re.split(r"[\s,;]+", self.cleaned_data.get("q") or "") if t]
        if len(tokens) > MAX_SEARCH_TOKENS:
            raise forms.ValidationError(_("Paste at most %(max_search_tokens)s order numbers, tracking numbers or SKUs at once.") % {"max_search_tokens": MAX_SEARCH_TOKENS})
        return list(dict.fromkeys(tokens))

    def clean(self):
        data = super().clean()
        # The query as one phrase (a buyer's name, a phone written with spaces), when it is one line.
        raw = self.data.get("q") or ""
        data["q_phrase"] = " ".join(raw.split()) if data.get("q") and not re.search(r"[\n\r,;]", raw) else ""
        if data.get("placed_from") and data.get("placed_to") and data["placed_from"] > data["placed_to"]:
            self.add_error("placed_to", _("“Placed to” is before “Placed from”."))
        return data


@dataclass
class Page:
    rows: list
    next_cursor: str | None
    prev_cursor: str | None
    size: int


def _encode(order, field):
    value = getattr(order, field)
    text = str(value) if isinstance(value, Decimal) else (value.isoformat() if value else None)
    raw = json.dumps([text, order.pk]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


_AMOUNT = re.compile(r"\d{1,12}(\.\d{1,2})?")


def _decode_value(text, field):
    """A cursor's sort value: an amount for the total, else an aware time; None if not one."""
    if field != "total":
        return params.parse_aware_datetime(text)
    if not isinstance(text, str) or not _AMOUNT.fullmatch(text):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def _decode(cursor, field="placed_at"):
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
    value, pk = _decode_value(decoded[0], field), params.parse_id(decoded[1])
    if value is None or pk is None:
        return None
    return value, pk


def _after(qs, field, descending, value, pk):
    """Rows strictly after (value, pk) in the sort order; the first condition alone is an
    index range, the second only trims rows that share the boundary value."""
    if descending:
        return qs.filter(**{f"{field}__lte": value}).filter(Q(**{f"{field}__lt": value}) | Q(pk__lt=pk))
    return qs.filter(**{f"{field}__gte": value}).filter(Q(**{f"{field}__gt": value}) | Q(pk__gt=pk))


@dataclass
class Search:
    """What a search resolved to (resolve_search): the order ids of the kinds that matched few
    orders, the conditions of those that matched many, and the pasted values nothing matched."""

    ids: set
    conditions: list
    not_found: list

    def condition(self):
        """The Q the list filters by: the ids (a keyed read), OR the dense kinds' conditions."""
        condition = Q(pk__in=sorted(self.ids)) if self.ids else None
        for q in self.conditions:
            condition = q if condition is None else condition | q
        return condition if condition is not None else Q(pk__in=[])


def _phone(text):
    """The digits of text written as a phone number (7 to 15 of them), else None."""
    if not _PHONE.fullmatch(text):
        return None
    digits = re.sub(r"\D", "", text)
    return digits if 7 <= len(digits) <= 15 else None


def _capped(qs):
    """qs limited to MAX_RESOLVED + 1 rows, in a form a UNION member may take on every backend
    (SQLite refuses LIMIT on a member itself, not inside its WHERE)."""
    return qs.model.objects.filter(pk__in=qs.order_by().values("pk")[: MAX_RESOLVED + 1])


def _arm(qs, kind, value, order_id="pk"):
    """One member of the resolving UNION: (kind, the matched value, the order id)."""
    return qs.order_by().values_list(Value(kind, output_field=CharField()), value, order_id)


def resolve_search(shop, data):
    """Resolve the search of cleaned filter data into a Search, in one query (plus one per
    registered resolver that knows some tokens, for "not found"), each kind by its own index:

    - order numbers, whole and in any case (the number's unique index and order_number_upper);
    - SKU codes of the shop's catalog, then the orders of those SKUs (orderline_sku_order);
    - buyers' emails and phones, whole, lower-cased / digits only (order_shop_email, order_shop_phone);
      a partial email or phone finds nothing, so the search reveals nothing the masked page hides;
    - what the registered resolvers match (tracking numbers, from shipping);
    - the start or the end of an order number (one value typed) and the start of a buyer's name (the
      whole query as one phrase), through the pattern indexes of migration 0010 (PostgreSQL).

    A kind resolves to at most MAX_RESOLVED order ids, which the list then reads by primary key;
    a kind that matched more is kept as a condition instead (the list walks the shop's orders
    newest first, where such a kind is dense). None when the data holds no search."""
    tokens = data.get("q") or []
    if not tokens:
        return None
    phrase = data.get("q_phrase") or ""
    orders = Order.objects.for_shop(shop)
    emails = sorted({t.lower() for t in tokens if "@" in t})
    phones = sorted({d for d in [*map(_phone, tokens), _phone(phrase) if phrase else None] if d})
    one = tokens[0] if len(tokens) == 1 else ""
    partial = one.upper() if len(one) >= MIN_PARTIAL and "@" not in one else ""
    # A name is words, or one word without digits (one value with digits is a number or a code).
    name = phrase.upper() if 2 <= len(phrase) <= MAX_PHRASE and not phones and not emails and (
        " " in phrase or not any(c.isdigit() for c in phrase)) else ""
    blank = Value("", output_field=CharField())
    partial_q = Q(StartsWith(Upper("number"), partial)) | Q(StartsWith(Reverse(Upper("number")), partial[::-1]))
    name_q = Q(StartsWith(Upper("buyer_name"), name))
    arms = [
        _arm(orders.filter(number_condition(tokens)), "number", "number"),
        # The SKU's id in the order id's column: the list then reads the SKU's lines by their index.
        _arm(SKU.objects.filter(shop=shop, code__in=tokens), "sku", "code"),
    ]
    if emails:
        arms.append(_arm(orders.filter(In(email_key(), emails)), "email", email_key()))
    if phones:
        arms.append(_arm(orders.filter(In(phone_digits(), phones)), "phone", phone_digits()))
    if partial:
        arms.append(_arm(_capped(orders.filter(partial_q)), "partial", blank))
    if name:
        arms.append(_arm(_capped(orders.filter(name_q)), "name", blank))
    for resolver in registry.SEARCH_RESOLVERS.values():
        q = resolver.resolve(shop, tokens)
        if q is not None:
            arms.append(_arm(orders.filter(q), f"x:{resolver.key}", blank))
    rows = list(arms[0].union(*arms[1:], all=True))

    by_kind = {}
    for kind, value, order_id in rows:
        values, ids = by_kind.setdefault(kind, (set(), set()))
        values.add(value)
        ids.add(order_id)
    ids, conditions = set(), []
    exact = {n.upper() for n in by_kind.get("number", (set(), set()))[0]}
    for kind, (_tokens, kind_ids) in by_kind.items():
        if kind == "sku":
            # A SKU may be in every tenth order or in three: PostgreSQL's statistics on the line's
            # sku_id choose between walking the newest orders and reading the SKU's lines.
            conditions.append(Q(pk__in=OrderLine.objects.filter(sku__in=sorted(kind_ids)).values("order_id")))
        elif kind == "partial" and partial in exact:
            continue  # a whole number typed is that order, not every number it starts or ends
        elif kind in ("partial", "name") and len(kind_ids) > MAX_RESOLVED:
            conditions.append(partial_q if kind == "partial" else name_q)
        else:
            ids |= kind_ids
    return Search(ids, conditions, _not_found(shop, tokens, phrase, by_kind))


def _not_found(shop, tokens, phrase, by_kind):
    """The pasted tokens that nothing matched, in the order pasted. A phrase that matched a buyer's
    name or phone, and one value that matched a part of an order number, leave nothing unfound."""

    def values(kind):
        return by_kind.get(kind, (set(), set()))[0]

    if values("name") or values("partial") or (phrase and _phone(phrase) in values("phone")):
        return []
    numbers = values("number")
    upper = {n.upper() for n in numbers}
    found = {t for t in tokens if t in numbers or t.upper() in upper}
    found |= values("sku")
    found |= {t for t in tokens if t.lower() in values("email") or _phone(t) in values("phone")}
    for resolver in registry.SEARCH_RESOLVERS.values():
        if resolver.found is not None and by_kind.get(f"x:{resolver.key}"):
            found |= resolver.found(shop, tokens)
    return [t for t in tokens if t not in found]


def filtered(shop, data, now=None, search=None):
    """The orders of one shop matching the cleaned filter data (no tab, no order). `search`: what
    resolve_search made of the data, when the caller has it already."""
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
    if data.get("tag"):
        qs = qs.filter(Exists(OrderTag.objects.filter(order=OuterRef("pk"), tag_id=data["tag"], tag__shop=shop)))
    if data.get("updated_since"):
        qs = qs.filter(updated_at__gte=datetime.combine(data["updated_since"], time.min, tzinfo=tz))
    deadline = data.get("deadline")
    if deadline == "past_ship_by":
        qs = qs.past_ship_by(now)
    elif deadline in ("ship_24h", "ship_48h"):
        qs = qs.ship_within(now, 24 if deadline == "ship_24h" else 48)
    if data.get("q"):
        search = search or resolve_search(shop, data)
        qs = qs.filter(search.condition())
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
    _label, field, descending = SORTS.get(sort, SORTS["newest"])
    size = size if size in PAGE_SIZES else DEFAULT_PAGE_SIZE
    if field in VALUE_REQUIRED_SORT_FIELDS:
        qs = qs.filter(**{f"{field}__isnull": False})
    forward = [f"-{field}", "-pk"] if descending else [field, "pk"]
    backward = [f"{field}", "pk"] if descending else [f"-{field}", "-pk"]
    cursor = _decode(after, field) if after else None
    back = _decode(before, field) if (before and not after) else None
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


# --- the rows' tags, saved views, tags and columns ----------------------------------------


class _JoinedIds(Aggregate):
    """The ids of a group as "3,7" (GROUP_CONCAT on SQLite, STRING_AGG on PostgreSQL)."""

    function = "GROUP_CONCAT"
    template = "%(function)s(%(expressions)s)"
    output_field = CharField()

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, function="STRING_AGG",
                           template="%(function)s(%(expressions)s::text, ',')", **extra)


def row_query(qs, fields):
    """`qs` as the list's rows: `fields`, the order's tag ids and the values higher apps add
    (registry.ROW_VALUES), each a subquery of the same statement, so a page of 100 rows with
    tags, tracking numbers and open requests is still one query."""
    annotations = {"tag_ids": Subquery(
        OrderTag.objects.filter(order=OuterRef("pk")).order_by().values("order_id")
        .annotate(ids=_JoinedIds("tag_id")).values("ids")
    )}
    annotations.update({v.key: v.expression() for v in registry.ROW_VALUES.values()})
    return qs.annotate(**annotations).values_list(*fields, *annotations, named=True)


COLUMNS = {
    # key: label; the list always shows the order, its status and its next action.
    "items": _("Items"),
    "buyer": _("Buyer"),
    "total": _("Total"),
    "placed": _("Placed"),
    "paid": _("Paid"),
    "deadline": _("Ship-by / next deadline"),
    "tracking": _("Carrier / tracking"),
    "tags": _("Tags"),
}
DEFAULT_COLUMNS = ("items", "buyer", "total", "placed", "deadline", "tags")


@dataclass
class ListConfig:
    views: list  # [SavedView] (unsaved instances with the columns read)
    tags: dict  # {id: name}
    columns: tuple  # the member's shown columns


def list_config(shop, user):
    """The shop's saved views and tags and the member's columns, in one read: every Manage
    Orders view shows all three, and three queries would be a third more than the page's
    rows and counts take together."""
    from .models import ListPreference, SavedView, Tag

    qn = connection.ops.quote_name
    V, T, P = SavedView._meta, Tag._meta, ListPreference._meta

    def col(meta, name):
        return qn(meta.get_field(name).column)

    sql = (
        f"SELECT 'v', {col(V, 'id')}, {col(V, 'name')}, {col(V, 'query')}, {col(V, 'about_count')}, "
        f"{col(V, 'counted_at')}, {col(V, 'created_by')} FROM {qn(V.db_table)} WHERE {col(V, 'shop')} = %s "
        f"UNION ALL SELECT 't', {col(T, 'id')}, {col(T, 'name')}, NULL, NULL, NULL, NULL "
        f"FROM {qn(T.db_table)} WHERE {col(T, 'shop')} = %s "
        f"UNION ALL SELECT 'c', {col(P, 'id')}, {col(P, 'columns')}, NULL, NULL, NULL, NULL "
        f"FROM {qn(P.db_table)} WHERE {col(P, 'shop')} = %s AND {col(P, 'user')} = %s"
    )
    views, tags, columns = [], {}, None
    with connection.cursor() as cursor:
        cursor.execute(sql, [shop.pk, shop.pk, shop.pk, user.pk])
        rows = cursor.fetchall()
    for kind, pk, name, query, about, counted_at, created_by in rows:
        if kind == "v":
            if isinstance(counted_at, str):  # SQLite hands the time back as text
                counted_at = datetime.fromisoformat(counted_at)
            if counted_at is not None and timezone.is_naive(counted_at):
                counted_at = counted_at.replace(tzinfo=UTC)
            views.append(SavedView(pk=pk, shop=shop, name=name, query=query, about_count=about,
                                   counted_at=counted_at, created_by_id=created_by))
        elif kind == "t":
            tags[pk] = name
        else:
            columns = tuple(c for c in name.split(",") if c in COLUMNS)
    views.sort(key=lambda v: (v.name.casefold(), v.pk))
    tags = dict(sorted(tags.items(), key=lambda item: item[1].casefold()))
    return ListConfig(views, tags, DEFAULT_COLUMNS if columns is None else columns)


# The parameters a saved view keeps: the filter and the sort, not the page it was on.
_NOT_SAVED = {"after", "before", "pos", "size"}


def view_query(query):
    """The filter and sort of a QueryDict as a saved view keeps it: no cursors, no empty fields."""
    return urlencode([(k, v) for k, values in query.lists() if k not in _NOT_SAVED for v in values if v])


def exact_count(view_data, counts):
    """The exact count of a saved view that is a plain tab (status counters), else None."""
    if any(view_data.get(k) for k in view_data if k not in ("tab", "sort", "size")):
        return None
    return counts.get(view_data.get("tab") or "all")


def about_count(shop, data, limit):
    """How many orders match `data`, counted up to `limit` (+1 says "more"): the cost of a
    saved view's count is bounded whatever the shop's size."""
    qs = filtered(shop, data).in_tab(data.get("tab") or "all").order_by()
    return qs[: limit + 1].count()
