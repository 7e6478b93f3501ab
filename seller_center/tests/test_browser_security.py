"""The pages under their Content-Security-Policy, in chromium: the watcher in conftest fails
any browser test on a CSP message; these prove the watcher sees one, that admin works under
the policy, and how htmx answers other than 200 show (in DEBUG, as the demo runs)."""

import pytest
from playwright.sync_api import expect

from orders.models import Order
from returns.tests.factories import delivered_order
from shops.tests.factories import SKUFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_csp_watcher_reports_a_blocked_resource(page):
    page.goto("/login/")
    with page.expect_console_message(lambda m: "CSP violation" in m.text):
        page.evaluate("""() => { const s = document.createElement("script");
                                 s.textContent = "window.pwned = 1"; document.head.append(s); }""")
    assert page.evaluate("() => window.pwned") is None  # the inline script did not run
    assert any("script-src" in m for m in page.context.policy_messages)
    page.context.policy_messages.clear()  # seen: this test's own violation is not a failure


def test_admin_login_lists_and_forms_work_under_the_csp(page, django_user_model, shop):
    django_user_model.objects.create_superuser("root", "root@example.com", "pw")
    page.goto("/admin/")
    page.get_by_label("Username").fill("root")
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()
    page.goto("/admin/shops/shop/")
    expect(page.locator("#result_list")).to_contain_text(shop.name)
    page.goto(f"/admin/shops/shop/{shop.pk}/change/")
    expect(page.locator("#content h1")).to_be_visible()
    # The admin's own scripts ran (its nav filter is built by script).
    assert page.evaluate("() => typeof window.django !== 'undefined'")
    page.goto("/admin/auth/user/add/")
    expect(page.get_by_role("button", name="Save", exact=True)).to_be_visible()


def _buyer_on_order_page(page, order):
    page.goto("/returns/")
    page.get_by_label("Order number").fill(order.number)
    page.get_by_label("Email or phone used at checkout").fill(order.buyer_email)
    page.get_by_role("button", name="Find my order").click()
    expect(page.get_by_role("heading", name=f"Your order {order.number}")).to_be_visible()


@pytest.fixture
def debug_demo(settings):
    """As `make run` serves the demo: DEBUG on (django-htmx's debug handler would be active)."""
    settings.DEBUG = True


def test_htmx_400_validation_answer_renders_inside_the_page_in_debug(page, shop, debug_demo):
    order = delivered_order(shop, lines=[(SKUFactory(shop=shop, name="Mug"), 1)], email="kim@example.com")
    _buyer_on_order_page(page, order)
    page.get_by_label("Message to the seller").fill("   ")  # passes `required`; blank to the server
    with page.expect_response(lambda r: r.url.endswith("/returns/order/message")) as answer:
        page.get_by_role("button", name="Send message").click()
    assert answer.value.status == 400
    error = page.locator("#buyer-main [role=alert]")
    expect(error).to_contain_text("Write the message first")
    # Still the styled page around it: the header, the order heading, the stylesheet applied.
    expect(page.locator("header.topbar .brand")).to_be_visible()
    expect(page.get_by_role("heading", name=f"Your order {order.number}")).to_be_visible()
    assert page.evaluate("() => getComputedStyle(document.querySelector('header.topbar')).display") == "flex"
    assert page.locator("html").count() == 1 and page.locator("body header.topbar").count() == 1
    assert Order.objects.get(pk=order.pk).messages.count() == 0


@pytest.mark.parametrize(
    ("status", "body", "toast"),
    [
        (500, "<!doctype html><html><body><h1>Server Error (500)</h1></body></html>", "Something went wrong"),
        (403, "<h1>403 Forbidden</h1>", "not allowed"),
        (413, "Request Entity Too Large", "too large"),
        (400, "<!DOCTYPE html><html><head><title>Bad Request</title></head><body>Bad Request (400)</body></html>",
         "refused"),
    ],
)
def test_htmx_error_answers_keep_the_page_and_show_a_toast(page, shop, debug_demo, status, body, toast):
    order = delivered_order(shop, lines=[(SKUFactory(shop=shop, name="Lamp"), 1)], email="lee@example.com")
    _buyer_on_order_page(page, order)
    page.route("**/returns/order/message", lambda route: route.fulfill(status=status, body=body,
                                                                  content_type="text/html"))
    page.get_by_label("Message to the seller").fill("Hello")
    page.get_by_role("button", name="Send message").click()
    expect(page.locator("#toasts .toast-error")).to_contain_text(toast)
    expect(page.get_by_role("heading", name=f"Your order {order.number}")).to_be_visible()
    expect(page.get_by_label("Message to the seller")).to_have_value("Hello")  # nothing was swapped
    assert "Server Error" not in page.content() and "Forbidden" not in page.content()


def test_htmx_answer_with_its_own_toast_is_not_told_twice(page, shop, debug_demo):
    order = delivered_order(shop, lines=[(SKUFactory(shop=shop, name="Vase"), 1)], email="ash@example.com")
    _buyer_on_order_page(page, order)
    page.route("**/returns/order/message", lambda route: route.fulfill(
        status=413, body="", headers={"HX-Trigger": '{"toast": {"level": "error", "message": "At most 26 MB."}}'}))
    page.get_by_label("Message to the seller").fill("Hello")
    page.get_by_role("button", name="Send message").click()
    expect(page.locator("#toasts .toast-error")).to_have_text("At most 26 MB.")
    page.wait_for_timeout(600)
    expect(page.locator("#toasts .toast-error")).to_have_count(1)


def test_api_docs_render_under_the_csp(page):
    page.goto("/api/v1/docs")
    # Swagger UI is 1.5 MB of script: a loaded machine (the whole suite in parallel) needs a while.
    expect(page.locator("#swagger-ui .info .title")).to_be_visible(timeout=30_000)
