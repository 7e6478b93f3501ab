"""The owner creates an API key in the browser, copies it once, uses it, and revokes it;
axe-core finds no WCAG 2 A/AA violations at 1280 and 390 px and nothing overflows the phone."""

import pytest
from django.test import Client
from playwright.sync_api import expect

from tests.axe import assert_no_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_owner_creates_uses_and_revokes_a_key(page, login, seller, shop):
    login(seller.username)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="API keys").click()
    expect(page.get_by_role("heading", name="API keys", exact=True)).to_be_visible()
    assert_no_violations(page)
    page.get_by_label("Name").fill("Warehouse")
    page.get_by_label("Read orders").check()
    page.get_by_role("button", name="Create key").click()
    key = page.get_by_label("Your new key").input_value()
    assert key.startswith("sc_")
    assert_no_violations(page)
    auth = {"Authorization": f"Bearer {key}"}
    assert Client().get("/api/v1/orders", headers=auth).status_code == 200
    page.get_by_role("row", name="Warehouse").get_by_role("button", name="Revoke").click()
    expect(page.locator("#key-panel .notice")).to_contain_text("revoked")
    assert Client().get("/api/v1/orders", headers=auth).status_code == 401

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    widths = page.evaluate("() => ({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})")
    assert widths["scroll"] <= widths["inner"] + 1, widths
    assert_no_violations(page)
