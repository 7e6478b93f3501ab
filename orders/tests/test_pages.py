import csv
import io
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from orders.models import Order
from orders.tests.factories import advance, make_order
from shops.models import Notification
from shops.tests.factories import MembershipFactory, ShopFactory, SKUFactory
from tests.pages import assert_fragment, assert_full_page, assert_redirect, fetch_both, hx, texts

pytestmark = pytest.mark.django_db
S = Order.Status


def numbers(body):
    """Order numbers of the rows on a list page or in its #results partial (which has no context)."""
    return re.findall(r'aria-label="Select order ([^"]+)"', body)


def list_url(shop, **params):
    from urllib.parse import urlencode

    url = reverse("orders:list", kwargs={"shop": shop.slug})
    return f"{url}?{urlencode(params)}" if params else url


def test_login_page_renders_and_logs_in(client, seller):
    full, partial = fetch_both(client, "/login/", None)  # no partial: htmx gets the page too
    assert all('name="username"' in body for body in texts(full, partial))
    response = client.post("/login/", {"username": seller.username, "password": "pw"})
    assert response.status_code == 302
    assert client.get("/", follow=True).redirect_chain[-1][0].startswith(f"/s/{seller.memberships.get().shop.slug}/orders/")


def test_anonymous_is_sent_to_login(client, shop):
    make_order(shop)
    for headers in ({}, hx("results")):
        response = client.get(list_url(shop), headers=headers)
        assert response.status_code == 302 and "/login/" in response["Location"], headers


def test_order_list_full_page_and_htmx_partial(seller_client, shop):
    order = make_order(shop)
    full, partial = fetch_both(seller_client, list_url(shop), "results")
    page, rows = texts(full, partial)
    assert order.number in page and order.number in rows
    assert 'id="filters"' in page and 'id="board"' in page
    assert 'id="filters"' not in rows and 'id="board"' not in rows
    assert '<nav id="tabs" class="tabs" aria-label="Order status" hx-swap-oob="true">' in rows  # counts refresh with the rows
    assert 'hx-swap-oob="true"' not in page
    # An htmx request aimed elsewhere (a boosted link, a history restore) gets the whole page.
    other = seller_client.get(list_url(shop), headers=hx("main"))
    assert "<html" in other.content.decode() and order.number in other.content.decode()


def test_order_list_tabs_show_exact_counts(seller_client, shop):
    for _ in range(3):
        make_order(shop)
    make_order(shop, paid=False)
    for content in texts(*fetch_both(seller_client, list_url(shop), "results")):  # the partial's tabs swap out of band
        assert 'data-status="AWAITING_CONFIRMATION">3<' in content
        assert 'data-status="UNPAID">1<' in content
        assert 'data-status="all">4<' in content


@pytest.mark.parametrize("tab", ["all", S.AWAITING_CONFIRMATION])
def test_order_list_query_count_is_the_same_at_any_page_size_and_depth(seller_client, shop, tab):
    for _ in range(120):
        make_order(shop)
    counts, partial_counts = [], []
    for size in (20, 100):
        with CaptureQueriesContext(connection) as ctx:
            response = seller_client.get(list_url(shop, tab=tab, size=size))
        counts.append(len(ctx))
        assert len(response.context["orders"]) == size
        with CaptureQueriesContext(connection) as ctx:
            partial = seller_client.get(list_url(shop, tab=tab, size=size), headers=hx("results"))
        partial_counts.append(len(ctx))
        assert assert_fragment(partial, "results").count('name="ids"') == size
    deep_cursor = response.context["page"].next_cursor
    with CaptureQueriesContext(connection) as ctx:
        seller_client.get(list_url(shop, tab=tab, size=20, after=deep_cursor))
    counts.append(len(ctx))
    with CaptureQueriesContext(connection) as ctx:
        seller_client.get(list_url(shop, tab=tab, size=20, after=deep_cursor), headers=hx("results"))
    partial_counts.append(len(ctx))
    assert counts[0] == counts[1] == counts[2] <= 8, counts
    assert partial_counts[0] == partial_counts[1] == partial_counts[2] <= counts[0], partial_counts


