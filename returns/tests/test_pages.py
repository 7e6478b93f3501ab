from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.actor import Actor
from orders.models import Order, OrderEvent, OrderMessage
from shops.tests.factories import MembershipFactory, ShopFactory, UserFactory
from tests.pages import assert_fragment, assert_redirect, fetch_both, hx, texts

from .. import actions
from ..models import BuyerRequest, Refund
from .factories import delivered_order, open_cancel, open_return, paid_order, upload

pytestmark = pytest.mark.django_db
R = BuyerRequest.Status
MAIN = hx("request-main")  # the request page's forms swap #request-main


def url(name, shop, **kw):
    return reverse(f"returns:{name}", kwargs={"shop": shop.slug, **kw})


def test_request_list_full_partial_and_counts(seller_client, shop):
    open_return(delivered_order(shop))
    open_cancel(paid_order(shop))
    for page in texts(*fetch_both(seller_client, url("list", shop), "results")):
        assert 'data-status="open">2<' in page and 'data-status="REQUESTED">2<' in page  # the tabs swap with the rows
    full, partial = fetch_both(seller_client, url("list", shop) + "?tab=REQUESTED&kind=cancel", "results")
    for body in texts(full, partial):
        assert body.count("/requests/") >= 1
        rows = body.split('id="rows"')[1]
        assert "<td>Cancellation</td>" in rows and "<td>Return and refund</td>" not in rows


def test_request_list_query_count_is_fixed(seller_client, shop):
    open_return(delivered_order(shop))

    def count():
        counts = []
        for headers in ({}, hx("results")):
            with CaptureQueriesContext(connection) as ctx:
                assert seller_client.get(url("list", shop) + "?tab=all", headers=headers).status_code == 200
            counts.append(len(ctx))
        return counts

    first = count()
    for _ in range(4):
        open_return(delivered_order(shop))
    assert count() == first


def test_request_list_keyset_pages(seller_client, shop, monkeypatch):
    from .. import views

    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    reqs = [open_return(delivered_order(shop)) for _ in range(3)]
    for first in texts(*fetch_both(seller_client, url("list", shop), "results")):
        assert reqs[2].number in first and reqs[0].number not in first
        assert f"after={reqs[1].pk}" in first  # the pager's link, in the page and in the rows htmx swaps
    for second in texts(*fetch_both(seller_client, url("list", shop) + f"?after={reqs[1].pk}", "results")):
        assert reqs[0].number in second and reqs[2].number not in second


def test_request_detail_query_count_is_fixed(seller_client, shop):
    order = delivered_order(shop)
    req = open_return(order, files=[upload()])

    def count():
        counts = []
        for headers in ({}, MAIN):
            with CaptureQueriesContext(connection) as ctx:
                assert seller_client.get(url("detail", shop, pk=req.pk), headers=headers).status_code == 200
            counts.append(len(ctx))
        return counts

    first = count()
    from .. import actions

    for i in range(3):
        actions.post_message(order=order, sender="buyer", body=f"hi {i}")
    assert count() == first


def test_another_shops_request_is_not_found(seller_client, shop):
    other = ShopFactory()
    req = open_return(delivered_order(other), files=[upload()])
    photo = req.photos.get()
    for headers in ({}, MAIN):
        assert seller_client.get(url("detail", shop, pk=req.pk), headers=headers).status_code == 404
        assert seller_client.post(url("approve", shop, pk=req.pk), headers=headers).status_code == 404
        assert seller_client.post(url("reject", shop, pk=req.pk), {"reason": "no_defect"}, headers=headers).status_code == 404
        assert seller_client.get(url("photo", shop, pk=req.pk, photo=photo.pk), headers=headers).status_code == 404
        assert seller_client.post(url("message", shop, number=req.order.number), {"body": "x"},
                                  headers=headers).status_code == 404
        assert seller_client.get(url("list", other), headers={**headers, "HX-Target": "results"}).status_code == 404
    req.refresh_from_db()
    assert req.status == R.REQUESTED


def test_anonymous_seller_pages_redirect_to_login(client, shop):
    req = open_return(delivered_order(shop))
    for page, target in ((url("list", shop), "results"), (url("detail", shop, pk=req.pk), "request-main")):
        for headers in ({}, hx(target)):
            response = client.get(page, headers=headers)
            assert response.status_code == 302 and "/login/" in response["Location"], (page, headers)


def test_seller_approves_without_js_and_with_htmx(seller_client, shop):
    req = open_return(delivered_order(shop))
    response = seller_client.post(url("approve", shop, pk=req.pk), {"note": ""})
    assert_redirect(response, to=url("detail", shop, pk=req.pk))
    req.refresh_from_db()
    assert req.status == R.APPROVED
    full, partial = fetch_both(seller_client, url("detail", shop, pk=req.pk), "request-main")
    assert "approved; the buyer has been told" in full.content.decode()  # the message lands on the page
    assert all("Approved" in body for body in texts(full, partial))
    again = seller_client.post(url("approve", shop, pk=req.pk), headers=MAIN)
    assert_fragment(again, "request-main", status=409)
    assert "toast" in again["HX-Trigger"]
    other = open_return(delivered_order(shop))
    response = seller_client.post(url("approve", shop, pk=other.pk), {"note": ""}, headers=MAIN)
    assert "Approved" in assert_fragment(response, "request-main") and "approved" in response["HX-Trigger"]
    other.refresh_from_db()
    assert other.status == R.APPROVED


