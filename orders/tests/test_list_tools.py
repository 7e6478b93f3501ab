"""Manage Orders for the seller who lives in it: tags and the pinned note, saved views, the
confirmation step of destructive bulk actions, columns, the paid / total sorts, "updated
since" and the "1–50 of 160" range."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from orders import actions, listing
from orders.models import ListPreference, Order, OrderEvent, OrderTag, SavedView, Tag
from orders.tests.factories import make_order
from shops.models import Membership
from shops.roles import Role
from shops.tests.factories import MembershipFactory, ShopFactory
from tests.pages import assert_fragment, assert_full_page, assert_redirect, fetch_both, hx, texts

S = Order.Status
pytestmark = pytest.mark.django_db


def list_url(shop, **query):
    url = reverse("orders:list", kwargs={"shop": shop.slug})
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def bulk_url(shop, query=""):
    return reverse("orders:bulk", kwargs={"shop": shop.slug}) + (f"?{query}" if query else "")


def numbers(html):
    return re.findall(r'aria-label="Select order ([^"]+)"', html)


def member(shop, role):
    client = Client()
    client.force_login(MembershipFactory(shop=shop, role=role).user)
    return client


# --- tags -------------------------------------------------------------------------------


def test_tag_create_then_bulk_add_and_remove_write_history_and_filter(seller_client, shop):
    a, b, c = make_order(shop), make_order(shop), make_order(shop)
    response = seller_client.post(reverse("orders:tag_create", kwargs={"shop": shop.slug}), {"name": "  Gift   wrap "})
    assert_redirect(response)
    tag = Tag.objects.get(shop=shop)
    assert tag.name == "Gift wrap"
    # Add to a and b (b twice: the second time changes nothing and writes nothing).
    response = seller_client.post(bulk_url(shop), {"action": "tag", "tag": tag.pk, "ids": [a.pk, b.pk]},
                                  headers=hx("results"))
    assert "2 tagged “Gift wrap”" in assert_fragment(response, "results")
    response = seller_client.post(bulk_url(shop), {"action": "tag", "tag": tag.pk, "ids": [b.pk, c.pk]},
                                  headers=hx("results"))
    assert "1 tagged “Gift wrap”" in assert_fragment(response, "results")
    assert set(OrderTag.objects.values_list("order_id", flat=True)) == {a.pk, b.pk, c.pk}
    assert OrderEvent.objects.filter(action="tag", note="Gift wrap").count() == 3
    # Filter by tag, and the rows show the tag.
    for body in texts(*fetch_both(seller_client, list_url(shop, tag=tag.pk), "results")):
        assert set(numbers(body)) == {a.number, b.number, c.number}
        assert '<span class="tags">Gift wrap</span>' in body
    # Remove from a: one history row, the link gone.
    response = seller_client.post(bulk_url(shop), {"action": "untag", "tag": tag.pk, "ids": [a.pk]})
    assert_redirect(response)
    assert not OrderTag.objects.filter(order=a).exists()
    assert OrderEvent.objects.filter(order=a, action="untag").count() == 1
    assert set(numbers(seller_client.get(list_url(shop, tag=tag.pk)).content.decode())) == {b.number, c.number}


def test_tags_are_the_shops_own(seller_client, shop):
    mine = make_order(shop)
    other_shop = ShopFactory()
    theirs_tag = Tag.objects.create(shop=other_shop, name="Theirs")
    theirs = make_order(other_shop)
    OrderTag.objects.create(order=theirs, tag=theirs_tag)
    # Another shop's tag filters nothing in, and cannot be put on this shop's orders.
    assert numbers(seller_client.get(list_url(shop, tag=theirs_tag.pk)).content.decode()) == []
    response = seller_client.post(bulk_url(shop), {"action": "tag", "tag": theirs_tag.pk, "ids": [mine.pk]},
                                  headers=hx("results"))
    assert response.status_code == 400 and "Choose one of the shop's tags." in response["HX-Trigger"]
    assert not OrderTag.objects.filter(order=mine).exists()
    # This shop's tag on another shop's order: not found, nothing written.
    tag = Tag.objects.create(shop=shop, name="Mine")
    result = actions.tag_orders(shop=shop, order_ids=[theirs.pk], tag=tag, actor=_actor(shop))
    assert result.done == [] and "(not found)" in result.refused
    assert not OrderTag.objects.filter(order=theirs, tag=tag).exists()


def _actor(shop):
    from core.actor import Actor

    return Actor.seller(Membership.objects.filter(shop=shop).first().user)


@pytest.mark.parametrize("name, error", [("", "Name the tag first."), ("x" * 41, "at most 40"), ("gift", "already")])
def test_tag_create_refuses_bad_names(seller_client, shop, name, error):
    Tag.objects.create(shop=shop, name="Gift")
    response = seller_client.post(reverse("orders:tag_create", kwargs={"shop": shop.slug}), {"name": name},
                                  headers=hx())
    assert response.status_code == 400 and error in response["HX-Trigger"]
    assert Tag.objects.filter(shop=shop).count() == 1


def test_tagging_needs_orders_note_and_creating_tags_orders_tags(shop):
    order = make_order(shop)
    tag = Tag.objects.create(shop=shop, name="VIP")
    viewer = member(shop, Role.VIEWER)
    assert viewer.post(bulk_url(shop), {"action": "tag", "tag": tag.pk, "ids": [order.pk]}).status_code == 403
    fulfilment = member(shop, Role.FULFILMENT)
    assert fulfilment.post(reverse("orders:tag_create", kwargs={"shop": shop.slug}), {"name": "X"}).status_code == 403
    assert_redirect(fulfilment.post(bulk_url(shop), {"action": "tag", "tag": tag.pk, "ids": [order.pk]}))
    assert OrderTag.objects.filter(order=order, tag=tag).exists()


def test_tag_all_matching_asks_first(seller_client, shop):
    orders = [make_order(shop) for _ in range(3)]
    tag = Tag.objects.create(shop=shop, name="VIP")
    asked = assert_fragment(seller_client.post(bulk_url(shop), {"action": "tag", "tag": tag.pk, "all_matching": "1"},
                                               headers=hx("results")), "results")
    assert "Add the tag “VIP” to 3 orders, all matching this view?" in asked
    assert not OrderTag.objects.exists()
    ids = re.findall(r'<input type="hidden" name="ids" value="(\d+)">', asked)
    assert sorted(map(int, ids)) == sorted(o.pk for o in orders)
    seller_client.post(bulk_url(shop), {"action": "tag", "tag": tag.pk, "ids": ids, "confirmed": "1"},
                       headers=hx("results"))
    assert OrderTag.objects.filter(tag=tag).count() == 3


# --- the pinned note --------------------------------------------------------------------


def test_pinned_note_pins_unpins_and_shows_in_the_list(seller_client, shop):
    order = make_order(shop)
    url = reverse("orders:pin", kwargs={"shop": shop.slug, "number": order.number})
    body = assert_fragment(seller_client.post(url, {"pinned_note": "Call <buyer> first"}, headers=hx()), "order-main")
    assert "Call &lt;buyer&gt; first" in body
    order.refresh_from_db()
    assert order.pinned_note == "Call <buyer> first"
    for content in texts(*fetch_both(seller_client, list_url(shop), "results")):
        assert "Call &lt;buyer&gt; first" in content
    # The same text again writes nothing; unpinning writes its own row.
    seller_client.post(url, {"pinned_note": "Call <buyer> first"})
    assert OrderEvent.objects.filter(order=order, action="pin_note").count() == 1
    assert_redirect(seller_client.post(url, {"pinned_note": "whatever", "unpin": "1"}))
    order.refresh_from_db()
    assert order.pinned_note == ""
    assert OrderEvent.objects.filter(order=order, action="unpin_note").count() == 1
    # Distinct from the history's notes.
    assert not OrderEvent.objects.filter(order=order, action="note").exists()


def test_pinned_note_too_long_is_400_and_unchanged(seller_client, shop):
    order = make_order(shop)
    url = reverse("orders:pin", kwargs={"shop": shop.slug, "number": order.number})
    response = seller_client.post(url, {"pinned_note": "x" * 301}, headers=hx())
    assert response.status_code == 400
    order.refresh_from_db()
    assert order.pinned_note == "" and not OrderEvent.objects.filter(order=order, action="pin_note").exists()
    assert member(shop, Role.VIEWER).post(url, {"pinned_note": "hi"}).status_code == 403


# --- saved views ------------------------------------------------------------------------


def test_save_a_view_pins_it_as_a_tab_with_its_count_for_the_team(seller_client, shop):
    for _ in range(3):
        make_order(shop)
    make_order(shop, paid=False)
    make_order(shop, shipping_model="SELLER")
    save = reverse("orders:view_save", kwargs={"shop": shop.slug})
    # A plain tab: its count is the exact status counter.
    assert_redirect(seller_client.post(save, {"name": "To confirm", "back": "tab=AWAITING_CONFIRMATION&after=xyz&q="}))
    view = SavedView.objects.get(name="To confirm")
    assert view.query == "tab=AWAITING_CONFIRMATION" and view.about_count is None
    # A filter: an "about" count, counted after the page loads and kept on the view.
    assert_redirect(seller_client.post(save, {"name": "Seller-shipped", "back": "shipping_model=SELLER&sort=oldest"}))
    filtered = SavedView.objects.get(name="Seller-shipped")
    colleague = member(shop, Role.FULFILMENT)  # shared with the team
    for body in texts(*fetch_both(colleague, list_url(shop), "results")):
        assert re.search(r'To confirm<span class="count" id="view-count-\d+">4</span>', body)
        count_url = reverse("orders:view_count", kwargs={"shop": shop.slug, "pk": filtered.pk})
        assert f'hx-get="{count_url}" hx-trigger="load" hx-target="this"' in body
    count = colleague.get(count_url, headers=hx())
    assert re.search(r'<span class="count" id="view-count-\d+"><span aria-hidden="true">≈</span>'
                     r'<span class="visually-hidden">about </span>1</span>', count.content.decode())
    filtered.refresh_from_db()
    assert filtered.about_count == 1 and filtered.counted_at is not None
    body = colleague.get(list_url(shop)).content.decode()
    assert f'id="view-count-{filtered.pk}"><span aria-hidden="true">≈</span>' in body
    # The view's link is its query; on it, the tab is current.
    body = colleague.get(list_url(shop) + "?shipping_model=SELLER&sort=oldest").content.decode()
    assert 'href="?shipping_model=SELLER&amp;sort=oldest" aria-current="page"' in body


def test_about_count_stops_at_the_limit(shop, monkeypatch):
    monkeypatch.setattr(SavedView, "ABOUT_LIMIT", 2)
    for _ in range(4):
        make_order(shop)
    assert listing.about_count(shop, {"shipping_model": "PLATFORM"}, 2) == 3  # "2+"
    from orders.views import _about

    assert _about(3) == "2+" and _about(2) == "2"


def test_saved_view_refuses_bad_names_and_duplicates(seller_client, shop):
    save = reverse("orders:view_save", kwargs={"shop": shop.slug})
    assert_redirect(seller_client.post(save, {"name": "Mine", "back": ""}))
    for name in ("", "x" * 61, "Mine"):
        response = seller_client.post(save, {"name": name, "back": "tab=UNPAID"}, headers=hx())
        assert response.status_code == 400
    response = seller_client.post(save, {"name": "Bad", "back": "placed_from=2001-03-01&placed_to=2001-01-01"},
                                  headers=hx())
    assert response.status_code == 400 and "Fix the filter first" in response["HX-Trigger"]
    assert SavedView.objects.filter(shop=shop).count() == 1


def test_saved_view_rename_and_delete_by_its_creator_or_a_manager(shop):
    author = member(shop, Role.FULFILMENT)
    author.post(reverse("orders:view_save", kwargs={"shop": shop.slug}), {"name": "Late", "back": "deadline=past_ship_by"})
    view = SavedView.objects.get(shop=shop)
    rename = reverse("orders:view_rename", kwargs={"shop": shop.slug, "pk": view.pk})
    delete = reverse("orders:view_delete", kwargs={"shop": shop.slug, "pk": view.pk})
    other = member(shop, Role.CUSTOMER_SERVICE)
    assert other.post(rename, {"name": "Mine now"}).status_code == 403
    assert other.post(delete).status_code == 403
    assert_redirect(author.post(rename, {"name": "Late to ship"}))
    view.refresh_from_db()
    assert view.name == "Late to ship"
    # Another shop's member cannot reach it at all.
    stranger = Client()
    stranger.force_login(MembershipFactory(role=Role.OWNER).user)
    assert stranger.post(delete).status_code == 404
    assert_redirect(member(shop, Role.MANAGER).post(delete))
    assert not SavedView.objects.exists()


# --- the confirmation step --------------------------------------------------------------


def test_bulk_cancel_asks_first_with_the_consequence_htmx_and_without(seller_client, shop):
    orders = [make_order(shop) for _ in range(2)]
    shipped = make_order(shop)
    from orders.tests.factories import advance

    advance(shipped, S.IN_TRANSIT)
    data = {"action": "cancel", "ids": [o.pk for o in orders] + [shipped.pk], "reason": "pricing_error"}
    for headers in ({}, hx("results")):
        response = seller_client.post(bulk_url(shop), data, headers=headers)
        body = assert_fragment(response, "results") if headers else assert_full_page(response)
        assert "Cancel 3 orders?" in body
        assert "Shop-caused cancellations count against your cancellation rate" in body
        assert "1 of them can no longer be cancelled and will be reported." in body
        assert 'role="alertdialog"' in body and 'name="confirmed" value="1"' in body
        assert 'name="reason" value="pricing_error"' in body
    assert not Order.objects.filter(status=S.CANCELLED).exists()
    response = seller_client.post(bulk_url(shop), {**data, "confirmed": "1"}, headers=hx("results"))
    body = assert_fragment(response, "results")
    assert Order.objects.filter(status=S.CANCELLED).count() == 2
    # The report links to the order it names.
    detail = reverse("orders:detail", kwargs={"shop": shop.slug, "number": shipped.number})
    assert f'<a href="{detail}">{shipped.number}</a>:' in body
    assert 'Show them</a>' in body


# --- columns, sorts, filters, range ----------------------------------------------------


def test_columns_are_remembered_per_member(seller_client, shop):
    make_order(shop)
    url = reverse("orders:columns", kwargs={"shop": shop.slug})
    assert_redirect(seller_client.post(url, {"columns": ["items", "total", "paid", "nonsense"]}))
    assert ListPreference.objects.get(shop=shop).columns == "items,total,paid"
    body = seller_client.get(list_url(shop)).content.decode()
    assert re.search(r'<table class="orders hide-buyer hide-placed hide-deadline hide-tracking hide-tags">', body)
    assert member(shop, Role.VIEWER).get(list_url(shop)).content.decode().count('class="orders hide-paid hide-tracking"') == 1


@pytest.mark.parametrize("sort", ["paid", "total_high", "total_low"])
def test_paid_and_total_sorts_page_by_keyset_over_every_order_once(seller_client, shop, sort):
    made = []
    for i in range(45):
        order = make_order(shop, paid=i % 9 != 0)
        Order.objects.filter(pk=order.pk).update(total=Decimal(10 + i % 7))
        made.append(order)
    seen, after, totals = [], None, []
    while True:
        response = seller_client.get(list_url(shop, size=20, sort=sort, **({"after": after} if after else {})))
        rows = response.context["orders"]
        seen += [r.number for r in rows]
        totals += [r.total for r in rows]
        after = response.context["page"].next_cursor
        if not after:
            break
    if sort == "paid":
        assert sorted(seen) == sorted(o.number for o in made if o.paid_at)  # paid orders only
    else:
        assert sorted(seen) == sorted(o.number for o in made) and len(seen) == len(set(seen))
        assert totals == sorted(totals, reverse=sort == "total_high")


def test_updated_since_filters_on_the_shops_day(seller_client, shop):
    old, new = make_order(shop), make_order(shop)
    Order.objects.filter(pk=old.pk).update(updated_at=timezone.now() - timedelta(days=10))
    since = (timezone.now() - timedelta(days=2)).astimezone(shop.tzinfo).date().isoformat()
    assert numbers(seller_client.get(list_url(shop, updated_since=since)).content.decode()) == [new.number]


def test_range_says_which_rows_of_how_many_and_page_links_keep_the_filter(seller_client, shop):
    for _ in range(45):
        make_order(shop)
    body = seller_client.get(list_url(shop, size=20)).content.decode()
    assert '<p class="range" id="range">1–20 of 45</p>' in body
    next_link = re.search(r'<a href="([^"]+)" hx-get="[^"]+" hx-target="#results" hx-swap="outerHTML" '
                          r'hx-push-url="true" rel="next">', body).group(1).replace("&amp;", "&")
    assert "size=20" in next_link and "pos=21" in next_link
    body = seller_client.get(reverse("orders:list", kwargs={"shop": shop.slug}) + next_link).content.decode()
    assert '<p class="range" id="range">21–40 of 45</p>' in body
    # With a filter the total is not counted.
    body = seller_client.get(list_url(shop, size=20, shipping_model="PLATFORM")).content.decode()
    assert '<p class="range" id="range">1–20</p>' in body


def test_list_query_count_is_fixed_with_tags_views_pinned_notes_and_columns(seller_client, shop):
    tags = [Tag.objects.create(shop=shop, name=f"T{i}") for i in range(3)]
    orders = [make_order(shop) for _ in range(110)]
    OrderTag.objects.bulk_create([OrderTag(order=o, tag=t) for o in orders for t in tags[: 1 + o.pk % 3]])
    Order.objects.filter(pk__in=[o.pk for o in orders[::2]]).update(pinned_note="Fragile")
    for i in range(4):
        SavedView.objects.create(shop=shop, name=f"V{i}", query=f"shipping_model=PLATFORM&sort=oldest&size={20 + i}",
                                 about_count=i, counted_at=timezone.now())
    SavedView.objects.create(shop=shop, name="Tab", query="tab=AWAITING_CONFIRMATION")
    ListPreference.objects.create(shop=shop, user=Membership.objects.get(shop=shop).user, columns="tags,paid,tracking")
    counts = []
    for size, headers in ((20, {}), (100, {}), (20, hx("results")), (100, hx("results"))):
        with CaptureQueriesContext(connection) as ctx:
            response = seller_client.get(list_url(shop, size=size, tag=tags[0].pk), headers=headers)
        assert response.status_code == 200 and response.content.decode().count('name="ids"') == size
        counts.append(len(ctx))
    assert counts[0] == counts[1] <= 8 and counts[2] == counts[3] <= counts[0], counts


def test_rows_body_is_compiled_per_language(shop):
    """{% fastfor %} caches the rows' body, which holds translated words: one per language."""
    from django.template.loader import get_template
    from django.utils import translation

    from orders.templatetags.orders_tags import ROW_FIELDS, FastForNode
    from shops.roles import Can

    make_order(shop)
    orders = list(Order.objects.filter(shop=shop).values_list(*ROW_FIELDS, named=True))
    partial = get_template("orders/order_list.html#rows")
    node = partial.template.nodelist.get_nodes_by_type(FastForNode)[0]
    context = {"orders": orders, "shop": shop, "now": timezone.now(), "can": Can(frozenset({"orders.confirm"}))}
    for language in ("es", "en"):
        with translation.override(language):
            partial.render(context)
    assert {"es", "en"} <= set(node.formats)