def test_keyset_pages_cover_every_order_once(seller_client, shop):
    made = {make_order(shop).number for _ in range(45)}
    seen, after = [], None
    while True:
        params = {"size": 20, **({"after": after} if after else {})}
        full, partial = fetch_both(seller_client, list_url(shop, **params), "results")
        page = full.context["page"]
        assert numbers(full.content.decode()) == numbers(partial.content.decode()) == [o.number for o in page.rows]
        seen += [o.number for o in page.rows]
        after = page.next_cursor
        if not after:
            break
    assert len(seen) == len(set(seen)) == 45 and set(seen) == made
    full, partial = fetch_both(seller_client, list_url(shop, size=20, before=page.prev_cursor), "results")
    assert numbers(full.content.decode()) == numbers(partial.content.decode()) == seen[20:40]


def test_search_takes_many_numbers_and_skus(seller_client, shop):
    mug = SKUFactory(shop=shop, code="MUG-1")
    a, b, c = make_order(shop), make_order(shop), make_order(shop, lines=[(mug, 1)])
    make_order(shop)
    for body in texts(*fetch_both(seller_client, list_url(shop, q=f"{a.number}\n{b.number}, MUG-1"), "results")):
        assert set(numbers(body)) == {a.number, b.number, c.number}


def test_search_refuses_more_than_100_tokens(seller_client, shop):
    full, partial = fetch_both(seller_client, list_url(shop, q=" ".join(f"N{i}" for i in range(101))), "results")
    page, rows = texts(full, partial)
    assert "at most 100" in page
    # htmx swaps the rows; the error reaches the filter bar out of band.
    assert re.search(r'<div id="filter-errors" role="alert" hx-swap-oob="innerHTML"><p class="error">.*at most 100', rows)


def test_filters_narrow_the_list_and_live_in_the_url(seller_client, shop):
    mug = SKUFactory(shop=shop, code="MUG-2")
    seller_ship = make_order(shop, shipping_model="SELLER", lines=[(mug, 1)])
    make_order(shop, shipping_model="PLATFORM")
    for params in ({"shipping_model": "SELLER"}, {"sku": "MUG-2"}):
        full, partial = fetch_both(seller_client, list_url(shop, **params), "results")
        assert [o.number for o in full.context["orders"]] == [seller_ship.number]
        assert numbers(full.content.decode()) == numbers(partial.content.decode()) == [seller_ship.number]
        # The pager and the tabs keep the filter (it lives in the URL).
        key, value = next(iter(params.items()))
        assert f"{key}={value}" in partial.content.decode()


def test_another_shops_order_numbers_in_search_reveal_nothing(seller_client, shop):
    foreign = make_order(ShopFactory())
    response, response_rows = fetch_both(seller_client, list_url(shop, q=foreign.number), "results")
    assert list(response.context["orders"]) == []
    missing, missing_rows = fetch_both(seller_client, list_url(shop, q="Z99999999"), "results")
    # The page for another shop's order reads exactly like the page for no order at all.
    def strip(r, number):  # each response masks the CSRF token afresh
        return re.sub(r'(X-CSRFToken": "|name="csrfmiddlewaretoken" value=")[^"]*', r"\1", r.content.decode().replace(number, "TOKEN"))

    assert strip(response, foreign.number) == strip(missing, "Z99999999")
    assert strip(response_rows, foreign.number) == strip(missing_rows, "Z99999999")


def test_another_shops_order_page_is_404(seller_client, shop):
    foreign = make_order(ShopFactory())
    pages = [(reverse("orders:detail", kwargs={"shop": shop.slug, "number": foreign.number}), "order-main"),
             (reverse("orders:list", kwargs={"shop": foreign.shop.slug}), "results"),
             (reverse("orders:board", kwargs={"shop": foreign.shop.slug}), "board")]
    for url, target in pages:
        for headers in ({}, hx(target)):
            response = seller_client.get(url, headers=headers)
            assert response.status_code == 404 and foreign.number not in response.content.decode(), (url, headers)
    url = reverse("orders:confirm", kwargs={"shop": foreign.shop.slug, "number": foreign.number})
    assert seller_client.post(url).status_code == 404
    assert seller_client.post(url, headers=hx("order-main")).status_code == 404
    foreign.refresh_from_db()
    assert foreign.status == S.AWAITING_CONFIRMATION


