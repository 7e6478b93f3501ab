"""The seller pages and the partials htmx swaps into them are well-formed HTML5 (html5lib's
strict parser reports every parse error)."""

import html5lib
import pytest
from django.urls import reverse

from orders.tests.factories import advance, make_order
from tests.pages import fetch_both

pytestmark = pytest.mark.django_db


def assert_valid_html(content, *, fragment=False):
    """A whole document, or with fragment=True a partial as htmx receives it (parsed in a <body>)."""
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    content = content.decode() if isinstance(content, bytes) else content
    try:
        parser.parseFragment(content) if fragment else parser.parse(content)
    except html5lib.html5parser.ParseError as exc:
        line, col = parser.errors[-1][0] if parser.errors else (0, 0)
        lines = content.splitlines()
        context = lines[line - 1] if 0 < line <= len(lines) else ""
        pytest.fail(f"HTML parse error {exc} at {line}:{col}: {context.strip()[:200]}")


def test_pages_are_valid_html(seller_client, shop):
    from django.test import Client

    order = make_order(shop)
    advance(make_order(shop), order.Status.CANCELLED)
    pages = [
        (reverse("orders:list", kwargs={"shop": shop.slug}), "results"),
        (reverse("orders:list", kwargs={"shop": shop.slug}) + "?tab=AWAITING_CONFIRMATION&q=X+Y", "results"),
        (reverse("orders:board", kwargs={"shop": shop.slug}), "board"),
        (reverse("orders:detail", kwargs={"shop": shop.slug, "number": order.number}), "order-main"),
        (reverse("shops:notifications", kwargs={"shop": shop.slug}), "notification-list"),
        (reverse("shop_health", kwargs={"shop": shop.slug}), "health-summary"),
    ]
    for url, partial_id in pages:
        full, partial = fetch_both(seller_client, url, partial_id)
        assert_valid_html(full.content)
        assert_valid_html(partial.content, fragment=True)
    assert_valid_html(fetch_both(Client(), "/login/", None)[0].content)
