import pytest
from playwright.sync_api import expect

from orders.tests.factories import make_order
from shops.tests.factories import SKUFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_seller_logs_in_and_confirms_an_order(page, login, seller, shop):
    sku = SKUFactory(shop=shop, code="TEE-BLK-M", stock_on_hand=3)
    order = make_order(shop, lines=[(sku, 2)], name="Robin Buyer")
    login(seller.username)
    expect(page.get_by_role("heading", name="Manage orders")).to_be_visible()
    page.get_by_role("link", name=order.number).click()
    expect(page.get_by_role("heading", name=f"Order {order.number}")).to_be_visible()
    page.get_by_role("button", name="Confirm order").click()
    expect(page.locator("#order-main .status")).to_have_text("Awaiting shipment")
    expect(page.locator(".timeline")).to_contain_text("Confirm")
    sku.refresh_from_db()
    assert sku.reserved == 2
