"""Seller API v1, messages with the buyer: read them; write one through the seller page's form and
action (the buyer is emailed), idempotent, in the history with the key's name."""

import json

import pytest

from api import keys
from orders.models import OrderEvent, OrderMessage
from orders.tests.factories import make_order
from returns import actions as return_actions
from shops.tests.factories import ShopFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def key(shop):
    _, clear = keys.create_key(shop=shop, name="ERP", scopes=["orders:read", "orders:write"])
    return clear


def auth(key):
    return {"Authorization": f"Bearer {key}"} if key else {}


def post(client, url, key, body, **headers):
    return client.post(url, body if isinstance(body, str) else json.dumps(body), content_type="application/json",
                       headers={**auth(key), **headers})


def problem(response, status, code):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == code and body["detail"]
    return body


def url(order):
    return f"/api/v1/orders/{order.number}/messages"


def test_a_message_reaches_the_buyer_by_email_and_the_history_names_the_key(
        client, shop, key, mailoutbox, django_capture_on_commit_callbacks):
    order = make_order(shop)
    with django_capture_on_commit_callbacks(execute=True):
        r = post(client, url(order), key, {"body": "  Your parcel leaves today.  "})
    assert r.status_code == 201, r.content
    body = r.json()
    message = OrderMessage.objects.get(order=order)
    assert body["id"] == message.pk and body["body"] == message.body == "Your parcel leaves today."
    assert body["sender"] == "seller" and message.author is None
    assert body["by"].startswith("ERP (API key sc_")
    assert [m.to for m in mailoutbox] == [[order.buyer_email]] and "Your parcel leaves today." in mailoutbox[0].body
    event = OrderEvent.objects.get(order=order, action=OrderEvent.Action.MESSAGE)
    assert event.actor_kind == "app" and event.actor_label == body["by"] and event.data == {"message": message.pk}
    assert event.from_status == event.to_status == order.status


def test_the_list_reads_oldest_first_with_who_wrote_each(client, shop, seller, key):
    order = make_order(shop)
    return_actions.post_message(order=order, sender="buyer", body="Where is it?")
    return_actions.post_message(order=order, sender="seller", author=seller, body="On its way.")
    post(client, url(order), key, {"body": "Tracking: 1Z999"})
    r = client.get(url(order), headers=auth(key))
    assert r.status_code == 200
    assert [(m["sender"], m["by"], m["body"]) for m in r.json()] == [
        ("buyer", "", "Where is it?"), ("seller", seller.get_username(), "On its way."),
        ("seller", r.json()[2]["by"], "Tracking: 1Z999")]
    assert r.json()[2]["by"].startswith("ERP (API key")


def test_reading_messages_takes_the_same_queries_for_one_or_many(client, shop, seller, key,
                                                                 django_assert_max_num_queries):
    order = make_order(shop)
    client.get(url(order), headers=auth(key))  # the key's last use is written once a minute
    with django_assert_max_num_queries(3):  # key, order, messages (none: no history read)
        assert client.get(url(order), headers=auth(key)).json() == []
    for i in range(15):
        return_actions.post_message(order=order, sender="seller", author=seller, body=f"m{i}")
        post(client, url(order), key, {"body": f"app {i}"})
    client.get(url(order), headers=auth(key))
    with django_assert_max_num_queries(4):  # key, order, messages with their authors, the app's history rows
        assert len(client.get(url(order), headers=auth(key)).json()) == 30


def test_writing_a_message_takes_a_fixed_number_of_queries(client, shop, key, django_assert_max_num_queries):
    order = make_order(shop)
    post(client, url(order), key, {"body": "first"})
    # key, order; savepoint, the order row locked and the last hour's messages counted (the rate
    # limit), message and its message.created event, history row and its order.updated event,
    # release; the buyer's email is sent on commit
    with django_assert_max_num_queries(10):
        assert post(client, url(order), key, {"body": "second"}).status_code == 201
    # with an Idempotency-Key: also the stale-claim delete, the transaction's savepoint, the claim in its
    # own savepoint (three statements) and the stored answer
    with django_assert_max_num_queries(17):
        assert post(client, url(order), key, {"body": "third"}, **{"Idempotency-Key": "q"}).status_code == 201


