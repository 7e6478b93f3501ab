"""Manage Orders with filters it refuses, hostile parameters, searches in any case, the page
size select, and the CSV export's formula cells (issue 11, points 5, 6, 7, 12, 13)."""

import base64
import csv
import io
import json
import re
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from orders.models import Order, number_condition
from orders.tests.factories import make_order
from orders.views import spreadsheet_safe
from shops.tests.factories import ShopFactory, SKUFactory
from tests.pages import fetch_both, hx, texts

pytestmark = pytest.mark.django_db
S = Order.Status
HX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "results"}
TOO_MANY = " ".join(f"N{i}" for i in range(101))


def url(shop, name="orders:list", **params):
    base = reverse(name, kwargs={"shop": shop.slug})
    return f"{base}?{urlencode(params)}" if params else base


def numbers(response):
    """The order numbers of the rows, on the page or in its #results partial (which has no context)."""
    return re.findall(r'aria-label="Select order ([^"]+)"', response.content.decode())


def export_rows(response):
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


# --- 5. a filter the list refuses shows no orders ----------------------------------------------

REFUSED_FILTERS = [
    pytest.param({"q": TOO_MANY}, "at most 100", id="101-tokens"),
    pytest.param({"placed_from": "2026-03-02", "placed_to": "2026-03-01"}, "before", id="reversed-dates"),
    pytest.param({"placed_to": "9999-12-31"}, "between 1970-01-01 and 2999-12-31", id="placed-to-9999"),
    pytest.param({"placed_from": "0001-01-01"}, "between 1970-01-01", id="placed-from-year-1"),
    pytest.param({"size": "ZZ"}, "valid choice", id="size-ZZ"),
]


@pytest.mark.parametrize("query, error", REFUSED_FILTERS)
def test_order_list_with_refused_filter_shows_the_error_and_no_orders(seller_client, shop, query, error):
    orders = [make_order(shop) for _ in range(3)]
    for headers in ({}, HX):
        response = seller_client.get(url(shop, **query), **headers)
        assert response.status_code == 200
        content = response.content.decode()
        assert error in content
        if not headers:  # the partial's context is not captured
            assert list(response.context["orders"]) == [] and response.context["filter_refused"] is True
        assert not any(o.number in content for o in orders)
        # No count of "all matching", no bulk action, no pager, no export of the refused filter.
        assert "matching this view" not in content and 'id="bulk"' not in content
        assert "Confirm selected" not in content and "Next page" not in content and "Export CSV" not in content
        assert 'id="filter-refused"' in content


@pytest.mark.parametrize("query, error", REFUSED_FILTERS)
def test_bulk_all_matching_with_refused_filter_is_400_and_changes_nothing(seller_client, shop, query, error):
    orders = [make_order(shop) for _ in range(3)]
    post = url(shop, "orders:bulk", **query)
    for headers in ({}, HX):
        for action in ("confirm", "cancel"):
            response = seller_client.post(
                post, {"action": action, "all_matching": "1", "reason": "pricing_error"}, **headers
            )
            assert response.status_code == 400
            assert error in response.content.decode()
            assert not any(o.number in response.content.decode() for o in orders)
    assert Order.objects.filter(pk__in=[o.pk for o in orders], status=S.AWAITING_CONFIRMATION).count() == 3
    assert not Order.objects.filter(shop=shop).exclude(status=S.AWAITING_CONFIRMATION).exists()


def test_bulk_all_matching_with_valid_filter_still_acts_on_the_matching_orders(seller_client, shop):
    a, b = make_order(shop), make_order(shop)
    make_order(shop, shipping_model="SELLER")
    response = seller_client.post(url(shop, "orders:bulk", q=f"{a.number} {b.number}"),
                                  {"action": "confirm", "all_matching": "1"}, **HX)
    assert response.status_code == 200 and b"Confirm 2 orders, all matching this view?" in response.content
    assert not Order.objects.filter(shop=shop, status=S.AWAITING_SHIPMENT).exists()
    response = seller_client.post(url(shop, "orders:bulk", q=f"{a.number} {b.number}"),
                                  {"action": "confirm", "ids": [a.pk, b.pk], "confirmed": "1"}, **HX)
    assert response.status_code == 200 and b"2 confirmed" in response.content
    assert Order.objects.filter(shop=shop, status=S.AWAITING_SHIPMENT).count() == 2


@pytest.mark.parametrize("query, error", REFUSED_FILTERS)
def test_export_with_refused_filter_is_400(seller_client, shop, query, error):
    order = make_order(shop)
    response = seller_client.get(url(shop, "orders:export", **query))
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    assert error in response.content.decode() and order.number not in response.content.decode()


def test_placed_to_the_last_allowed_day_still_lists(seller_client, shop):
    order = make_order(shop)
    response, partial = fetch_both(seller_client, url(shop, placed_to="2999-12-31"), "results")
    assert [o.number for o in response.context["orders"]] == numbers(partial) == [order.number]
    assert seller_client.get(url(shop, "orders:export", placed_to="2999-12-31")).status_code == 200