def test_bulk_confirm_reports_per_order_and_touches_no_other_shop(seller_client, shop):
    sku = SKUFactory(shop=shop, code="ONE-LEFT", stock_on_hand=1)
    first, second = make_order(shop, lines=[(sku, 1)]), make_order(shop, lines=[(sku, 1)])
    foreign = make_order(ShopFactory())
    url = reverse("orders:bulk", kwargs={"shop": shop.slug})
    response = seller_client.post(url, {"action": "confirm", "ids": [first.pk, second.pk, foreign.pk]},
                                  headers=hx("results"))
    rows = assert_fragment(response, "results")
    assert "1 confirmed; 2 refused" in rows
    assert "ONE-LEFT" in rows
    assert foreign.number not in rows
    assert "toast" in response["HX-Trigger"]
    foreign.refresh_from_db()
    first.refresh_from_db()
    assert foreign.status == S.AWAITING_CONFIRMATION and first.status == S.AWAITING_SHIPMENT


def test_bulk_cancel_without_js_redirects_back_with_the_filter(seller_client, shop):
    a, b = make_order(shop), make_order(shop)
    url = reverse("orders:bulk", kwargs={"shop": shop.slug}) + "?tab=AWAITING_CONFIRMATION"
    asked = seller_client.post(url, {"action": "cancel", "ids": [a.pk, b.pk], "reason": "pricing_error"})
    # Without JS the confirmation is a step of its own: the page asks, nothing is cancelled yet.
    assert "Cancel 2 orders?" in assert_full_page(asked)
    assert not Order.objects.filter(pk__in=[a.pk, b.pk], status=S.CANCELLED).exists()
    response = seller_client.post(url, {"action": "cancel", "ids": [a.pk, b.pk], "reason": "pricing_error",
                                        "confirmed": "1"})
    assert assert_redirect(response).endswith("?tab=AWAITING_CONFIRMATION")
    assert Order.objects.filter(pk__in=[a.pk, b.pk], status=S.CANCELLED).count() == 2
    assert a.messages.filter(body__icontains="pricing error").exists()
    # Back on the tab the seller came from, page and rows alike: the cancelled orders left it.
    for body in texts(*fetch_both(seller_client, response["Location"], "results")):
        assert numbers(body) == [] and 'data-status="CANCELLED">2<' in body


def test_bulk_cancel_other_without_note_is_refused(seller_client, shop):
    a = make_order(shop)
    url = reverse("orders:bulk", kwargs={"shop": shop.slug})
    response = seller_client.post(url, {"action": "cancel", "ids": [a.pk], "reason": "other"}, headers=hx("results"))
    assert a.number in assert_fragment(response, "results", status=400)
    a.refresh_from_db()
    assert a.status == S.AWAITING_CONFIRMATION
    # Without JS the refusal comes back to the list, where the page says why.
    response = seller_client.post(url, {"action": "cancel", "ids": [a.pk], "reason": "other"})
    page = seller_client.get(assert_redirect(response)).content.decode()
    assert '<div class="toast toast-error">Say why when the reason is “Other”.</div>' in page
    a.refresh_from_db()
    assert a.status == S.AWAITING_CONFIRMATION


def test_bulk_confirm_all_matching_uses_the_filter(seller_client, shop):
    platform = [make_order(shop, shipping_model="PLATFORM") for _ in range(3)]
    seller_model = make_order(shop, shipping_model="SELLER")
    url = reverse("orders:bulk", kwargs={"shop": shop.slug}) + "?shipping_model=PLATFORM"
    asked = assert_fragment(seller_client.post(url, {"action": "confirm", "all_matching": "1"},
                                               headers=hx("results")), "results")
    assert "Confirm 3 orders, all matching this view?" in asked
    assert not Order.objects.filter(shop=shop, status=S.AWAITING_SHIPMENT).exists()
    ids = re.findall(r'<input type="hidden" name="ids" value="(\d+)">', asked)
    response = seller_client.post(url, {"action": "confirm", "ids": ids, "confirmed": "1"}, headers=hx("results"))
    rows = assert_fragment(response, "results")
    assert "3 confirmed" in rows and set(numbers(rows)) == {o.number for o in platform}
    assert Order.objects.filter(pk__in=[o.pk for o in platform], status=S.AWAITING_SHIPMENT).count() == 3
    seller_model.refresh_from_db()
    assert seller_model.status == S.AWAITING_CONFIRMATION
    asked = assert_full_page(seller_client.post(url, {"action": "confirm", "all_matching": "1"}))  # without JS
    assert "Confirm 3 orders, all matching this view?" in asked and 'name="confirmed" value="1"' in asked
    seller_model.refresh_from_db()
    assert seller_model.status == S.AWAITING_CONFIRMATION


