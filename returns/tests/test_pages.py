from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from orders.actions import Actor
from orders.models import Order, OrderEvent, OrderMessage
from shops.tests.factories import MembershipFactory, ShopFactory, UserFactory

from .. import actions
from ..models import BuyerRequest, Refund
from .factories import delivered_order, open_cancel, open_return, paid_order, upload

pytestmark = pytest.mark.django_db
R = BuyerRequest.Status


def url(name, shop, **kw):
    return reverse(f"returns:{name}", kwargs={"shop": shop.slug, **kw})


def test_request_list_full_partial_and_counts(seller_client, shop):
    open_return(delivered_order(shop))
    open_cancel(paid_order(shop))
    response = seller_client.get(url("list", shop))
    page = response.content.decode()
    assert response.status_code == 200 and "<html" in page
    assert 'data-status="open">2<' in page and 'data-status="REQUESTED">2<' in page
    partial = seller_client.get(url("list", shop) + "?tab=REQUESTED&kind=cancel", headers={"HX-Request": "true"})
    body = partial.content.decode()
    assert "<html" not in body and 'id="results"' in body and body.count("/requests/") >= 1
    rows = body.split('id="rows"')[1]
    assert "<td>Cancellation</td>" in rows and "<td>Return and refund</td>" not in rows


def test_request_list_query_count_is_fixed(seller_client, shop):
    open_return(delivered_order(shop))

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert seller_client.get(url("list", shop) + "?tab=all").status_code == 200
        return len(ctx)

    first = count()
    for _ in range(4):
        open_return(delivered_order(shop))
    assert count() == first


def test_request_list_keyset_pages(seller_client, shop, monkeypatch):
    from .. import views

    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    reqs = [open_return(delivered_order(shop)) for _ in range(3)]
    first = seller_client.get(url("list", shop)).content.decode()
    assert reqs[2].number in first and reqs[0].number not in first
    second = seller_client.get(url("list", shop) + f"?after={reqs[1].pk}").content.decode()
    assert reqs[0].number in second and reqs[2].number not in second


def test_request_detail_query_count_is_fixed(seller_client, shop):
    order = delivered_order(shop)
    req = open_return(order, files=[upload()])

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert seller_client.get(url("detail", shop, pk=req.pk)).status_code == 200
        return len(ctx)

    first = count()
    from .. import actions

    for i in range(3):
        actions.post_message(order=order, sender="buyer", body=f"hi {i}")
    assert count() == first


def test_another_shops_request_is_not_found(seller_client, shop):
    other = ShopFactory()
    req = open_return(delivered_order(other), files=[upload()])
    photo = req.photos.get()
    assert seller_client.get(url("detail", shop, pk=req.pk)).status_code == 404
    assert seller_client.post(url("approve", shop, pk=req.pk)).status_code == 404
    assert seller_client.post(url("reject", shop, pk=req.pk), {"reason": "no_defect"}).status_code == 404
    assert seller_client.get(url("photo", shop, pk=req.pk, photo=photo.pk)).status_code == 404
    assert seller_client.post(url("message", shop, number=req.order.number), {"body": "x"}).status_code == 404
    assert seller_client.get(url("list", other)).status_code == 404
    req.refresh_from_db()
    assert req.status == R.REQUESTED


def test_anonymous_seller_pages_redirect_to_login(client, shop):
    assert client.get(url("list", shop)).status_code == 302


def test_seller_approves_without_js_and_with_htmx(seller_client, shop):
    req = open_return(delivered_order(shop))
    response = seller_client.post(url("approve", shop, pk=req.pk), {"note": ""})
    assert response.status_code == 302 and response["Location"] == url("detail", shop, pk=req.pk)
    req.refresh_from_db()
    assert req.status == R.APPROVED
    again = seller_client.post(url("approve", shop, pk=req.pk), headers={"HX-Request": "true"})
    assert again.status_code == 409 and "HX-Trigger" in again and 'id="request-main"' in again.content.decode()


def test_seller_rejects_with_a_reason(seller_client, shop):
    req = open_return(delivered_order(shop))
    assert seller_client.post(url("reject", shop, pk=req.pk), {"reason": "bogus"}).status_code == 302
    req.refresh_from_db()
    assert req.status == R.REQUESTED
    seller_client.post(url("reject", shop, pk=req.pk), {"reason": "evidence", "note": "No damage visible"})
    req.refresh_from_db()
    assert (req.status, req.reject_note) == (R.REJECTED, "No damage visible")


def test_seller_extends_receives_and_refunds_partially(seller_client, shop):
    order = delivered_order(shop)
    req = open_return(order)
    seller_client.post(url("extend", shop, pk=req.pk))
    response = seller_client.post(url("extend", shop, pk=req.pk), headers={"HX-Request": "true"})
    assert response.status_code == 409
    seller_client.post(url("approve", shop, pk=req.pk))
    from .. import actions

    actions.ship_back(request=req, carrier="DHL", tracking="JD01")
    seller_client.post(url("receive", shop, pk=req.pk))
    response = seller_client.post(url("refund", shop, pk=req.pk), {"amount": "7.50", "note": "Box missing"})
    assert response.status_code == 302
    assert Refund.objects.get(order=order).amount == Decimal("7.50")
    assert seller_client.post(url("refund", shop, pk=req.pk), {"amount": ""}).status_code == 302
    assert Refund.objects.filter(order=order).count() == 1