def test_seller_rejects_with_a_reason(seller_client, shop):
    req = open_return(delivered_order(shop))
    assert_redirect(seller_client.post(url("reject", shop, pk=req.pk), {"reason": "bogus"}))
    req.refresh_from_db()
    assert req.status == R.REQUESTED
    response = seller_client.post(url("reject", shop, pk=req.pk), {"reason": "bogus"}, headers=MAIN)
    assert_fragment(response, "request-main", status=400)
    req.refresh_from_db()
    assert req.status == R.REQUESTED
    response = seller_client.post(url("reject", shop, pk=req.pk), {"reason": "evidence", "note": "No damage visible"},
                                  headers=MAIN)
    assert "No damage visible" in assert_fragment(response, "request-main")
    req.refresh_from_db()
    assert (req.status, req.reject_note) == (R.REJECTED, "No damage visible")
    for body in texts(*fetch_both(seller_client, url("detail", shop, pk=req.pk), "request-main")):
        assert "Rejected" in body and "No damage visible" in body


def test_seller_extends_receives_and_refunds_partially(seller_client, shop):
    order = delivered_order(shop)
    req = open_return(order)
    assert_redirect(seller_client.post(url("extend", shop, pk=req.pk)), to=url("detail", shop, pk=req.pk))
    response = seller_client.post(url("extend", shop, pk=req.pk), headers=MAIN)
    assert_fragment(response, "request-main", status=409)
    seller_client.post(url("approve", shop, pk=req.pk))
    from .. import actions

    actions.ship_back(request=req, carrier="DHL", tracking="JD01")
    response = seller_client.post(url("receive", shop, pk=req.pk), headers=MAIN)
    assert "Refund it next" in response["HX-Trigger"] and "JD01" in assert_fragment(response, "request-main")
    response = seller_client.post(url("refund", shop, pk=req.pk), {"amount": "7.50", "note": "Box missing"})
    assert_redirect(response, to=url("detail", shop, pk=req.pk))
    assert Refund.objects.get(order=order).amount == Decimal("7.50")
    for body in texts(*fetch_both(seller_client, url("detail", shop, pk=req.pk), "request-main")):
        assert "7.50" in body
    assert seller_client.post(url("refund", shop, pk=req.pk), {"amount": ""}).status_code == 302
    assert Refund.objects.filter(order=order).count() == 1


def test_seller_message_from_request_page(seller_client, shop):
    order = delivered_order(shop)
    req = open_return(order)
    response = seller_client.post(url("message", shop, number=order.number),
                                  {"body": "Please send a photo of the label", "next": f"request:{req.pk}"})
    assert_redirect(response, to=url("detail", shop, pk=req.pk))
    assert OrderMessage.objects.get(order=order, sender="seller").body.startswith("Please send")
    for body in texts(*fetch_both(seller_client, url("detail", shop, pk=req.pk), "request-main")):
        assert "Please send a photo of the label" in body
    response = seller_client.post(url("message", shop, number=order.number),
                                  {"body": "And the box, please", "next": f"request:{req.pk}"}, headers=MAIN)
    assert "And the box, please" in assert_fragment(response, "request-main")
    assert "Message sent" in response["HX-Trigger"]


def test_order_page_shows_the_requests_panel(seller_client, shop):
    order = delivered_order(shop)
    req = open_return(order)
    page = reverse("orders:detail", kwargs={"shop": shop.slug, "number": order.number})
    for body in texts(*fetch_both(seller_client, page, "order-main")):
        assert "Buyer requests and refunds" in body and req.number in body


def test_board_card_and_filter_count_requests_awaiting_an_answer(seller_client, shop):
    from orders import registry

    awaiting = delivered_order(shop)
    open_return(awaiting)
    delivered_order(shop)
    from django.utils import timezone

    card = registry.BOARD_CARDS["requests_awaiting"]
    assert card.count(shop, timezone.now()) == 1
    assert registry.BOARD_CARDS["requests_auto_approve_24h"].count(shop, timezone.now()) == 0
    listing = reverse("orders:list", kwargs={"shop": shop.slug}) + "?board=requests_awaiting"
    assert all(awaiting.number in body for body in texts(*fetch_both(seller_client, listing, "results")))
    filtered = registry.LIST_FILTERS["request"].apply(Order.objects.for_shop(shop), "awaiting")
    assert list(filtered) == [awaiting]