# --- 6. odd parameters: cursors, ids -----------------------------------------------------------


def _cursor(value):
    return base64.urlsafe_b64encode(value if isinstance(value, bytes) else json.dumps(value).encode()).decode()


@pytest.mark.parametrize(
    "cursor",
    [
        _cursor(b"[1e400, 5]"),
        _cursor(b'["2026-01-01T00:00:00+00:00", 1e400]'),
        _cursor(["2026-01-01T00:00:00+00:00", 10**30]),
        _cursor(["2026-01-01T00:00:00+00:00", -1]),
        _cursor(["0001-01-01T00:00:00+01:00", 5]),
        _cursor(["9999-12-31T23:59:59-05:00", 5]),
        _cursor(["2026-01-01T00:00:00", 5]),  # naive
        _cursor([None, 5]),
        _cursor({"a": 1}),
        _cursor(b"[" * 100000),
        "²",
        "%%%",
        "A" * 5000,
    ],
)
def test_hostile_cursor_starts_the_list_again(seller_client, shop, cursor):
    order = make_order(shop)
    for sort in ("newest", "oldest", "ship_by"):
        for key in ("after", "before"):
            response = seller_client.get(url(shop, sort=sort, **{key: cursor}))
            assert response.status_code == 200
            assert [o.number for o in response.context["orders"]] == [order.number]
    for key in ("after", "before"):  # the pager's htmx request with the same cursor
        assert numbers(fetch_both(seller_client, url(shop, **{key: cursor}), "results")[1]) == [order.number]


@pytest.mark.parametrize("ids", [["²"], ["1e400"], [str(10**30)], ["-1"], ["1", "x"], ["\x00"]])
def test_bulk_with_hostile_ids_is_400_and_changes_nothing(seller_client, shop, ids):
    order = make_order(shop)
    for headers in ({}, HX):
        response = seller_client.post(url(shop, "orders:bulk"), {"action": "confirm", "ids": ids}, **headers)
        assert response.status_code == 400
        response = seller_client.post(url(shop, "orders:bulk"), {"row_confirm": ids[-1]}, **headers)
        assert response.status_code == 400
    order.refresh_from_db()
    assert order.status == S.AWAITING_CONFIRMATION


def test_order_page_route_with_nul_or_control_characters_is_404(seller_client, shop):
    make_order(shop, number="PLAIN-1")
    for number in ("%00", "PLAIN-1%00", "%0A", "%1F"):
        for suffix in ("", "confirm", "cancel", "note"):
            path = f"/s/{shop.slug}/orders/{number}/{suffix}"
            for headers in ({}, hx("order-main")):
                response = seller_client.post(path, headers=headers) if suffix else seller_client.get(path, headers=headers)
                assert response.status_code == 404, (path, headers)


# --- 7. CSV export neutralises spreadsheet formulas --------------------------------------------


@pytest.mark.parametrize("text", ["=HYPERLINK(\"http://x\",\"y\")", "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd"])
def test_spreadsheet_safe_quotes_formula_starts(text):
    assert spreadsheet_safe(text) == "'" + text


@pytest.mark.parametrize("value", ["Ana Lima", "", "a=b", "O'Brien", 12, None])
def test_spreadsheet_safe_keeps_plain_values(value):
    assert spreadsheet_safe(value) == value


def test_csv_export_writes_buyer_formulas_as_text(seller_client, shop):
    sku = SKUFactory(shop=shop, code="=SKU", name="+Cup")
    order = make_order(shop, number="=1+2", lines=[(sku, 1)], name='=HYPERLINK("http://evil","click")')
    Order.objects.filter(pk=order.pk).update(city="@SUM(A1)", country="-1", items_summary="+Cup x1")
    response = seller_client.get(url(shop, "orders:export"))
    header, row = export_rows(response)
    cells = dict(zip(header, row, strict=True))
    assert cells["number"] == "'=1+2"
    assert cells["buyer_name"] == "'=HYPERLINK(\"http://evil\",\"click\")"
    assert cells["city"] == "'@SUM(A1)"
    assert cells["country"] == "'-1"
    assert cells["items_summary"] == "'+Cup x1"
    assert all(not c.startswith(("=", "+", "-", "@", "\t", "\r")) for c in row)
    # Numbers and times the shop wrote are left as they are.
    assert cells["total"][0].isdigit() and cells["placed_at"][0].isdigit()


# --- 12. search in any case, "not found" -------------------------------------------------------


def test_search_finds_order_numbers_in_any_case(seller_client, shop):
    upper = make_order(shop, number="BOR-100033")
    lower = make_order(shop, number="lower-77")
    make_order(shop, number="BOR-100034")
    for q, expected in (("bor-100033", {upper.number}), ("Bor-100033 LOWER-77", {upper.number, lower.number})):
        response, partial = fetch_both(seller_client, url(shop, q=q), "results")
        assert {o.number for o in response.context["orders"]} == set(numbers(partial)) == expected
        assert response.context["not_found"] == []
        assert "not found" not in partial.content.decode()


