"""Manage Orders for the seller who lives in it, in a real browser at 1280 and 390 px with
axe-core: save a view, tag in bulk, cancel through the confirmation, the keyboard alone, the
density at 1280 px and the phone layout (no page wider than the screen, Shipping included).

SCREENSHOT_DIR=<dir> saves a PNG of each state looked at."""

import os
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from orders.models import Order, OrderEvent, OrderTag, SavedView, Tag
from orders.tests.factories import make_order
from returns.tests.factories import open_cancel
from shipping.tests.factories import arranged, order_to_ship
from shops.tests.factories import SKUFactory
from tests.axe import assert_no_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
S = Order.Status


def shot(page, name):
    folder = os.environ.get("SCREENSHOT_DIR")
    if folder:
        # Viewport only: a full-page capture resizes the page in ways that trip the CSP watcher.
        page.screenshot(path=os.path.join(folder, f"{name}.png"))


@pytest.fixture
def orders(shop):
    tee = SKUFactory(shop=shop, code="TEE-BLK-M", stock_on_hand=500)
    now = timezone.now()
    made = [make_order(shop, lines=[(tee, 1)], placed_at=now - timedelta(minutes=10 * i), name=f"Buyer {i:02d}")
            for i in range(30)]
    return made


def list_url(shop):
    return reverse("orders:list", kwargs={"shop": shop.slug})


def rows(page):
    return page.locator('#rows input[name="ids"]')


def wait_for_board(page):
    expect(page.locator("#board .board-card").first).to_be_visible()


def no_sideways_scroll(page):
    widths = page.evaluate("() => ({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})")
    assert widths["scroll"] <= widths["inner"], f"the page is wider than the screen: {widths}"


def test_tag_in_bulk_filter_by_tag_and_save_the_view(page, login, seller, shop, orders):
    Tag.objects.create(shop=shop, name="Gift wrap")
    login(seller.username)
    wait_for_board(page)
    rows(page).nth(0).check()
    rows(page).nth(1).check()
    page.get_by_label("Tag", exact=True).last.select_option(label="Gift wrap")
    add = page.get_by_role("button", name="Add tag")
    add.click()
    expect(page.locator("#bulk-report")).to_contain_text("2 tagged “Gift wrap”")
    expect(page.locator("#rows .tags", has_text="Gift wrap")).to_have_count(2)
    assert OrderTag.objects.count() == 2 and OrderEvent.objects.filter(action="tag").count() == 2
    # Filter by the tag, then save the filter as a view of the team.
    page.locator("#id_tag").select_option(label="Gift wrap")
    page.get_by_role("button", name="Apply").click()
    expect(rows(page)).to_have_count(2)
    page.locator("summary", has_text="Save view…").click()
    page.get_by_label("Name of this filter and sort").fill("Gift orders")
    page.get_by_role("button", name="Save view").click()
    tab = page.locator("#views nav a", has_text="Gift orders")
    expect(tab).to_have_attribute("aria-current", "page")
    # The "about" count arrives after the page (one bounded count, kept on the view).
    expect(tab.locator(".count")).to_contain_text("2")
    assert SavedView.objects.get(shop=shop).about_count == 2
    shot(page, "1280-saved-view-and-tags")
    assert_no_violations(page)
    page.locator("summary", has_text="Columns…").click()
    page.locator("summary", has_text="Save view…").click()
    assert_no_violations(page)