def test_seller_message_from_request_page(seller_client, shop):
    order = delivered_order(shop)
    req = open_return(order)
    response = seller_client.post(url("message", shop, number=order.number),
                                  {"body": "Please send a photo of the label", "next": f"request:{req.pk}"})
    assert response["Location"] == url("detail", shop, pk=req.pk)
    assert OrderMessage.objects.get(order=order, sender="seller").body.startswith("Please send")


def test_order_page_shows_the_requests_panel(seller_client, shop):
    order = delivered_order(shop)
    req = open_return(order)
    page = seller_client.get(reverse("orders:detail", kwargs={"shop": shop.slug, "number": order.number})).content.decode()
    assert "Buyer requests and refunds" in page and req.number in page


def test_board_card_and_filter_count_requests_awaiting_an_answer(seller_client, shop):
    from orders import registry

    awaiting = delivered_order(shop)
    open_return(awaiting)
    delivered_order(shop)
    from django.utils import timezone

    card = registry.BOARD_CARDS["requests_awaiting"]
    assert card.count(shop, timezone.now()) == 1
    assert registry.BOARD_CARDS["requests_auto_approve_24h"].count(shop, timezone.now()) == 0
    listing = seller_client.get(reverse("orders:list", kwargs={"shop": shop.slug}) + "?board=requests_awaiting")
    assert awaiting.number in listing.content.decode()
    filtered = registry.LIST_FILTERS["request"].apply(Order.objects.for_shop(shop), "awaiting")
    assert list(filtered) == [awaiting]


def test_staff_rule_in_admin_with_a_reason(client, shop):
    staff = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    req = open_return(delivered_order(shop))
    rule = reverse("admin:returns_buyerrequest_rule", args=[req.pk])
    assert client.get(rule).status_code == 200
    assert client.post(rule, {"decision": "reject", "note": "x"}).status_code == 200  # needs a reject reason
    response = client.post(rule, {"decision": "reject", "reject_reason": "evidence", "note": "Photo is a stock image"})
    assert response.status_code == 302
    req.refresh_from_db()
    assert req.status == R.REJECTED
    event = req.events.last()
    assert (event.actor_kind, event.note) == ("staff", "Photo is a stock image")
    assert OrderEvent.objects.filter(order=req.order, actor_kind="staff").exists()
    client.post(rule, {"decision": "approve", "note": "On appeal: the crack is visible"})
    req.refresh_from_db()
    assert req.status == R.APPROVED
    assert client.get(reverse("admin:returns_buyerrequest_changelist")).status_code == 200
    assert client.get(reverse("admin:returns_refund_changelist")).status_code == 200
    assert client.get(reverse("admin:returns_buyerrequest_change", args=[req.pk])).status_code == 200


def test_seller_of_two_shops_sees_each_shops_requests_apart(client):
    m = MembershipFactory()
    second = MembershipFactory(user=m.user).shop
    req = open_return(delivered_order(second))
    client.force_login(m.user)
    assert client.get(url("detail", m.shop, pk=req.pk)).status_code == 404
    assert client.get(url("detail", second, pk=req.pk)).status_code == 200


def test_staff_without_the_permission_cannot_rule(client, shop):
    client.force_login(UserFactory(is_staff=True))
    req = open_return(delivered_order(shop))
    rule = reverse("admin:returns_buyerrequest_rule", args=[req.pk])
    response = client.post(rule, {"decision": "approve", "note": "x"})
    assert response.status_code == 302
    req.refresh_from_db()
    assert req.status == R.REQUESTED


def test_request_detail_shows_the_ship_back_and_refund_deadlines(seller_client, shop, seller):
    seller_actor = Actor.seller(seller)
    req = actions.approve_request(request=open_return(delivered_order(shop)), actor=seller_actor)
    page = seller_client.get(url("detail", shop, pk=req.pk)).content.decode()
    assert "Shipped back by" in page and "then the return is closed" in page and "P13" not in page
    actions.ship_back(request=req, carrier="UPS", tracking="1Z999")
    page = seller_client.get(url("detail", shop, pk=req.pk)).content.decode()
    assert "Refunded by" in page and "else the platform refunds in full" in page


def test_seller_disputes_a_shipped_back_return_from_its_page(seller_client, shop, seller):
    req = actions.approve_request(request=open_return(delivered_order(shop)), actor=Actor.seller(seller))
    actions.ship_back(request=req, carrier="UPS", tracking="1Z999")
    page = seller_client.get(url("detail", shop, pk=req.pk)).content.decode()
    assert "Dispute this return" in page
    empty = seller_client.post(url("dispute", shop, pk=req.pk), {"reason": "not_received_back", "note": ""},
                               headers={"HX-Request": "true"})
    assert empty.status_code == 400
    response = seller_client.post(url("dispute", shop, pk=req.pk),
                                  {"reason": "not_received_back", "note": "Empty box"}, headers={"HX-Request": "true"})
    assert response.status_code == 200 and "Disputed, with platform staff" in response.content.decode()
    req.refresh_from_db()
    assert req.status == R.DISPUTED
    assert seller_client.get(url("list", shop) + "?tab=DISPUTED").content.decode().count(req.number) >= 1
