"""The seller pages are well-formed HTML5 (html5lib's strict parser reports every parse error)."""

import html5lib
import pytest
from django.urls import reverse

from orders.tests.factories import advance, make_order

pytestmark = pytest.mark.django_db


def assert_valid_html(content):
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    try:
        parser.parse(content.decode() if isinstance(content, bytes) else content)
    except html5lib.html5parser.ParseError as exc:
        line, col = parser.errors[-1][0] if parser.errors else (0, 0)
        lines = content.decode().splitlines()
        context = lines[line - 1] if 0 < line <= len(lines) else ""
        pytest.fail(f"HTML parse error {exc} at {line}:{col}: {context.strip()[:200]}")


def test_pages_are_valid_html(seller_client, shop):
    from django.test import Client

    order = make_order(shop)
    advance(make_order(shop), order.Status.CANCELLED)
    urls = [
        reverse("orders:list", kwargs={"shop": shop.slug}),
        reverse("orders:list", kwargs={"shop": shop.slug}) + "?tab=AWAITING_CONFIRMATION&q=X+Y",
        reverse("orders:detail", kwargs={"shop": shop.slug, "number": order.number}),
        reverse("shops:notifications", kwargs={"shop": shop.slug}),
        reverse("shop_health", kwargs={"shop": shop.slug}),
    ]
    for url in urls:
        response = seller_client.get(url)
        assert response.status_code == 200
        assert_valid_html(response.content)
    assert_valid_html(Client().get("/login/").content)
