"""A request's reasons follow its kind: a cancellation is about the order (ordered by
mistake, too slow...), a refund or a return about the item (damaged, wrong item...); the
seller rejects a cancellation because the order is on its way, a return because of the item.
The forms offer only those, with none chosen, and the actions refuse any other."""

import re

import pytest
from django.urls import reverse

from core.actor import Actor
from orders.actions import ActionRefused
from tests.pages import fetch_both, texts

from .. import actions
from ..models import REASONS_BY_KIND, REJECT_REASONS_BY_KIND, BuyerRequest
from .factories import delivered_order, open_cancel, open_return, paid_order

pytestmark = pytest.mark.django_db
Rs, RR = BuyerRequest.Reason, BuyerRequest.RejectReason


def _options(html, name):
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S).group(1)
    return re.findall(r'<option value="([^"]*)"', select)


def _buyer_page(client, order):
    client.post("/returns/", {"number": order.number, "contact": order.buyer_email})
    full, _ = fetch_both(client, "/returns/order/", "buyer-main")
    return full.content.decode()


def test_buyer_cancellation_form_offers_cancellation_reasons_only(client, shop):
    page = _buyer_page(client, paid_order(shop))
    assert "Ask for a cancellation" in page
    assert _options(page, "reason") == ["", *REASONS_BY_KIND["cancel"]]
    for delivery_reason in ("Damaged", "Wrong item", "Missing parts", "Not as described"):
        assert f">{delivery_reason}<" not in page


def test_buyer_return_form_offers_item_reasons_only(client, shop):
    page = _buyer_page(client, delivered_order(shop))
    assert _options(page, "reason") == ["", *REASONS_BY_KIND["return"]]
    assert "Ordered by mistake" not in page and "Delivery would take too long" not in page


def test_a_reason_of_the_other_kind_is_refused_and_nothing_is_stored(client, shop):
    order = paid_order(shop)
    with pytest.raises(ActionRefused, match="“Damaged” is not a reason for a cancellation request"):
        actions.open_request(order=order, kind="cancel", reason="damaged")
    _buyer_page(client, order)
    response = client.post(reverse("returns_public:open"), {"kind": "cancel", "reason": "wrong_item"})
    assert response.status_code == 400
    assert "is not a reason for a cancellation request" in response.content.decode()
    assert client.post(reverse("returns_public:open"), {"kind": "cancel", "reason": ""}).status_code == 400
    assert not BuyerRequest.objects.exists()
    delivered = delivered_order(shop)
    with pytest.raises(ActionRefused, match="not a reason for a return and refund request"):
        open_return(delivered, reason="too_slow")
    assert not BuyerRequest.objects.exists()
    assert open_cancel(order, reason="too_slow").reason == "too_slow"


@pytest.mark.parametrize("kind", ["cancel", "return"])
def test_seller_reject_form_offers_the_kinds_reasons_with_none_chosen(seller_client, shop, seller, kind):
    req = open_cancel(paid_order(shop)) if kind == "cancel" else open_return(delivered_order(shop))
    url = reverse("returns:detail", kwargs={"shop": shop.slug, "pk": req.pk})
    page, partial = texts(*fetch_both(seller_client, url, "request-main"))
    assert _options(page, "reason") == _options(partial, "reason") == ["", *REJECT_REASONS_BY_KIND[kind]]
    assert 'selected' not in re.search(r'<select name="reason"[^>]*>(.*?)</select>', page, re.S).group(1)
    if kind == "cancel":
        assert "The item shows no defect" not in page
    else:
        assert "already handed to the carrier" not in page

    reject = reverse("returns:reject", kwargs={"shop": shop.slug, "pk": req.pk})
    wrong = RR.NO_DEFECT if kind == "cancel" else RR.ALREADY_SHIPPED
    response = seller_client.post(reject, {"reason": wrong}, headers={"HX-Request": "true"})
    assert response.status_code == 400 and "Select a valid choice" in response.content.decode()
    with pytest.raises(ActionRefused, match="Choose a reason for the rejection from the list"):
        actions.reject_request(request=req, actor=Actor.seller(seller), reason=wrong)
    assert seller_client.post(reject, {"reason": ""}, headers={"HX-Request": "true"}).status_code == 400
    req.refresh_from_db()
    assert req.status == req.Status.REQUESTED and not req.events.filter(action="reject").exists()

    right = REJECT_REASONS_BY_KIND[kind][0]
    assert seller_client.post(reject, {"reason": right}).status_code == 302
    req.refresh_from_db()
    assert (req.status, req.reject_reason) == (req.Status.REJECTED, right)


def test_staff_ruling_offers_the_requests_reasons(admin_client, shop):
    req = open_cancel(paid_order(shop))
    page = admin_client.get(reverse("admin:returns_buyerrequest_rule", args=[req.pk])).content.decode()
    assert _options(page, "reject_reason") == ["", *REJECT_REASONS_BY_KIND["cancel"]]