def test_row_actions_show_only_when_allowed(seller_client, shop):
    new = make_order(shop)
    shipped = advance(make_order(shop), S.IN_TRANSIT)
    for content in texts(*fetch_both(seller_client, list_url(shop), "results")):
        assert f'aria-label="Confirm order {new.number}"' in content
        assert f'aria-label="Confirm order {shipped.number}"' not in content


def test_order_rows_escape_what_buyers_and_sellers_typed(seller_client, shop):
    sku = SKUFactory(shop=shop, code="<script>sku</script>", name="<b>mug</b>")
    order = make_order(shop, lines=[(sku, 1)], name='<script>alert("x")</script> & Co')
    full, partial = fetch_both(seller_client, list_url(shop), "results")
    for response in (full, partial):
        content = response.content.decode()
        assert order.number in content
        assert "<script>" not in content and "<b>" not in content
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co" in content
        assert "&lt;script&gt;sku&lt;/script&gt;" in content


def test_filter_bar_escapes_the_query(seller_client, shop):
    full, partial = fetch_both(seller_client, list_url(shop, sku='"><script>', q="<script>", board="<x>"), "results")
    for content in texts(full, partial):
        assert "<script>" not in content and "<x>" not in content
    assert 'name="sku" value="&quot;&gt;&lt;script&gt;"' in full.content.decode()


@pytest.mark.parametrize("data", [
    None,
    {"tab": "all"},
    {"placed_from": "", "placed_to": "", "sku": ""},
    {"placed_from": "2026-01-01", "sku": "MUG-1", "sort": "oldest", "shipping_model": "SELLER"},
    {"placed_from": "not a date", "sku": "x" * 70, "deadline": "nope", "size": "7"},
    {"placed_from": "2026-02-01", "placed_to": "2026-01-01"},
    {"sku": '"><script>', "sort": '"><script>'},
])
def test_filter_inputs_render_as_django_widgets_do(data):
    """The filter bar's `input` and `select` partials give what {{ field }} gives (attributes
    in any order): value, maxlength, id, the selected option, aria-invalid/aria-describedby."""
    from django.template.loader import get_template
    from django.test.html import parse_html

    from orders import listing
    from orders.templatetags.orders_tags import widget

    form = listing.OrderFilterForm(data)
    if data is not None:
        form.is_valid()
    for name in ("placed_from", "placed_to", "sku", "shipping_model", "deadline", "sort", "size"):
        partial = get_template(f"orders/order_list.html#{'input' if name in ('placed_from', 'placed_to', 'sku') else 'select'}")
        html = partial.render({"widget": widget(form[name])})
        assert parse_html(html) == parse_html(str(form[name])), name
    size = get_template("orders/order_list.html#select").render({"widget": widget(form["size"], "50")})
    assert '<option value="50" selected>' in size and size.count(" selected") == 1


def test_rows_partial_renders_each_orders_ids_names_and_actions(shop):
    """The `rows` partial, for orders in three shapes (a deadline, none; confirmable or not),
    gives each row the ids, names, values and aria labels the page's forms and scripts read,
    and {% fastfor %} renders what {% for %} renders."""
    from django.template import Context
    from django.template.loader import get_template
    from django.utils import timezone

    from orders.templatetags.orders_tags import ROW_FIELDS, FastForNode

    unpaid = make_order(shop, paid=False, name="Ann & <Bo>")
    confirmable = make_order(shop)
    shipped = advance(make_order(shop, shipping_model="SELLER"), S.IN_TRANSIT)
    orders = list(Order.objects.filter(pk__in=[unpaid.pk, confirmable.pk, shipped.pk]).order_by("pk")
                  .values_list(*ROW_FIELDS, named=True))
    from shops.roles import Can

    partial = get_template("orders/order_list.html#rows")
    # `can`: a member who may confirm (the context processor's, from the membership).
    context = {"orders": orders, "shop": shop, "now": timezone.now(), "can": Can(frozenset({"orders.confirm"}))}
    html = partial.render(context)
    assert html.count("<tr>") == 3 and html.lstrip().startswith('<tbody id="rows">')
    for order in (unpaid, confirmable, shipped):
        row = next(r for r in html.split("<tr>")[1:] if f'value="{order.pk}"' in r)
        assert f'<input type="checkbox" name="ids" value="{order.pk}" aria-label="Select order {order.number}">' in row
        detail = reverse("orders:detail", kwargs={"shop": shop.slug, "number": order.number})
        assert f'<a href="{detail}">{order.number}</a>' in row
        assert f'<span class="status status-{order.status.lower()}">{order.get_status_display()}</span>' in row
        placed = order.placed_at.astimezone(shop.tzinfo).isoformat()
        assert f'<time datetime="{placed}">' in row
        button = (f'<button type="submit" name="row_confirm" value="{order.pk}" class="small" '
                  f'aria-label="Confirm order {order.number}">Confirm</button>')
        assert (button in row) == (order == confirmable)
        assert ("data-countdown" in row) == (order != shipped)
    assert "Ann &amp; &lt;Bo&gt;" in html
    assert "Ship by seller" in html and "Ship by platform" in html

    node = partial.template.nodelist.get_nodes_by_type(FastForNode)[0]
    rows = Context({"rows": _row_values(context)})
    rows.template = partial.template  # {% blocktranslate %} in the body reads the template's engine
    assert node.render(rows) == node.render(rows, slow=True)
    assert get_template("orders/order_list.html#rows").render({**context, "orders": []}).count(
        '<td colspan="12" class="empty">No orders match this view.</td>') == 1