def test_staff_rule_in_admin_with_a_reason(client, shop):
    staff = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    req = open_return(delivered_order(shop))
    rule = reverse("admin:returns_buyerrequest_rule", args=[req.pk])
    page = client.get(rule)
    assert page.status_code == 200
    body = page.content.decode()
    assert f"Rule on request {req.number}" in body and f"on order {req.order.number}" in body
    assert 'name="decision"' in body and 'name="reject_reason"' in body and 'name="note"' in body
    refused = client.post(rule, {"decision": "reject", "note": "x"})  # needs a reject reason
    assert refused.status_code == 200 and refused.context["form"].errors and 'class="errorlist' in refused.content.decode()
    req.refresh_from_db()
    assert req.status == R.REQUESTED
    response = client.post(rule, {"decision": "reject", "reject_reason": "evidence", "note": "Photo is a stock image"})
    assert_redirect(response, to=reverse("admin:returns_buyerrequest_change", args=[req.pk]))
    req.refresh_from_db()
    assert req.status == R.REJECTED
    event = req.events.last()
    assert (event.actor_kind, event.note) == ("staff", "Photo is a stock image")
    assert OrderEvent.objects.filter(order=req.order, actor_kind="staff").exists()
    client.post(rule, {"decision": "approve", "note": "On appeal: the crack is visible"})
    req.refresh_from_db()
    assert req.status == R.APPROVED
    listing = client.get(reverse("admin:returns_buyerrequest_changelist"))
    assert list(listing.context["cl"].result_list) == [req]
    assert req.number in listing.content.decode() and "Approved" in listing.content.decode()
    refunds = client.get(reverse("admin:returns_refund_changelist"))
    assert refunds.status_code == 200 and list(refunds.context["cl"].result_list) == []  # approved, not yet refunded
    page = client.get(reverse("admin:returns_buyerrequest_change", args=[req.pk])).content.decode()
    assert "<h1>View buyer request</h1>" in page and "Rule on this request…" in page
    assert "Photo is a stock image" in page and "On appeal: the crack is visible" in page  # the timeline


def test_seller_of_two_shops_sees_each_shops_requests_apart(client):
    m = MembershipFactory()
    second = MembershipFactory(user=m.user).shop
    req = open_return(delivered_order(second))
    client.force_login(m.user)
    for headers in ({}, MAIN):
        assert client.get(url("detail", m.shop, pk=req.pk), headers=headers).status_code == 404
    for body in texts(*fetch_both(client, url("detail", second, pk=req.pk), "request-main")):
        assert req.number in body
    assert req.number not in texts(*fetch_both(client, url("list", m.shop), "results"))[1]


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
    for page in texts(*fetch_both(seller_client, url("detail", shop, pk=req.pk), "request-main")):
        assert "Shipped back by" in page and "then the return is closed" in page and "P13" not in page
    actions.ship_back(request=req, carrier="UPS", tracking="1Z999")
    for page in texts(*fetch_both(seller_client, url("detail", shop, pk=req.pk), "request-main")):
        assert "Refunded by" in page and "else the platform refunds in full" in page


def test_seller_disputes_a_shipped_back_return_from_its_page(seller_client, shop, seller):
    req = actions.approve_request(request=open_return(delivered_order(shop)), actor=Actor.seller(seller))
    actions.ship_back(request=req, carrier="UPS", tracking="1Z999")
    for page in texts(*fetch_both(seller_client, url("detail", shop, pk=req.pk), "request-main")):
        assert "Dispute this return" in page
    empty = seller_client.post(url("dispute", shop, pk=req.pk), {"reason": "not_received_back", "note": ""}, headers=MAIN)
    assert_fragment(empty, "request-main", status=400)
    assert_redirect(seller_client.post(url("dispute", shop, pk=req.pk), {"reason": "not_received_back", "note": ""}))
    req.refresh_from_db()
    assert req.status != R.DISPUTED  # without JS the empty note is refused too
    response = seller_client.post(url("dispute", shop, pk=req.pk),
                                  {"reason": "not_received_back", "note": "Empty box"}, headers=MAIN)
    assert "Disputed, with platform staff" in assert_fragment(response, "request-main")
    req.refresh_from_db()
    assert req.status == R.DISPUTED
    for body in texts(*fetch_both(seller_client, url("list", shop) + "?tab=DISPUTED", "results")):
        assert req.number in body


def test_a_burst_of_seller_messages_is_refused_with_429_and_the_reason(seller_client, shop, settings):
    settings.RETURNS_SELLER_MESSAGES_PER_HOUR = 1
    order = delivered_order(shop)
    req = open_return(order)
    post = {"body": "Please send a photo", "next": f"request:{req.pk}"}
    seller_client.post(url("message", shop, number=order.number), post, headers=MAIN)
    response = seller_client.post(url("message", shop, number=order.number), post, headers=MAIN)
    assert response.status_code == 429
    assert "1 messages about this order in the last hour" in response["HX-Trigger"]
    assert OrderMessage.objects.filter(order=order, sender="seller").count() == 1
    # Without HTMX, from the order page: back to it with the reason, nothing sent.
    response = seller_client.post(url("message", shop, number=order.number), {"body": "Again"}, follow=True)
    assert "wait a while before sending another" in response.content.decode()
    assert OrderMessage.objects.filter(order=order, sender="seller").count() == 1