def test_cancel_asks_first_and_the_report_links_to_orders(page, login, seller, shop, orders):
    shipped = orders[0]
    from orders.tests.factories import advance

    advance(shipped, S.IN_TRANSIT)
    login(seller.username)
    wait_for_board(page)
    for i in range(3):
        rows(page).nth(i).check()
    page.locator("summary", has_text="Cancel selected…").click()
    page.get_by_label("Reason").select_option("pricing_error")
    page.get_by_role("button", name="Cancel the selected orders").click()
    dialog = page.get_by_role("alertdialog")
    expect(dialog).to_contain_text("Cancel 3 orders?")
    expect(dialog).to_contain_text("Shop-caused cancellations count against your cancellation rate")
    expect(dialog).to_contain_text("1 of them can no longer be cancelled")
    expect(dialog).to_be_focused()
    assert not Order.objects.filter(status=S.CANCELLED).exists()
    assert_no_violations(page)
    yes = dialog.get_by_role("button", name="Yes, cancel 3 orders")
    assert yes.get_attribute("type") == "submit"
    yes.click()
    report = page.locator("#bulk-report")
    expect(report).to_contain_text("2 cancelled; 1 refused.")
    expect(report.get_by_role("link", name=shipped.number)).to_have_attribute(
        "href", reverse("orders:detail", kwargs={"shop": shop.slug, "number": shipped.number}))
    assert Order.objects.filter(status=S.CANCELLED).count() == 2
    # Going back instead changes nothing.
    rows(page).nth(0).check()
    page.locator("summary", has_text="Cancel selected…").click()
    page.get_by_label("Reason").select_option("pricing_error")
    page.get_by_role("button", name="Cancel the selected orders").click()
    page.get_by_role("alertdialog").get_by_role("link", name="No, go back").click()
    expect(page.get_by_role("alertdialog")).to_have_count(0)
    assert Order.objects.filter(status=S.CANCELLED).count() == 2
    shot(page, "1280-after-cancel")  # last: a screenshot leaves marks htmx's next settle would copy


def test_keyboard_only_search_rows_select_confirm_and_help(page, login, seller, shop, orders):
    login(seller.username)
    wait_for_board(page)
    page.locator("body").click(position={"x": 5, "y": 300})
    page.keyboard.press("/")
    expect(page.locator("#id_q")).to_be_focused()
    # Keys typed into a field are the field's own.
    page.keyboard.type("jkx")
    expect(page.locator("#id_q")).to_have_value("jkx")
    page.locator("#id_q").fill("")
    page.keyboard.press("Escape")
    page.evaluate("() => document.activeElement.blur()")
    page.keyboard.press("j")
    first_link = page.locator("#rows tr").nth(0).locator("td:nth-child(2) a")
    expect(first_link).to_be_focused()
    page.keyboard.press("j")
    second = page.locator("#rows tr").nth(1)
    expect(second.locator("td:nth-child(2) a")).to_be_focused()
    expect(second).to_have_class(re.compile(r"\bcurrent\b"))
    page.keyboard.press("k")
    expect(first_link).to_be_focused()
    page.keyboard.press("j")
    page.keyboard.press("x")
    expect(rows(page).nth(1)).to_be_checked()
    expect(rows(page).nth(0)).not_to_be_checked()
    number = rows(page).nth(1).get_attribute("aria-label").removeprefix("Select order ")
    page.keyboard.press("c")
    expect(page.locator("#bulk-report")).to_contain_text("1 confirmed.")
    assert Order.objects.get(number=number).status == S.AWAITING_SHIPMENT
    page.keyboard.press("?")
    help_dialog = page.locator("#keys-help")
    expect(help_dialog).to_be_visible()
    expect(help_dialog).to_contain_text("Confirm the selected orders")
    shot(page, "1280-keyboard-help")
    assert_no_violations(page)
    page.keyboard.press("Escape")
    expect(help_dialog).to_be_hidden()


def test_1280_by_1024_shows_at_least_20_orders_on_the_first_screen(page, login, seller, shop, orders):
    page.set_viewport_size({"width": 1280, "height": 1024})
    login(seller.username)
    wait_for_board(page)
    expect(rows(page)).to_have_count(30)
    visible = page.evaluate("""() => Array.from(document.querySelectorAll('#rows tr'))
        .filter(tr => { const r = tr.getBoundingClientRect(); return r.top >= 0 && r.bottom <= window.innerHeight; })
        .length""")
    shot(page, "1280-list")
    assert visible >= 20, f"{visible} orders on a 1280x1024 screen"
    no_sideways_scroll(page)


