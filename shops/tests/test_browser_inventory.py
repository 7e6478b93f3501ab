"""Inventory and warehouses in a browser, at 1280 and 390 px, with axe-core (WCAG 2 A/AA):
an owner edits a SKU's stock (and sees a stale edit refused), imports a stock CSV (a bad file
applies nothing and names each row; a good one applies every row), and puts a warehouse on holiday,
which platform staff approve. Nothing is wider than the phone."""

import os

import pytest
from playwright.sync_api import expect

from core.actor import Actor
from shops import stock, warehouses
from shops.models import Warehouse, WarehouseStock
from shops.tests.factories import SKUFactory, UserFactory
from tests.axe import assert_no_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = os.environ.get("SCREENSHOTS_DIR")
PHONE = {"width": 390, "height": 844}


def shot(page, name):
    if SHOTS:
        # caret="initial": hiding the caret injects a <style>, which the page's CSP refuses.
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True, caret="initial")


def assert_fits(page):
    widths = page.evaluate("() => ({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})")
    assert widths["scroll"] <= widths["inner"], widths


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 900}, PHONE], ids=["1280", "390"])
def test_owner_edits_stock_and_imports_a_csv(page, login, seller, shop, viewport):
    page.set_viewport_size(viewport)
    tee = SKUFactory(shop=shop, code="TEE-1", name="Tee", stock_on_hand=3)
    SKUFactory(shop=shop, code="MUG-1", name="Mug", stock_on_hand=40)
    warehouses.create_warehouse(shop=shop, actor=Actor.seller(seller),
                                values={"name": "North", "line1": "9 Dock Rd", "city": "Leeds", "country": "GB"})
    login(seller.username)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Inventory").click()
    expect(page.get_by_role("heading", name="Inventory", exact=True)).to_be_visible()
    expect(page.locator("#inventory-rows tr.low")).to_contain_text("TEE-1")
    assert_no_violations(page)
    assert_fits(page)
    shot(page, f"inventory-{viewport['width']}")

    page.get_by_role("link", name="TEE-1").click()
    expect(page.get_by_role("heading", name="TEE-1 Tee")).to_be_visible()
    page.get_by_label("New stock on hand").fill("25")
    page.get_by_label("Reason").select_option("received")
    page.get_by_label("Bin location").fill("A-02-1")
    # Someone else changes the SKU while this screen shows version 0.
    stock.change_stock(sku=tee, actor=Actor.seller(UserFactory()), reason="count", on_hand=4)
    page.get_by_role("button", name="Save stock").click()
    expect(page.locator("#sku-stock .error")).to_contain_text("changed since you read it")
    assert WarehouseStock.objects.get(sku=tee, warehouse__is_default=True).on_hand == 4
    page.get_by_label("New stock on hand").fill("25")
    page.get_by_label("Reason").select_option("received")
    page.get_by_role("button", name="Save stock").click()
    expect(page.locator("#sku-stock .notice")).to_contain_text("25 on hand")
    expect(page.locator("#ledger-rows")).to_contain_text("Goods received")
    assert_no_violations(page)
    assert_fits(page)
    shot(page, f"sku-stock-{viewport['width']}")

    page.get_by_role("link", name="Inventory").first.click()
    bad = b"sku,warehouse,on_hand,reason\nMUG-1,North,12,received\nNOPE,,1,count\nTEE-1,,lots,count\n"
    page.get_by_label("CSV file").set_input_files({"name": "stock.csv", "mimeType": "text/csv", "buffer": bad})
    page.get_by_role("button", name="Import").click()
    expect(page.locator("#import-report")).to_contain_text("Nothing was changed")
    expect(page.locator("#import-report")).to_contain_text("No SKU NOPE")
    assert not WarehouseStock.objects.filter(sku__code="MUG-1", warehouse__name="North", on_hand=12).exists()
    assert_no_violations(page)
    assert_fits(page)
    shot(page, f"import-refused-{viewport['width']}")
    good = b"sku,warehouse,on_hand,reason,bin_location\nMUG-1,North,12,received,N-1\nTEE-1,,30,count,\n"
    page.get_by_label("CSV file").set_input_files({"name": "stock.csv", "mimeType": "text/csv", "buffer": good})
    page.get_by_role("button", name="Import").click()
    expect(page.locator("#import-report")).to_contain_text("2 stock figures updated")
    expect(page.locator("#inventory-rows")).to_contain_text("N-1")
    assert WarehouseStock.objects.get(sku__code="MUG-1", warehouse__name="North").on_hand == 12
    assert_no_violations(page)
    shot(page, f"import-applied-{viewport['width']}")


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 900}, PHONE], ids=["1280", "390"])
def test_owner_puts_a_warehouse_on_holiday_and_staff_approve_it(page, login, seller, shop, viewport):
    page.set_viewport_size(viewport)
    SKUFactory(shop=shop, stock_on_hand=5)
    login(seller.username)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Warehouses").click()
    expect(page.get_by_role("heading", name="Warehouses", exact=True)).to_be_visible()
    assert_no_violations(page)
    assert_fits(page)
    card = page.locator("section.warehouse-card").first
    card.get_by_text("Ask for holiday mode").click()
    card.get_by_label("From (UTC)").fill("2030-01-10T00:00")
    card.get_by_label("Until (UTC)").fill("2030-01-14T00:00")
    card.get_by_label("Reason").fill("Closed for the yearly stocktake")
    card.get_by_role("button", name="Send for approval").click()
    expect(page.locator("#warehouses-panel .notice")).to_contain_text("sent to the platform for approval")
    expect(page.locator("section.warehouse-card").first).to_contain_text("waiting for the platform")
    assert_no_violations(page)
    assert_fits(page)
    shot(page, f"warehouse-holiday-requested-{viewport['width']}")
    warehouse = Warehouse.objects.get(shop=shop)
    warehouses.rule_holiday(warehouse=warehouse, approve=True, actor=Actor.staff(UserFactory(is_staff=True)))
    page.reload()
    expect(page.locator("section.warehouse-card").first).to_contain_text("(approved)")
    expect(page.locator("#warehouses-panel .timeline")).to_contain_text("Holiday approved")
    assert_no_violations(page)
    shot(page, f"warehouse-holiday-approved-{viewport['width']}")