def test_a_repeat_with_the_same_idempotency_key_sends_once(client, shop, key, mailoutbox,
                                                           django_capture_on_commit_callbacks):
    order = make_order(shop)
    with django_capture_on_commit_callbacks(execute=True):
        first = post(client, url(order), key, {"body": "Once"}, **{"Idempotency-Key": "m1"})
        again = post(client, url(order), key, {"body": "Once"}, **{"Idempotency-Key": "m1"})
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    assert OrderMessage.objects.filter(order=order).count() == 1 and len(mailoutbox) == 1
    assert OrderEvent.objects.filter(order=order, action="message").count() == 1
    problem(post(client, url(order), key, {"body": "Another"}, **{"Idempotency-Key": "m1"}),
            409, "idempotency_key_reused")


@pytest.mark.parametrize("body, path", [
    ({"body": ""}, "body"), ({"body": "   "}, "body"), ({"body": "x" * 4001}, "body"), ({}, "body"),
    ({"body": 5}, "body"), ("[1]", "body"),
])
def test_an_empty_or_too_long_message_is_422_and_sends_nothing(client, shop, key, body, path):
    order = make_order(shop)
    errors = problem(post(client, url(order), key, body), 422, "invalid_request")["errors"]
    assert path in [e["path"] for e in errors]
    assert not OrderMessage.objects.filter(order=order).exists()


def test_nul_in_the_message_or_a_body_that_is_not_json_is_400(client, shop, key):
    order = make_order(shop)
    problem(post(client, url(order), key, "not json"), 400, "http_error")
    assert problem(post(client, url(order), key, {"body": "a\x00b"}), 400, "invalid_request")["errors"][0]["path"] == "body"
    assert not OrderMessage.objects.exists()


def test_a_message_of_4000_characters_is_taken(client, shop, key):
    order = make_order(shop)
    assert post(client, url(order), key, {"body": "x" * 4000}).status_code == 201


def test_no_key_is_401_and_missing_scopes_are_403(client, shop):
    order = make_order(shop)
    problem(client.get(url(order)), 401, "unauthenticated")
    problem(post(client, url(order), None, {"body": "hi"}), 401, "unauthenticated")
    _, reader = keys.create_key(shop=shop, name="BI", scopes=["orders:read"])
    _, stock = keys.create_key(shop=shop, name="IMS", scopes=["inventory:read", "orders:write"])
    assert "orders:write" in problem(post(client, url(order), reader, {"body": "hi"}), 403, "missing_scope")["detail"]
    assert "orders:read" in problem(client.get(url(order), headers=auth(stock)), 403, "missing_scope")["detail"]
    assert not OrderMessage.objects.exists()


def test_another_shops_order_is_404(client, shop, key):
    other = make_order(ShopFactory())
    return_actions.post_message(order=other, sender="buyer", body="private")
    problem(client.get(url(other), headers=auth(key)), 404, "not_found")
    problem(post(client, url(other), key, {"body": "hi"}), 404, "not_found")
    problem(post(client, "/api/v1/orders/NOPE/messages", key, {"body": "hi"}), 404, "not_found")
    assert OrderMessage.objects.filter(order=other).count() == 1


def test_the_seller_page_shows_the_apps_message_and_its_history_row(client, seller_client, shop, key):
    from django.urls import reverse

    from tests.pages import fetch_both, texts
    order = make_order(shop)
    post(client, url(order), key, {"body": "Packed and on its way"})
    page_url = reverse("orders:detail", kwargs={"shop": shop.slug, "number": order.number})
    for page in texts(*fetch_both(seller_client, page_url, "order-main")):
        assert "Packed and on its way" in page and "Message to the buyer" in page
        assert "ERP (API key sc_" in page


def test_a_burst_of_messages_to_one_buyer_is_a_429_and_emails_nothing_more(
        client, shop, key, settings, mailoutbox, django_capture_on_commit_callbacks):
    settings.RETURNS_SELLER_MESSAGES_PER_HOUR = 2
    order = make_order(shop)
    with django_capture_on_commit_callbacks(execute=True):
        for i in range(2):
            assert post(client, url(order), key, {"body": f"Update {i}"}).status_code == 201
        r = post(client, url(order), key, {"body": "Update 3"}, **{"Idempotency-Key": "third"})
    body = problem(r, 429, "too_many_messages")
    assert "2 messages about this order in the last hour" in body["detail"]
    assert OrderMessage.objects.filter(order=order).count() == 2 and len(mailoutbox) == 2
    # Another order's buyer is not held back by this one's burst.
    assert post(client, url(make_order(shop)), key, {"body": "Hello"}).status_code == 201
    # The refusal was not stored under the Idempotency-Key: the same key is answered afresh later.
    settings.RETURNS_SELLER_MESSAGES_PER_HOUR = 3
    assert post(client, url(order), key, {"body": "Update 3"}, **{"Idempotency-Key": "third"}).status_code == 201