def _row_values(context):
    from orders.templatetags.orders_tags import row_values

    return row_values(context["orders"], context["shop"], context["now"])


def test_no_html_is_built_in_python():
    """HTML lives in templates: no string in orders_tags.py holds a tag."""
    import ast
    from pathlib import Path

    import orders.templatetags.orders_tags as tags

    tree = ast.parse(Path(tags.__file__).read_text())
    literals = [node.value for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str)]
    assert not [text for text in literals if re.search(r"<\s*/?[a-z]", text) and not text.startswith(tags.__doc__ or "\0")
                and not _is_docstring(tree, text)]


def _is_docstring(tree, text):
    import ast

    return any(ast.get_docstring(node, clean=False) == text
               for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.Module)))


@pytest.mark.parametrize("query", [
    "", "tab=all", "q=a+b%0Ac&tab=UNPAID&after=xyz", "sku=%C3%A9%26%3D&before=c&size=20", "ids=1&ids=2&tab=all", "after=a&before=b",
])
@pytest.mark.parametrize("changes", [{}, {"tab": "CANCELLED"}, {"after": "cur"}, {"before": "cur", "tab": None},
                                     {"size": 100, "sku": ""}])
def test_query_string_matches_a_copied_querydict(query, changes):
    from django.http import QueryDict

    from orders.templatetags.orders_tags import query_string

    params = QueryDict(query).copy()
    for key, value in changes.items():
        params.pop(key, None)
        if value not in (None, ""):
            params[key] = value
    for key in ("after", "before"):
        if key not in changes:
            params.pop(key, None)
    assert query_string(QueryDict(query), **changes) == f"?{params.urlencode()}"


def test_cached_url_is_reverse_under_each_script_prefix():
    from django.urls import clear_script_prefix, set_script_prefix

    from orders.templatetags.orders_tags import cached_url

    assert cached_url("orders:list", shop="s-1") == reverse("orders:list", kwargs={"shop": "s-1"})
    set_script_prefix("/sub/")
    try:
        assert cached_url("orders:list", shop="s-1") == reverse("orders:list", kwargs={"shop": "s-1"})
        assert cached_url("orders:list", shop="s-1").startswith("/sub/")
    finally:
        clear_script_prefix()
    assert not cached_url("orders:list", shop="s-1").startswith("/sub/")


def test_order_page_full_and_partial_masks_buyer(client, shop):
    """Masked for a role without buyer.full_address (the role table's test is
    seller_center/tests/test_permissions.py::test_full_address_follows_the_role)."""
    from shops.models import Membership
    from shops.tests.factories import MembershipFactory

    order = make_order(shop, phone="+15550009876")
    client.force_login(MembershipFactory(shop=shop, role=Membership.Role.FINANCE).user)
    url = reverse("orders:detail", kwargs={"shop": shop.slug, "number": order.number})
    full, partial = fetch_both(client, url, "order-main")
    for body in texts(full, partial):
        assert order.number in body
        assert "9876" in body and "+15550009876" not in body
        assert "1 Market St" not in body