def test_phone_layout_cards_strip_filters_button_and_next_actions(page, login, seller, shop, orders):
    order_to_ship(shop, model="SELLER")
    arranged(order_to_ship(shop, model="PLATFORM"))
    open_cancel(make_order(shop))
    page.set_viewport_size({"width": 390, "height": 844})
    login(seller.username)
    wait_for_board(page)
    no_sideways_scroll(page)
    # The board is one strip that scrolls sideways, as are the tabs.
    board = page.locator("#board")
    assert board.evaluate("el => getComputedStyle(el).display") == "flex"
    strip = page.locator(".tabs-row")  # the status tabs and the saved views, in one sideways strip
    assert strip.evaluate("el => getComputedStyle(el).overflowX") == "auto"
    assert strip.evaluate("el => el.scrollWidth > el.clientWidth")
    # Filters behind a button; the list starts near the top.
    expect(page.locator("#filters")).to_be_hidden()
    first_row = page.locator("#rows tr").first.bounding_box()
    assert first_row["y"] < 700, first_row
    toggle = page.get_by_role("button", name="Filters")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    shot(page, "390-list")
    toggle.click()
    expect(page.locator("#filters")).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    no_sideways_scroll(page)
    assert_no_violations(page)
    # Each row is a card with its next action; tap targets at least 44 px tall.
    card = page.locator("#rows tr").first
    assert card.evaluate("el => getComputedStyle(el).display") == "grid"
    targets = page.locator("#results button:visible, #results summary.button:visible, #results a.button:visible, "
                           "#tabs a, .filters-toggle, #rows td:first-child")
    small = [t.evaluate("el => el.outerHTML.slice(0, 80)") for t in targets.all()
             if t.bounding_box() and t.bounding_box()["height"] < 44]
    assert not small, small
    for name in ("Confirm", "Ship…", "Print label", "Answer request"):
        action = page.locator("#rows .next-action").get_by_text(name, exact=True).first
        box = action.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390, (name, box)
    page.locator("#rows summary", has_text="Ship…").first.click()
    no_sideways_scroll(page)
    shot(page, "390-list-filters-and-ship")
    assert_no_violations(page)


def test_phone_shipping_page_is_no_wider_than_the_screen(page, login, seller, shop, orders):
    for _ in range(3):
        order_to_ship(shop, model="SELLER")
    arranged(order_to_ship(shop, model="PLATFORM"))
    page.set_viewport_size({"width": 390, "height": 844})
    login(seller.username)
    page.goto(reverse("shipping:home", kwargs={"shop": shop.slug}))
    shot(page, "390-shipping")
    no_sideways_scroll(page)
    page.goto(list_url(shop))
    no_sideways_scroll(page)


def test_bulk_buttons_are_disabled_while_the_request_runs(page, login, seller, shop, orders):
    login(seller.username)
    wait_for_board(page)
    held = []
    page.route(re.compile(r".*/orders/bulk.*"), lambda route: held.append(route))
    rows(page).nth(0).check()
    confirm = page.get_by_role("button", name="Confirm selected")
    confirm.click()
    # "Working…" shows (htmx's indicator class on the form).
    expect(page.locator("#bulk-busy")).to_have_class(re.compile(r"\bhtmx-request\b"))
    page.wait_for_function("() => getComputedStyle(document.getElementById('bulk-busy')).opacity === '1'")
    # Pressed once: every button of the bulk form is disabled until the answer is in.
    expect(confirm).to_be_disabled()
    expect(page.locator('#rows button[name="row_confirm"]').first).to_be_disabled()
    assert len(held) == 1
    held[0].continue_()
    expect(page.locator("#bulk-report")).to_contain_text("1 confirmed.")
    expect(page.get_by_role("button", name="Confirm selected")).to_be_enabled()
    assert Order.objects.filter(status=S.AWAITING_SHIPMENT).count() == 1
