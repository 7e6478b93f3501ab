import io
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect
from pypdf import PdfReader

from orders.tests.factories import advance, make_order
from shipping.models import Package
from shipping.tasks import simulate_carrier_tick
from shops.tests.factories import SKUFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_seller_arranges_prints_and_the_carrier_delivers(page, login, seller, shop):
    sku = SKUFactory(shop=shop, code="MUG-BLU", stock_on_hand=5)
    order = make_order(shop, lines=[(sku, 2)], name="Robin Buyer", shipping_model="PLATFORM")
    order = advance(order, order.Status.AWAITING_SHIPMENT)
    login(seller.username)
    page.goto(f"/s/{shop.slug}/orders/{order.number}/")
    panel = page.locator("#shipping-panel")
    expect(panel.get_by_role("heading", name="Shipping")).to_be_visible()

    # Arrange shipment: drop-off at a point; the platform label is generated.
    panel.get_by_label("I drop it off").check()
    panel.get_by_label("Drop-off point").select_option("SCX-DP-001")
    panel.get_by_role("button", name="Arrange shipment").click()
    expect(page.locator("#toasts")).to_contain_text("Shipment arranged")
    pkg = Package.objects.get(order=order)
    expect(page.locator("#shipping-panel .tracking-number")).to_contain_text(pkg.tracking_number)

    # Print the label: a PDF with the tracking number and the recipient.
    with page.expect_download() as download:
        page.locator("#shipping-panel").get_by_role("button", name="Print labels").click()
    with open(download.value.path(), "rb") as f:
        text = PdfReader(io.BytesIO(f.read())).pages[0].extract_text()
    assert pkg.tracking_number in text and "Robin Buyer" in text

    page.locator("#shipping-panel").get_by_role("button", name="Mark package 1 ready").click()
    expect(page.locator("#order-main .order-head .status")).to_have_text("Awaiting collection")

    # The demo carrier takes it from here, through the same ingest as the real feed.
    now = timezone.now()
    for i in range(1, 10):
        simulate_carrier_tick(now=now + timedelta(minutes=3 * i), min_age_minutes=0, force=True)
        pkg.refresh_from_db()
        if pkg.status == Package.Status.DELIVERED:
            break
    assert pkg.status == Package.Status.DELIVERED

    page.reload()
    expect(page.locator("#order-main .order-head .status")).to_have_text("Delivered")
    timeline = page.locator(".tracking-timeline")
    expect(timeline).to_contain_text("Delivered")
    expect(timeline).to_contain_text("Out for delivery")
    expect(timeline).to_contain_text("Dropped off at")
    expect(timeline).to_contain_text("Label printed")
    expect(page.locator(".pkg-status").first).to_have_text("Delivered")
    history = page.get_by_role("region", name="History")
    expect(history.locator(".timeline")).to_contain_text("In transit → Delivered by carrier Seller Center Express")
