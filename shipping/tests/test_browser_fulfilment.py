"""Fulfilment at volume in the browser: bulk arrange, the print queue, mark ready; combine two
orders. axe-core finds no WCAG 2 A/AA violations at 1280 and 390 px, and nothing overflows the phone."""

import io

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from orders.tests.factories import advance, make_order
from shipping.models import Package
from shops.tests.factories import SKUFactory
from tests.axe import assert_no_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _orders(shop, n, **kw):
    sku = SKUFactory(shop=shop, code="MUG-BLU", stock_on_hand=100)
    return [advance(make_order(shop, lines=[(sku, 1)], shipping_model="PLATFORM", **kw), "AWAITING_SHIPMENT")
            for _ in range(n)]


def _no_overflow(page):
    wide = page.evaluate("() => [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > window.innerWidth + 1).slice(0, 8).map(e => e.tagName + '.' + e.className + '#' + e.id)")
    widths = page.evaluate("() => ({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})")
    assert widths["scroll"] <= widths["inner"] + 1, (widths, wide)


@pytest.mark.parametrize("width", [1280, 390])
def test_bulk_arrange_print_queue_and_mark_ready(page, login, seller, shop, width):
    page.set_viewport_size({"width": width, "height": 900})
    orders = _orders(shop, 3)
    login(seller.username)
    page.goto(f"/s/{shop.slug}/shipping/")
    assert_no_violations(page)
    _no_overflow(page)

    # Arrange: the "to arrange" view, every order of it, drop-off at a point.
    page.get_by_role("link", name="Ship by platform: to arrange").click()
    expect(page.locator("#to-ship nav [aria-current=page]")).to_have_text("Ship by platform: to arrange")
    for o in orders:
        page.get_by_label(f"Select order {o.number}").check()
    page.get_by_label("I drop it off").check()
    page.get_by_label("Drop-off point").select_option("SCX-DP-002")
    page.get_by_role("button", name="Arrange selected").click()
    expect(page.locator("#toasts")).to_contain_text("3 arranged")
    expect(page.locator("#bulk-report")).to_contain_text(orders[0].number)
    assert Package.objects.filter(order__in=orders, dropoff_point="SCX-DP-002").count() == 3

    # The print queue has the three labels: print them all in one PDF.
    queue = page.locator("#print-queue")
    expect(queue.get_by_role("link", name="Labels to print 3")).to_be_visible()
    with page.expect_download() as download:
        queue.get_by_role("button", name="Print all 3 waiting").click()
    with open(download.value.path(), "rb") as f:
        pages = PdfReader(io.BytesIO(f.read())).pages
    assert len(pages) == 3
    page.goto(f"/s/{shop.slug}/shipping/?queue=label-done")
    expect(page.locator("#print-queue tbody tr")).to_have_count(3)
    assert_no_violations(page)
    _no_overflow(page)

    # Mark ready: every order of the "to mark ready" view.
    page.get_by_role("link", name="Arranged: to mark ready").click()
    # The swapped list, not the one it replaces (which also shows the three orders).
    expect(page.locator("#to-ship nav [aria-current=page]")).to_have_text("Arranged: to mark ready")
    expect(page.locator("#to-ship tbody input[name=order]")).to_have_count(3)
    page.get_by_label("Act on every order of this view").check()
    page.get_by_role("button", name="Mark selected ready").click()
    expect(page.locator("#toasts")).to_contain_text("3 ready for handover")
    assert {Package.objects.get(order=o).status for o in orders} == {"READY"}
    for o in orders:
        o.refresh_from_db()
        assert o.status == "AWAITING_COLLECTION"
    assert_no_violations(page)


@pytest.mark.parametrize("width", [1280, 390])
def test_combine_two_orders_of_one_buyer(page, login, seller, shop, width):
    page.set_viewport_size({"width": width, "height": 900})
    a, b = _orders(shop, 2, email="robin@example.com")
    login(seller.username)
    page.goto(f"/s/{shop.slug}/shipping/")
    page.get_by_label(f"Select order {a.number}").check()
    page.get_by_label(f"Select order {b.number}").check()
    page.get_by_role("button", name="Combine selected into one package").click()
    expect(page.locator("#toasts")).to_contain_text(f"package of order {a.number}")
    assert Package.objects.get(order=b).parcel_id == Package.objects.get(order=a).pk

    page.goto(f"/s/{shop.slug}/orders/{b.number}/")
    panel = page.locator("#shipping-panel")
    expect(panel.locator(".combined")).to_contain_text(f"Travels in the package of order {a.number}")
    assert_no_violations(page)
    _no_overflow(page)
    page.goto(f"/s/{shop.slug}/orders/{a.number}/")
    expect(page.locator("#shipping-panel .combined")).to_contain_text(b.number)
    page.locator("#shipping-panel").get_by_role("button", name="Uncombine").click()
    expect(page.locator("#toasts")).to_contain_text("ship in their own package again")
    assert Package.objects.get(order=b).parcel_id is None
