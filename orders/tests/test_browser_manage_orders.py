"""Manage Orders in a real browser: the seller's journey (filter, bulk confirm, cancel,
history), keyboard-only use, a phone-sized viewport and axe-core's WCAG 2 A/AA rules."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from orders.tests.factories import make_order
from shops.tests.factories import SKUFactory
from tests.axe import assert_no_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AWAITING_CONFIRMATION = "AWAITING_CONFIRMATION"
AWAITING_SHIPMENT = "AWAITING_SHIPMENT"
CANCELLED = "CANCELLED"


@pytest.fixture
def orders(shop):
    """Five paid orders awaiting confirmation; `mug_short` wants more mugs than are in stock."""
    tee = SKUFactory(shop=shop, code="TEE-BLK-M", stock_on_hand=10)
    mug = SKUFactory(shop=shop, code="MUG-WHT", stock_on_hand=1)
    cap = SKUFactory(shop=shop, code="CAP-RED", stock_on_hand=5)
    now = timezone.now()
    return {
        "tee_one": make_order(shop, lines=[(tee, 1)], placed_at=now - timedelta(hours=5), name="Ada Buyer"),
        "tee_two": make_order(shop, lines=[(tee, 2)], placed_at=now - timedelta(hours=4), name="Ben Buyer"),
        "mug_short": make_order(shop, lines=[(mug, 2)], placed_at=now - timedelta(hours=3), name="Cy Buyer"),
        "cap_one": make_order(shop, lines=[(cap, 1)], placed_at=now - timedelta(hours=2), name="Di Buyer"),
        "cap_two": make_order(shop, lines=[(cap, 1)], placed_at=now - timedelta(hours=1), name="Ed Buyer"),
        "skus": {"tee": tee, "mug": mug, "cap": cap},
    }


def tab_count(page, status):
    return page.locator(f'#tabs .count[data-status="{status}"]')


def row_boxes(page):
    return page.locator('#rows input[type="checkbox"][name="ids"]')


def order_url(shop, order):
    return reverse("orders:detail", kwargs={"shop": shop.slug, "number": order.number})


def wait_for_board(page):
    # The placeholder ("Loading what needs action…") is swapped for the cards.
    expect(page.locator("#board .board-card").first).to_be_visible()
    expect(page.locator("#board")).not_to_contain_text("Loading")


def mark_window(page):
    """A marker on `window` that only survives if the page never navigates."""
    page.evaluate("() => { window.__journeyMarker = 'same document'; }")


def assert_same_document(page):
    assert page.evaluate("() => window.__journeyMarker") == "same document", (
        "the page navigated (full reload)"
    )


def focus_by_keyboard(page, locator, *, key="Tab", limit=120):
    """Press Tab (or Shift+Tab) until `locator` has the focus, as a keyboard-only user would."""
    for _ in range(limit):
        page.keyboard.press(key)
        if locator.evaluate("el => el === document.activeElement"):
            return
    active = page.evaluate("() => document.activeElement && document.activeElement.outerHTML.slice(0, 200)")
    raise AssertionError(f"{key} x{limit} never reached {locator}; focus is on {active}")


def assert_focus_visible(locator):
    style = locator.evaluate(
        "el => { const s = getComputedStyle(el); return [el.matches(':focus-visible'), s.outlineStyle, s.outlineWidth]; }"
    )
    assert style[0] and style[1] != "none" and style[2] != "0px", f"no visible focus indicator: {style}"


# --- the journey ---------------------------------------------------------------------


def test_filter_bulk_confirm_cancel_and_history(page, login, seller, shop, orders):
    tee_one, tee_two, mug_short = orders["tee_one"], orders["tee_two"], orders["mug_short"]
    login(seller.username)
    expect(page.get_by_role("heading", name="Manage orders")).to_be_visible()
    wait_for_board(page)

    # The New tab shows how many orders await confirmation.
    new_tab = page.locator("#tabs a").filter(
        has=page.locator(f'.count[data-status="{AWAITING_CONFIRMATION}"]')
    )
    expect(new_tab).to_contain_text("Awaiting confirmation")
    expect(tab_count(page, AWAITING_CONFIRMATION)).to_have_text("5")
    expect(tab_count(page, AWAITING_SHIPMENT)).to_have_text("0")
    expect(row_boxes(page)).to_have_count(5)
    mark_window(page)

    # Paste three order numbers into the search: the list narrows and the URL says so.
    page.get_by_label("Search").fill(f"{tee_one.number}\n{tee_two.number}\n{mug_short.number}")
    page.locator("#filters").get_by_role("button", name="Apply").click()
    expect(row_boxes(page)).to_have_count(3)
    for order in (tee_one, tee_two, mug_short):
        expect(page.locator("#rows").get_by_role("link", name=order.number)).to_be_visible()
    expect(page.locator("#rows")).not_to_contain_text(orders["cap_one"].number)
    expect(page).to_have_url(
        re.compile(rf"[?&]q=[^&]*{tee_one.number}[^&]*{tee_two.number}[^&]*{mug_short.number}")
    )
    assert_same_document(page)

    # Select the page and confirm: two confirmed, the mug order refused naming its SKU.
    page.get_by_label("Select page").check()
    for i in range(3):
        expect(row_boxes(page).nth(i)).to_be_checked()
    page.get_by_role("button", name="Confirm selected").click()
    report = page.locator("#bulk-report")
    expect(report).to_contain_text("2 confirmed; 1 refused.")
    expect(report).to_contain_text(
        f"Order {mug_short.number} cannot be confirmed: SKU MUG-WHT is out of stock."
    )
    expect(page.locator("#toasts")).to_contain_text("2 confirmed; 1 refused")

    # The tab counts follow without a reload, and the filter is still in force.
    expect(tab_count(page, AWAITING_CONFIRMATION)).to_have_text("3")
    expect(tab_count(page, AWAITING_SHIPMENT)).to_have_text("2")
    assert_same_document(page)
    expect(page).to_have_url(re.compile(rf"q=[^&]*{tee_one.number}"))
    expect(row_boxes(page)).to_have_count(3)
    expect(page.locator("#rows tr").filter(has_text=tee_one.number).locator(".status")).to_have_text(
        "Awaiting shipment"
    )
    expect(page.locator("#rows tr").filter(has_text=mug_short.number).locator(".status")).to_have_text(
        "Awaiting confirmation"
    )
    orders["skus"]["tee"].refresh_from_db()
    orders["skus"]["mug"].refresh_from_db()
    assert (orders["skus"]["tee"].reserved, orders["skus"]["mug"].reserved) == (3, 0)

    # Cancel one of the confirmed orders, with a reason, on its order page.
    page.locator("#rows").get_by_role("link", name=tee_one.number).click()
    expect(page.get_by_role("heading", name=f"Order {tee_one.number}")).to_be_visible()
    expect(page.locator("#order-main .status")).to_have_text("Awaiting shipment")
    page.locator("summary", has_text="Cancel order…").click()
    page.get_by_label("Reason").select_option(label="Buyer asked to cancel")
    page.get_by_label("Note to the buyer").fill("You asked us to cancel; the refund is on its way.")
    page.get_by_role("button", name="Cancel this order").click()
    expect(page.locator("#order-main .status")).to_have_text("Cancelled")

    # The buyer is told under Messages.
    messages = page.get_by_role("region", name="Messages with the buyer")
    expect(messages).to_contain_text(
        f"Your order {tee_one.number} was cancelled. Reason: Buyer asked to cancel. "
        "You asked us to cancel; the refund is on its way."
    )

    # The History timeline has the seller's Confirm and Cancel.
    timeline = page.get_by_role("region", name="History").locator(".timeline > li")
    confirm_row = timeline.filter(has=page.locator("strong", has_text=re.compile(r"^Confirmed$")))
    cancel_row = timeline.filter(has=page.locator("strong", has_text=re.compile(r"^Cancelled$")))
    expect(confirm_row).to_have_count(1)
    expect(confirm_row).to_contain_text("Awaiting confirmation → Awaiting shipment")
    expect(confirm_row).to_contain_text(f"by seller {seller.username}")
    expect(cancel_row).to_have_count(1)
    expect(cancel_row).to_contain_text("Awaiting shipment → Cancelled")
    expect(cancel_row).to_contain_text("You asked us to cancel; the refund is on its way.")
    orders["skus"]["tee"].refresh_from_db()
    assert orders["skus"]["tee"].reserved == 2  # the cancelled order's stock went back

    # Back on the list, the Cancelled tab counts it.
    page.get_by_role("link", name="← All orders").click()
    expect(tab_count(page, CANCELLED)).to_have_text("1")
    expect(tab_count(page, AWAITING_SHIPMENT)).to_have_text("1")


def test_an_invalid_filter_says_so_without_a_reload(page, login, seller, shop, orders):
    login(seller.username)
    wait_for_board(page)
    mark_window(page)
    page.get_by_label("Placed from").fill("2001-02-01")
    page.get_by_label("Placed to").fill("2001-01-01")
    page.locator("#filters").get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"placed_to=2001-01-01"))
    expect(page.locator("#filters").get_by_role("alert")).to_have_text("“Placed to” is before “Placed from”.")
    assert_no_violations(page)
    page.get_by_label("Placed to").fill("2001-03-01")
    page.locator("#filters").get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"placed_to=2001-03-01"))
    expect(page.locator("#filters").get_by_role("alert")).to_have_text("")
    expect(page.locator("#rows")).to_contain_text("No orders match this view.")
    assert_same_document(page)

    # Without htmx (a reload of the pushed URL) the field itself points at its error.
    page.goto(page.url.replace("2001-03-01", "2001-01-01"))
    expect(page.get_by_label("Placed to")).to_have_accessible_description(
        "“Placed to” is before “Placed from”."
    )


def test_row_confirm_button_confirms_one_order_in_place(page, login, seller, shop, orders):
    cap_one = orders["cap_one"]
    login(seller.username)
    wait_for_board(page)
    mark_window(page)
    page.get_by_role("button", name=f"Confirm order {cap_one.number}").click()
    expect(page.locator("#bulk-report")).to_contain_text("1 confirmed.")
    expect(tab_count(page, AWAITING_CONFIRMATION)).to_have_text("4")
    expect(tab_count(page, AWAITING_SHIPMENT)).to_have_text("1")
    expect(page.get_by_role("button", name=f"Confirm order {cap_one.number}")).to_have_count(0)
    assert_same_document(page)


# --- keyboard only -------------------------------------------------------------------


def test_keyboard_only_filter_select_and_confirm(page, login, seller, shop, orders):
    cap_one, cap_two = orders["cap_one"], orders["cap_two"]
    login(seller.username)
    wait_for_board(page)
    mark_window(page)

    # Tab to the SKU filter, type, press Enter: the form submits and the list narrows.
    sku_box = page.get_by_label("SKU", exact=True)
    focus_by_keyboard(page, sku_box)
    assert_focus_visible(sku_box)
    page.keyboard.type("CAP-RED")
    page.keyboard.press("Enter")
    expect(row_boxes(page)).to_have_count(2)
    expect(page).to_have_url(re.compile(r"[?&]sku=CAP-RED(&|$)"))

    # Tab on to the first row's checkbox, tick it with Space.
    first_box = row_boxes(page).first
    focus_by_keyboard(page, first_box)
    assert_focus_visible(first_box)
    page.keyboard.press("Space")
    expect(first_box).to_be_checked()
    expect(row_boxes(page).nth(1)).not_to_be_checked()
    first_number = first_box.get_attribute("aria-label").removeprefix("Select order ")
    assert first_number in (cap_one.number, cap_two.number)

    # Back (Shift+Tab) to "Confirm selected", press Enter.
    confirm = page.get_by_role("button", name="Confirm selected")
    focus_by_keyboard(page, confirm, key="Shift+Tab")
    assert_focus_visible(confirm)
    page.keyboard.press("Enter")
    expect(page.locator("#bulk-report")).to_contain_text("1 confirmed.")
    # The focus lands on the report, not the top of the page, and the toast beside it is
    # visual only (the report is what a screen reader reads).
    expect(page.locator("#bulk-report")).to_be_focused()
    expect(page.locator("#toasts .toast").last).to_have_attribute("aria-hidden", "true")
    expect(tab_count(page, AWAITING_CONFIRMATION)).to_have_text("4")
    expect(page.locator("#rows tr").filter(has_text=first_number).locator(".status")).to_have_text(
        "Awaiting shipment"
    )
    # Tab goes on from the report into the bulk form, not from the top of the page.
    page.keyboard.press("Tab")
    page.wait_for_function("() => !!document.activeElement.closest('#results')", timeout=3000)
    assert_same_document(page)


def test_keyboard_only_cancel_on_the_order_page(page, login, seller, shop, orders):
    cap_two = orders["cap_two"]
    login(seller.username)
    page.goto(order_url(shop, cap_two))
    summary = page.locator("summary", has_text="Cancel order…")
    focus_by_keyboard(page, summary)
    assert_focus_visible(summary)
    page.keyboard.press("Enter")  # opens the <details>
    reason = page.get_by_label("Reason")
    focus_by_keyboard(page, reason)
    for _ in range(3):  # Out of stock → Damaged or expired item → Buyer asked to cancel → Pricing error
        page.keyboard.press("ArrowDown")
    expect(reason).to_have_value("pricing_error")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Note to the buyer")).to_be_focused()
    page.keyboard.type("The price was wrong; sorry.")
    page.keyboard.press("Enter")  # implicit submission from the text field
    expect(page.locator("#order-main .status")).to_have_text("Cancelled")
    expect(page.get_by_role("region", name="Messages with the buyer")).to_contain_text(
        "Reason: Pricing error."
    )
    # The re-rendered panel has the focus, so Tab continues inside it.
    page.wait_for_function("() => !!document.activeElement.closest('#order-main')", timeout=3000)


def test_a_refused_action_is_focused_and_announced_once(page, login, seller, shop, orders):
    mug_short = orders["mug_short"]
    login(seller.username)
    page.goto(order_url(shop, mug_short))
    confirm = page.locator("#order-main").get_by_role("button", name=re.compile(r"^Confirm"))
    focus_by_keyboard(page, confirm)
    page.keyboard.press("Enter")
    alert = page.locator("#order-main").get_by_role("alert")
    expect(alert).to_contain_text("MUG-WHT")
    expect(alert).to_be_focused()
    # The toast says the same visually; only the alert is announced.
    expect(page.locator("#toasts .toast").last).to_have_attribute("aria-hidden", "true")


# --- a phone -------------------------------------------------------------------------


def _assert_no_horizontal_overflow(page):
    widths = page.evaluate("() => ({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})")
    assert widths["scroll"] <= widths["inner"] + 1, f"the page scrolls sideways on a phone: {widths}"


def test_phone_viewport_has_no_horizontal_overflow(page, login, seller, shop, orders):
    page.set_viewport_size({"width": 390, "height": 844})
    login(seller.username)
    wait_for_board(page)
    expect(row_boxes(page)).to_have_count(5)
    _assert_no_horizontal_overflow(page)
    # Every row's Confirm button is on screen without scrolling sideways.
    for button in page.locator('#rows button[name="row_confirm"]').all():
        box = button.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390, box

    # Still fine with a bulk report (a long refusal) and the cancel popover open.
    page.get_by_label("Select page").check()
    page.get_by_role("button", name="Confirm selected").click()
    expect(page.locator("#bulk-report")).to_contain_text("4 confirmed; 1 refused.")
    page.locator("summary", has_text="Cancel selected…").click()
    expect(page.get_by_label("Note to the buyer")).to_be_visible()
    _assert_no_horizontal_overflow(page)

    page.goto(order_url(shop, orders["cap_one"]))
    page.locator("summary", has_text="Cancel order…").click()
    _assert_no_horizontal_overflow(page)


# --- axe-core: WCAG 2 A and AA -------------------------------------------------------


def test_axe_list_page(page, login, seller, shop, orders):
    login(seller.username)
    wait_for_board(page)
    assert_no_violations(page)

    # With a bulk report, the cancel popover open and a filter applied.
    page.get_by_label("Select page").check()
    page.get_by_role("button", name="Confirm selected").click()
    expect(page.locator("#bulk-report")).to_contain_text("refused")
    page.locator("summary", has_text="Cancel selected…").click()
    expect(page.get_by_label("Note to the buyer")).to_be_visible()
    assert_no_violations(page)

    page.get_by_label("SKU", exact=True).fill("NO-SUCH-SKU")
    page.locator("#filters").get_by_role("button", name="Apply").click()
    expect(page.locator("#rows")).to_contain_text("No orders match this view.")
    assert_no_violations(page)


def test_axe_order_page(page, login, seller, shop, orders):
    order = orders["tee_one"]
    login(seller.username)
    page.goto(order_url(shop, order))
    expect(page.get_by_role("heading", name=f"Order {order.number}")).to_be_visible()
    page.locator("summary", has_text="Cancel order…").click()
    expect(page.get_by_label("Note to the buyer")).to_be_visible()
    assert_no_violations(page)

    # After confirming and cancelling: the timeline and the buyer's message are there too.
    page.get_by_role("button", name="Confirm order").click()
    expect(page.locator("#order-main .status")).to_have_text("Awaiting shipment")
    page.locator("summary", has_text="Cancel order…").click()
    page.get_by_label("Reason").select_option(label="Other")
    page.get_by_role("button", name="Cancel this order").click()
    expect(page.locator("#order-main p.error.card[role=alert]")).to_contain_text("Say why")
    # The form stays open with its error, and the field's aria-describedby points at it.
    note = page.get_by_label("Note to the buyer")
    expect(note).to_be_visible()
    expect(note).to_have_attribute("aria-invalid", "true")
    expect(note).to_have_accessible_description(re.compile("Say why when the reason is “Other”"))
    assert_no_violations(page)
    note.fill("Discontinued.")
    page.get_by_role("button", name="Cancel this order").click()
    expect(page.locator("#order-main .status")).to_have_text("Cancelled")
    expect(page.get_by_role("region", name="Messages with the buyer")).to_contain_text("Discontinued.")
    assert_no_violations(page)
