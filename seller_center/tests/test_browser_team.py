"""The team journey in a browser: alice (the owner) invites a new member as Fulfilment; the
member accepts, sets a password, confirms and ships an order, and is refused a cancel; alice
removes them and their session ends. axe-core finds no WCAG 2 A/AA violations on the team page
at 1280 and 390 px, and nothing overflows the phone."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from orders.models import Order
from orders.tests.factories import make_order
from shipping.tests.factories import ups_number
from shops.models import Membership
from shops.tests.factories import SKUFactory
from tests.axe import assert_no_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_owner_invites_a_packer_who_ships_and_is_removed(page, login, seller, shop, browser_context):
    sku = SKUFactory(shop=shop, stock_on_hand=10)
    to_ship = make_order(shop, lines=[(sku, 1)], shipping_model="SELLER")
    to_keep = make_order(shop, lines=[(sku, 1)])

    login(seller.username)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Team").click()
    expect(page.get_by_role("heading", name="Team", exact=True)).to_be_visible()
    assert_no_violations(page)
    page.get_by_label("Email").fill("pat@example.com")
    page.get_by_label("Role", exact=True).select_option("fulfilment")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.locator("#team-panel .notice")).to_contain_text("Invitation sent to pat@example.com as Fulfilment")
    assert_no_violations(page)
    (message,) = [m for m in mail.outbox if m.to == ["pat@example.com"]]
    link = re.search(r"https?://[^/\s]+(/invite/\S+/)", message.body).group(1)

    member = browser_context().new_page()
    member.goto(link)
    expect(member.get_by_role("heading", name=f"Join {shop.name}")).to_be_visible()
    member.get_by_label("Username").fill("pat")
    member.get_by_label("Password", exact=True).fill("packing all day 42")
    member.get_by_label("Password again").fill("packing all day 42")
    member.get_by_role("button", name="Create my account and join").click()
    expect(member.get_by_role("heading", name="Manage orders")).to_be_visible()
    # A packer's menu has no Team or API keys.
    expect(member.get_by_role("navigation", name="Main").get_by_role("link", name="Team")).to_have_count(0)

    member.get_by_role("link", name=to_ship.number).click()
    expect(member.get_by_role("button", name="Cancel order…")).to_have_count(0)  # hidden from Fulfilment
    member.get_by_role("button", name="Confirm order").click()
    expect(member.locator("#order-main .status")).to_have_text("Awaiting shipment")
    member.get_by_label("Carrier").select_option("ups")
    member.get_by_label("Tracking number").fill(ups_number())
    member.get_by_role("button", name="Mark shipped").click()
    expect(member.locator("#order-main .status")).to_have_text("In transit")

    # The server refuses what the page hid: a cancel posted with the member's own session.
    csrf = next(c["value"] for c in member.context.cookies() if c["name"] == "csrftoken")
    refused = member.request.post(f"/s/{shop.slug}/orders/{to_keep.number}/cancel",
                                  form={"reason": "out_of_stock", "note": ""}, headers={"X-CSRFToken": csrf})
    assert refused.status == 403 and "orders.cancel" in refused.text()
    assert Order.objects.get(pk=to_keep.pk).status == Order.Status.AWAITING_CONFIRMATION

    page.reload()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Remove pat").click()
    expect(page.locator("#team-panel .notice")).to_contain_text("pat was removed")
    assert Membership.objects.get(user__username="pat").removed_at is not None

    member.reload()
    expect(member.get_by_role("heading", name="Log in to Seller Center")).to_be_visible()
    expect(member.locator("#toasts")).to_contain_text(f"You were removed from {shop.name}")
    member.goto(f"/s/{shop.slug}/orders/")
    expect(member.get_by_role("heading", name="Log in to Seller Center")).to_be_visible()

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    widths = page.evaluate("() => ({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})")
    assert widths["scroll"] <= widths["inner"] + 1, widths
    assert_no_violations(page)
