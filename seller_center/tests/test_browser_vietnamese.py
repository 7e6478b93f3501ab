"""minh's journey in Vietnamese on a phone (issue 17): a Vietnamese browser gets the login page in
Vietnamese; minh's own setting keeps the Seller Center in Vietnamese; money in dong (no decimals,
"1.250.000 ₫"), times on Ho Chi Minh City's clock in Vietnamese ("thg 12", GMT+7); the switcher
changes the language and back; axe finds nothing at 390 px."""

import re
from decimal import Decimal

import pytest
from django.utils import translation
from django.utils.translation import gettext
from playwright.sync_api import expect

from orders.tests.factories import make_order
from shops.models import MemberProfile
from shops.tests.factories import MembershipFactory, ShopFactory, SKUFactory, UserFactory
from tests.axe import format_violations, run_axe

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
DONG = re.compile(r"\d{1,3}(\.\d{3})+\s₫")


def _vi(text):
    with translation.override("vi"):
        return gettext(text)


SCROLLERS = """() => [...document.querySelectorAll('main *')].filter(e => e.scrollWidth > e.clientWidth + 1
  && getComputedStyle(e).overflowX === 'auto').map(e => e.outerHTML.slice(0, 120))"""


def _no_axe_violations(page):
    violations = run_axe(page)
    assert not violations, format_violations(violations) + f"\nscrolling: {page.evaluate(SCROLLERS)}"


WIDER = """() => [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 391)
  .map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right)).slice(0, 8)"""


def _fits(page):
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width} px wide on a 390 px phone: {page.evaluate(WIDER)}"


def test_minh_works_in_vietnamese_on_a_phone(browser_context, live_server):
    minh = UserFactory(username="minh")
    MemberProfile.objects.create(user=minh, language="vi")
    shop = ShopFactory(name="Lụa Sài Gòn", slug="lua-sai-gon", currency="VND", time_zone="Asia/Ho_Chi_Minh")
    MembershipFactory(shop=shop, user=minh)
    sku = SKUFactory(shop=shop, code="AODAI-DO-M", name="Áo dài lụa tơ tằm, đỏ, M", price=Decimal("1250000"),
                     stock_on_hand=20)
    order = make_order(shop, lines=[(sku, 1)], name="Nguyễn Thị Hương")

    # An English browser: minh's own setting decides once he is in.
    page = browser_context(locale="en-US", viewport={"width": 390, "height": 844}).new_page()
    page.goto("/login/")
    assert page.locator("html").get_attribute("lang") == "en"
    page.locator("input[name=username]").fill("minh")
    page.locator("input[name=password]").fill("pw")
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "vi"
    expect(page.locator(".mainnav")).to_contain_text(_vi("Orders"))
    row = page.locator("tr", has=page.get_by_role("link", name=order.number))
    expect(row).to_contain_text("1.250.000\xa0₫")
    assert "thg" in row.inner_text()  # "8 thg 12, 09:05": Vietnamese month, the shop's clock
    _fits(page)
    _no_axe_violations(page)
    page.screenshot(path="/tmp/l10n-minh-list-390.png", full_page=True)

    page.get_by_role("link", name=order.number).click()
    page.wait_for_load_state()
    main = page.locator("main")
    expect(main).to_contain_text("1.250.000\xa0₫")
    assert DONG.search(main.inner_text())
    assert "GMT+7" in main.inner_text() and "thg" in main.inner_text()
    assert ",00" not in main.inner_text().split("₫")[0][-4:]  # no cents a dong does not have
    page.screenshot(path="/tmp/l10n-minh-order-390.png", full_page=True)
    _fits(page)
    _no_axe_violations(page)

    # The switcher: English for a moment, and back to Vietnamese; saved on his profile.
    page.locator(".lang-switcher summary").click()
    page.locator(".lang-switcher button[value=en]").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    expect(page.locator("main")).to_contain_text("₫1,250,000")
    assert MemberProfile.objects.get(user=minh).language == "en"
    page.locator(".lang-switcher summary").click()
    page.locator(".lang-switcher button[value=vi]").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "vi"
    assert MemberProfile.objects.get(user=minh).language == "vi"


def test_a_vietnamese_browser_gets_the_login_page_in_vietnamese(browser_context):
    page = browser_context(locale="vi-VN", viewport={"width": 390, "height": 844}).new_page()
    page.goto("/login/")
    assert page.locator("html").get_attribute("lang") == "vi"
    expect(page.locator("main")).to_contain_text(_vi("Log in to Seller Center"))
    _fits(page)
    _no_axe_violations(page)