def test_search_in_another_case_reveals_no_other_shop(seller_client, shop):
    make_order(ShopFactory(), number="FOREIGN-1")
    response, partial = fetch_both(seller_client, url(shop, q="foreign-1"), "results")
    assert list(response.context["orders"]) == [] and numbers(partial) == []
    assert response.context["not_found"] == ["foreign-1"]
    assert all("FOREIGN-1" not in page for page in texts(response, partial))


def test_search_shows_the_pasted_tokens_it_did_not_find(seller_client, shop):
    SKUFactory(shop=shop, code="MUG-1")
    a = make_order(shop, number="BOR-1")
    for headers in ({}, HX):
        response = seller_client.get(url(shop, q="bor-1 MUG-1 NOPE-1, nope-2"), **headers)
        if not headers:
            assert {o.number for o in response.context["orders"]} == {a.number}
            assert response.context["not_found"] == ["NOPE-1", "nope-2"]
        assert a.number in response.content.decode()
        assert "2 not found: NOPE-1, nope-2" in response.content.decode()
    assert b"not found" not in seller_client.get(url(shop, q="BOR-1")).content


def test_search_finds_tracking_numbers_in_any_case_and_counts_them_found(seller_client, shop):
    from shipping import actions as shipping_actions
    from shipping.tests.factories import ACTOR, order_to_ship, ups_number

    order = order_to_ship(shop, model="SELLER")
    (pkg,) = shipping_actions.ensure_packages(order, ACTOR)
    number = ups_number()
    # Typed in lower case, stored as the carrier writes it.
    shipping_actions.ship_package(package=pkg, carrier="ups", tracking_number=number.lower(), actor=ACTOR)
    pkg.refresh_from_db()
    assert pkg.tracking_number == number
    response, partial = fetch_both(seller_client, url(shop, q=f"{number.lower()} 1z00000000000"), "results")
    assert [o.number for o in response.context["orders"]] == numbers(partial) == [order.number]
    assert response.context["not_found"] == ["1z00000000000"]
    assert all("1 not found: 1z00000000000" in page for page in texts(response, partial))


def test_search_query_count_is_fixed_whatever_the_number_of_tokens(seller_client, shop):
    for _ in range(30):
        make_order(shop)
    made = list(Order.objects.filter(shop=shop).values_list("number", flat=True))
    counts = []
    for tokens in (made[:1], made[:20] + [f"missing-{i}" for i in range(80)]):
        for headers in ({}, hx("results")):
            with CaptureQueriesContext(connection) as ctx:
                response = seller_client.get(url(shop, q=" ".join(t.lower() for t in tokens)), headers=headers)
                assert response.status_code == 200
            counts.append(len(ctx))
    page, partial = counts[0::2], counts[1::2]
    assert page[0] == page[1] <= 11 and partial[0] == partial[1] <= page[0], counts


def test_search_by_number_can_use_the_upper_index(shop):
    qs = Order.objects.filter(number_condition(["bor-1", "BOR-2"]))
    sql, sql_params = qs.query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("EXPLAIN " + sql, sql_params)
        else:
            cursor.execute("EXPLAIN QUERY PLAN " + sql, sql_params)
        plan = " ".join(str(row) for row in cursor.fetchall())
    assert "order_number_upper" in plan, plan


# --- 13. per page ------------------------------------------------------------------------------


def _selected_size(content):
    select = content.split('name="size"', 1)[1].split("</select>", 1)[0]
    return [part.split('"', 2)[1] for part in select.split("<option value=")[1:] if " selected" in part.split(">", 1)[0]]


def test_per_page_select_shows_the_size_the_list_shows(seller_client, shop):
    for _ in range(60):
        make_order(shop)
    response = seller_client.get(url(shop))
    assert len(response.context["orders"]) == 50
    assert _selected_size(response.content.decode()) == ["50"]
    for size in ("20", "100"):
        response, partial = fetch_both(seller_client, url(shop, size=size), "results")
        assert _selected_size(response.content.decode()) == [size]  # the select is the filter bar's, not the rows'
        assert len(numbers(partial)) == min(int(size), 60)
    # A size the list refuses shows the error and the default selected, so Apply fixes it.
    assert _selected_size(seller_client.get(url(shop, size="ZZ")).content.decode()) == ["50"]


def test_apply_without_a_change_keeps_the_page_size(seller_client, shop):
    for _ in range(60):
        make_order(shop)
    first = seller_client.get(url(shop, tab="all")).content.decode()
    # What the filter form submits unchanged: every field's current value.
    applied, partial = fetch_both(seller_client, url(shop, tab="all", q="", size=_selected_size(first)[0], sort="newest"),
                                  "results")
    assert len(applied.context["orders"]) == len(numbers(partial)) == 50


def test_recent_orders_are_within_the_default_date_range():
    # The bounded date fields must accept every date an order can have.
    from core import params

    assert params.in_date_range(timezone.now()) and params.in_date_range(timezone.now() + timedelta(days=365 * 900))