def test_order_page_actions_confirm_cancel_note(seller_client, shop):
    order = make_order(shop)
    base = {"shop": shop.slug, "number": order.number}
    page = reverse("orders:detail", kwargs=base)
    response = seller_client.post(reverse("orders:confirm", kwargs=base), headers=hx("order-main"))
    assert "Awaiting shipment" in assert_fragment(response, "order-main") and "toast" in response["HX-Trigger"]
    response = seller_client.post(reverse("orders:confirm", kwargs=base), headers=hx("order-main"))
    assert "cannot be confirmed" in assert_fragment(response, "order-main", status=409)
    assert_redirect(seller_client.post(reverse("orders:confirm", kwargs=base)), to=page)  # without JS: the reason on the page
    assert "cannot be confirmed" in seller_client.get(page).content.decode()
    assert_redirect(seller_client.post(reverse("orders:note", kwargs=base), {"text": "Gift wrap"}), to=page)
    for body in texts(*fetch_both(seller_client, page, "order-main")):
        assert "Gift wrap" in body and "Awaiting shipment" in body
    response = seller_client.post(reverse("orders:cancel", kwargs=base), {"reason": "out_of_stock"}, headers=hx("order-main"))
    assert "Cancelled" in assert_fragment(response, "order-main")
    order.refresh_from_db()
    assert order.status == S.CANCELLED
    assert list(order.events.values_list("action", flat=True)) == ["place", "pay", "confirm", "note", "cancel"]


def test_needs_action_board_counts_and_links(seller_client, shop):
    from datetime import timedelta

    from django.utils import timezone

    make_order(shop, placed_at=timezone.now() - timedelta(hours=60))  # ship-by in 12 h
    make_order(shop, placed_at=timezone.now() - timedelta(hours=80))  # past ship-by
    # The list loads the board with htmx; without JS its "Open the board" link opens it as a page.
    full, partial = fetch_both(seller_client, reverse("orders:board", kwargs={"shop": shop.slug}), "board")
    cards = {c["card"].key: c["count"] for c in full.context["cards"]}
    assert cards["ship_24h"] == 1 and cards["past_ship_by"] == 1
    link = re.escape(f'href="{list_url(shop)}?deadline=past_ship_by') + r'[^"]*">\s*<span class="board-count">1</span>'
    assert all(re.search(link, body) for body in texts(full, partial))
    full, partial = fetch_both(seller_client, list_url(shop, deadline="past_ship_by"), "results")
    assert len(full.context["orders"]) == 1 and len(numbers(partial.content.decode())) == 1


def test_csv_export_streams_the_current_filter(seller_client, shop):
    a = make_order(shop, shipping_model="SELLER")
    make_order(shop, shipping_model="PLATFORM")
    response = seller_client.get(reverse("orders:export", kwargs={"shop": shop.slug}) + "?shipping_model=SELLER")
    assert response.streaming and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][0] == "number" and [r[0] for r in rows[1:]] == [a.number]


def test_new_paid_order_rings_the_bell_and_emails_the_shop(seller_client, shop, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        order = make_order(shop)
    assert Notification.objects.filter(shop=shop, kind="new_order", text__contains=order.number).exists()
    assert any(order.number in m.subject for m in mailoutbox)
    page = seller_client.get(list_url(shop)).content.decode()
    assert 'id="bell-count">1<' in page
    url = reverse("shops:notifications", kwargs={"shop": shop.slug})
    for body in texts(*fetch_both(seller_client, url, "notification-list")):
        assert order.number in body
    assert_redirect(seller_client.post(reverse("shops:notifications-read", kwargs={"shop": shop.slug})), to=url)
    assert 'id="bell-count">0<' in seller_client.get(list_url(shop)).content.decode()


def test_notifications_page_full_and_partial(seller_client, shop):
    make_order(shop)
    url = reverse("shops:notifications", kwargs={"shop": shop.slug})
    for body in texts(*fetch_both(seller_client, url, "notification-list")):
        assert "New order" in body


def test_staff_member_of_two_shops_switches_between_them(client):
    membership = MembershipFactory()
    other = ShopFactory()
    MembershipFactory(user=membership.user, shop=other)
    client.force_login(membership.user)
    full, partial = fetch_both(client, list_url(membership.shop), "results")
    content = full.content.decode()
    assert other.name in content and f"/s/{other.slug}/orders/" in content
    assert other.name not in partial.content.decode()  # the switcher is the shell's, not the rows'
    fetch_both(client, list_url(other), "results")
