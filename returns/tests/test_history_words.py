"""Every history row reads in words for sellers and buyers: a label per action, who did it
("the platform", never a rule id), and why in words; rule ids and window versions stay in
the data, for staff."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from core.actor import Actor
from orders.models import HISTORY_LABELS, Order, OrderEvent
from orders.tests.factories import advance, make_order
from seller_center import policies
from shipping import actions as shipping_actions
from shipping.tests.factories import arranged
from tests.pages import fetch_both, texts

from .factories import delivered_order, open_return

pytestmark = pytest.mark.django_db
JARGON = re.compile(r"\bP\d{1,2}\b|window version|version \d|[A-Z][a-z]+_[a-z_]+|\b[a-z]+_[a-z]+\b")


def _visible_text(html):
    """The words on the page, without tags, attributes, scripts and styles."""
    html = re.sub(r"(?s)<(script|style)\b.*?</\1>", " ", html)
    return re.sub(r"<[^>]+>", " ", html)


def _jargon(html):
    return sorted(set(JARGON.findall(_visible_text(html))))


def test_jargon_is_found_where_it_is():
    assert _jargon("<li><strong>Arrange_shipment</strong> by platform policy P5, window version 0</li>") == [
        "Arrange_shipment", "P5", "window version"]


def test_every_order_history_action_has_words():
    from orders.transitions import TRANSITIONS

    for action in [*TRANSITIONS, "place", "note", "late_dispatch", "handover_overdue", "tracking_reminder",
                   "deadlines_paused", "buyer_request", "refund"]:
        assert action in HISTORY_LABELS
    assert OrderEvent(action="something_new").label == "Something new"


def test_seller_order_page_reads_in_words(seller_client, shop):
    order = make_order(shop, placed_at=timezone.now() - timedelta(days=4))
    order = advance(order, Order.Status.AWAITING_SHIPMENT)
    policies.run(only={"P2", "P4", "P5"})
    (pkg,) = arranged(order)
    shipping_actions.mark_ready(package=pkg, actor=Actor.seller(shop.memberships.first().user))
    actions = set(order.events.values_list("action", flat=True))
    assert {"late_dispatch", "tracking_reminder", "arrange_shipment"} <= actions
    url = reverse("orders:detail", kwargs={"shop": shop.slug, "number": order.number})
    for page in texts(*fetch_both(seller_client, url, "order-main")):  # the page, and its part htmx swaps
        assert _jargon(page) == []
        for words in ("Late dispatch", "Shipment arranged", "Reminder: no tracking update yet", "by the platform",
                      "Why: The order was not ready or shipped within 3 days of being placed"):
            assert words in page
        assert not re.search(r"\bP2\b|\bP5\b|Arrange_shipment|Late_dispatch|window version", page)
    # Staff still read the rule and its version, in the admin's history.
    event = order.events.get(action="late_dispatch")
    assert event.actor_label == "P2" and event.data["rule"] == "P2" and event.data["version"] == 0


def test_buyer_and_seller_request_pages_read_in_words(client, seller_client, shop):
    order = delivered_order(shop)
    request = open_return(order)
    policies.run(as_of=request.respond_by + timedelta(minutes=1), only={"P11"})
    request.refresh_from_db()
    assert request.status == request.Status.APPROVED
    assert request.events.get(action="approve").data["rule"] == "P11"

    client.post("/returns/", {"number": order.number, "contact": order.buyer_email})
    buyer_pages = texts(*fetch_both(client, "/returns/order/", "buyer-main"))
    seller_pages = texts(*fetch_both(seller_client, reverse("returns:detail", kwargs={"shop": shop.slug, "pk": request.pk}),
                                     "request-main"))
    order_pages = texts(*fetch_both(seller_client, reverse("orders:detail", kwargs={"shop": shop.slug, "number": order.number}),
                                    "order-main"))
    assert all(f"Your order {order.number}" in page for page in buyer_pages)
    assert all("Return and refund request" in page for page in seller_pages)
    for page in (*buyer_pages, *seller_pages, *order_pages):
        assert "Approved" in page
        assert "The request was not answered within 2 days" in page or "Buyer request" in page
        assert not re.search(r"\bP1[13]\b|rule P|window version|version 0", page)
        assert _jargon(page) == []
