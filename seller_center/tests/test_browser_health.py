"""Shop health in a real browser: switch the period without a reload, read the weekly
table and the forecast, no axe-core WCAG 2 A/AA violations, nothing overflows on a phone."""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from core.actor import Actor
from orders import actions as order_actions
from orders.tests.factories import make_order
from shops.tests.factories import SKUFactory
from tests.axe import assert_no_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_shop_health_period_switch_weeks_forecast_and_axe(page, login, seller, shop):
    sku = SKUFactory(shop=shop, code="TEE-BLK-M", stock_on_hand=1)
    orders = [make_order(shop, lines=[(sku, 1)]) for _ in range(2)]
    order_actions.cancel_order(order=orders[0], actor=Actor.seller(seller), reason="out_of_stock")
    login(seller.username)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Shop health").click()
    expect(page.get_by_role("heading", name="Shop health")).to_be_visible()
    cancellation = page.locator(".health-rate").filter(has_text="Cancellation rate (shop-caused)")
    expect(cancellation).to_contain_text("50.0 %")
    expect(cancellation).to_contain_text("1 of 2")
    page.evaluate("() => { window.__marker = 'same'; }")
    page.get_by_role("link", name="Last 7 days").click()
    expect(page).to_have_url(re.compile(r"\?days=7$"))
    expect(page.get_by_role("region", name="Rates over the last 7 days")).to_be_visible()
    assert page.evaluate("() => window.__marker") == "same"
    expect(page.locator("table.health-weeks tbody tr")).to_have_count(12)
    expect(page.get_by_role("row", name=re.compile("TEE-BLK-M"))).to_contain_text("Reorder 1")
    assert_no_violations(page)

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(reverse("shop_health", kwargs={"shop": shop.slug}))
    widths = page.evaluate("() => ({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})")
    assert widths["scroll"] <= widths["inner"] + 1, widths
    assert_no_violations(page)
