"""The owner adds a webhook in the browser, copies its secret once, an order change reaches the
receiver signed with it, the delivery log shows it and "Send again" sends it again; axe-core finds
no WCAG 2 A/AA violations at 1280 and 390 px and nothing overflows the phone."""

import pytest
from playwright.sync_api import expect
from standardwebhooks import Webhook as Verifier

from api import outbox
from api.tests.test_webhooks import Receiver
from orders.tests.factories import make_order
from tests.axe import assert_no_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_owner_adds_a_webhook_reads_its_log_and_sends_again(page, login, seller, shop, live_server):
    receiver = Receiver()
    try:
        login(seller.username)
        page.goto(f"{live_server.url}/s/{shop.slug}/settings/webhooks/")
        expect(page.get_by_role("heading", name="Webhooks", exact=True)).to_be_visible()
        assert_no_violations(page)
        page.get_by_label("Receiver URL").fill(receiver.url)
        page.get_by_label("Order created").check()
        page.get_by_label("Order status changed").check()
        page.get_by_role("button", name="Add webhook").click()
        secret = page.get_by_label("Signing secret").input_value()
        assert secret.startswith("whsec_")
        assert_no_violations(page)

        order = make_order(shop)
        outbox.run_once()
        assert len(receiver.requests) == 2
        for headers, body in receiver.requests:
            Verifier(secret).verify(body, headers)

        page.get_by_role("link", name=receiver.url).click()
        expect(page.get_by_role("heading", name="Delivery log")).to_be_visible()
        expect(page.locator("#log-panel")).to_contain_text(order.number)
        assert_no_violations(page)
        page.get_by_role("button", name="Send again").first.click()
        expect(page.locator("#log-panel .notice")).to_contain_text("sent again")
        outbox.run_once()
        assert len(receiver.requests) == 3

        page.set_viewport_size({"width": 390, "height": 844})
        page.reload()
        widths = page.evaluate("() => ({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})")
        assert widths["scroll"] <= widths["inner"] + 1, widths
        assert_no_violations(page)
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()
