import pytest
from playwright.sync_api import expect

from orders.models import Order
from shops.tests.factories import SKUFactory

from ..models import BuyerRequest, Refund
from .factories import image_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def buyer_page(browser_context):
    """A second browser, for the buyer (no account, no shared cookies with the seller)."""
    return browser_context(viewport={"width": 1100, "height": 900}).new_page()


def _buyer_finds(buyer_page, order):
    buyer_page.goto("/returns/")
    buyer_page.get_by_label("Order number").fill(order.number)
    buyer_page.get_by_label("Email or phone used at checkout").fill(order.buyer_email)
    buyer_page.get_by_role("button", name="Find my order").click()
    expect(buyer_page.get_by_role("heading", name=f"Your order {order.number}")).to_be_visible()


def test_return_with_photo_approved_shipped_back_received_and_refunded(page, buyer_page, login, seller, shop):
    from orders.tests.factories import advance, make_order

    mug = SKUFactory(shop=shop, code="MUG-01", name="Blue mug", price="12.00")
    order = advance(make_order(shop, lines=[(mug, 2)], email="robin@example.com"), Order.Status.DELIVERED)

    # The buyer asks for a return of one mug, with a photo.
    _buyer_finds(buyer_page, order)
    buyer_page.get_by_label("What do you need?").select_option("return")
    buyer_page.get_by_label("Blue mug (up to 2)").fill("1")
    buyer_page.get_by_label("Reason").select_option("damaged")
    buyer_page.get_by_label("Describe the problem").fill("Arrived with a chipped handle")
    buyer_page.get_by_label("Photos (up to 5").set_input_files(
        [{"name": "chip.jpg", "mimeType": "image/jpeg", "buffer": image_bytes("JPEG")}]
    )
    buyer_page.get_by_role("button", name="Send request").click()
    expect(buyer_page.locator(".buyer-request")).to_contain_text("Awaiting the seller's answer")
    expect(buyer_page.locator(".buyer-request img")).to_have_count(1)
    req = BuyerRequest.objects.get()

    # The seller sees it on the order page, opens it and approves.
    login(seller.username)
    page.goto(f"/s/{shop.slug}/orders/{order.number}/")
    page.get_by_role("link", name=req.number).click()
    expect(page.get_by_role("heading", name=f"Return and refund request {req.number}")).to_be_visible()
    expect(page.get_by_alt_text("Buyer photo 1")).to_be_visible()
    page.get_by_role("button", name="Approve return and refund").click()
    expect(page.locator("#request-status")).to_have_text("Approved, awaiting the return")

    # The buyer enters the return tracking number.
    buyer_page.reload()
    buyer_page.get_by_label("Carrier").fill("UPS")
    buyer_page.get_by_label("Return tracking number").fill("1ZRETURN42")
    buyer_page.get_by_role("button", name="Save return tracking").click()
    expect(buyer_page.locator(".buyer-request .status")).to_have_text("Return shipped")

    # The seller confirms receipt and refunds in full.
    page.reload()
    expect(page.locator(".deadlines")).to_contain_text("1ZRETURN42")
    page.get_by_role("button", name="Confirm the item was received").click()
    expect(page.locator("#request-status")).to_have_text("Return received")
    page.get_by_role("button", name="Refund").click()
    expect(page.locator("#request-status")).to_have_text("Refunded")
    timeline = page.locator(".request-timeline")
    for step in ["Requested", "Approved", "Return shipped", "Return received", "Refunded"]:
        expect(timeline).to_contain_text(step)
    assert str(Refund.objects.get(order=order).amount) == "12.00"

    # Both timelines show it; the buyer sees the refund.
    buyer_page.reload()
    buyer_timeline = buyer_page.locator(".request-timeline")
    for step in ["Requested", "Approved", "Return shipped", "Return received", "Refunded"]:
        expect(buyer_timeline).to_contain_text(step)
    expect(buyer_page.locator("#buyer-refunds")).to_contain_text("12.00")
    page.goto(f"/s/{shop.slug}/orders/{order.number}/")
    expect(page.locator(".timeline").last).to_contain_text("Refunded $12.00")


def test_buyer_asks_to_cancel_before_shipment_and_the_seller_approves(page, buyer_page, login, seller, shop):
    from orders.tests.factories import advance, make_order

    sku = SKUFactory(shop=shop, code="TEE-01", name="Tee", price="20.00", stock_on_hand=5)
    order = advance(make_order(shop, lines=[(sku, 1)]), Order.Status.AWAITING_SHIPMENT)

    _buyer_finds(buyer_page, order)
    expect(buyer_page.get_by_role("heading", name="Ask for a cancellation")).to_be_visible()
    buyer_page.get_by_label("Reason").select_option("no_longer_needed")
    buyer_page.get_by_role("button", name="Send request").click()
    expect(buyer_page.locator(".buyer-request")).to_contain_text("Cancellation request")

    login(seller.username)
    page.goto(f"/s/{shop.slug}/requests/")
    expect(page.locator('[data-status="REQUESTED"]')).to_have_text("1")
    page.get_by_role("link", name=BuyerRequest.objects.get().number).click()
    page.get_by_role("button", name="Approve cancellation").click()
    expect(page.locator("#request-status")).to_have_text("Refunded")

    order.refresh_from_db()
    sku.refresh_from_db()
    assert order.status == Order.Status.CANCELLED and sku.reserved == 0
    assert Refund.objects.get(order=order).amount == order.total

    buyer_page.reload()
    expect(buyer_page.locator("#order-status")).to_have_text("Cancelled")
    expect(buyer_page.locator(".message-platform").filter(has_text="was cancelled. Reason: Buyer asked to cancel")).to_have_count(1)
    expect(buyer_page.locator("#buyer-refunds")).to_contain_text("20.00")


def test_seller_disputes_an_empty_return_and_the_buyer_sees_it(page, buyer_page, login, seller, shop):
    from core.actor import Actor
    from orders.tests.factories import advance, make_order
    from tests.axe import assert_no_violations

    from .. import actions
    from .factories import open_return

    order = advance(make_order(shop, lines=[(SKUFactory(shop=shop, name="Lamp"), 1)], email="sam@example.com"),
                    Order.Status.DELIVERED)
    req = actions.approve_request(request=open_return(order), actor=Actor.seller(seller))
    actions.ship_back(request=req, carrier="UPS", tracking="1ZEMPTY")

    login(seller.username)
    page.goto(f"/s/{shop.slug}/requests/{req.pk}/")
    expect(page.locator(".deadlines")).to_contain_text("Refunded by")
    page.get_by_text("The return is not what was sent…").click()
    page.get_by_label("What is wrong").select_option("not_received_back")
    page.get_by_label("What arrived (or that nothing did)").fill("An empty box, resealed")
    page.get_by_role("button", name="Dispute this return").click()
    expect(page.locator("#request-status")).to_have_text("Disputed, with platform staff")
    expect(page.locator(".request-timeline")).to_contain_text("Disputed by the seller")
    expect(page.get_by_role("button", name="Dispute this return")).to_have_count(0)
    assert_no_violations(page)

    _buyer_finds(buyer_page, order)
    expect(buyer_page.locator(".buyer-request .status")).to_have_text("Disputed, with platform staff")
    expect(buyer_page.get_by_text("The seller disputes your return")).to_be_visible()
