"""Settings → Webhooks: the owner adds a webhook (the secret shown once), turns it off and on,
rotates its secret, removes it, reads its delivery log and sends a delivery again."""

import pytest

from api import outbox
from api.models import Webhook, WebhookDelivery
from orders.tests.factories import make_order
from shops.models import Membership
from shops.tests.factories import MembershipFactory, ShopFactory
from tests.pages import assert_fragment, assert_full_page, fetch_both, hx

pytestmark = pytest.mark.django_db
RECEIVER = "http://127.0.0.1:9/hooks"  # nothing listens there: deliveries fail, which the log shows


def url(shop, *rest):
    return f"/s/{shop.slug}/settings/webhooks/" + "/".join(str(r) for r in rest)


def test_owner_sees_the_page_and_its_partial(seller_client, shop):
    outbox.create_webhook(shop=shop, url=RECEIVER, events=["order.paid"], description="ERP")
    full, partial = fetch_both(seller_client, url(shop), "webhook-panel")
    for r in (full, partial):
        text = r.content.decode()
        assert RECEIVER in text and "order.paid" in text and "ERP" in text and "whsec_" not in text


def test_add_shows_the_secret_once(seller_client, shop):
    r = seller_client.post(url(shop), {"url": RECEIVER, "events": ["order.created", "refund.created"]},
                           headers=hx("webhook-panel"))
    body = assert_fragment(r, "webhook-panel")
    hook = Webhook.objects.get(shop=shop)
    assert hook.secret in body and hook.events == ["order.created", "refund.created"]
    assert hook.secret not in seller_client.get(url(shop)).content.decode()


@pytest.mark.parametrize("data", [{"url": "ftp://x.example/", "events": ["order.paid"]}, {"url": RECEIVER},
                                  {"url": RECEIVER, "events": ["order.shipped"]}, {"url": "", "events": ["order.paid"]},
                                  {"url": "http://a b/", "events": ["order.paid"]}])
def test_invalid_form_is_400_in_place_and_stores_nothing(seller_client, shop, data):
    r = seller_client.post(url(shop), data, headers=hx("webhook-panel"))
    assert 'role="alert"' in assert_fragment(r, "webhook-panel", status=400)
    assert not Webhook.objects.exists()


def test_off_on_rotate_remove(seller_client, shop):
    hook = outbox.create_webhook(shop=shop, url=RECEIVER, events=["order.paid"])
    r = seller_client.post(url(shop, hook.pk, "off"), headers=hx("webhook-panel"))
    assert "turned off" in assert_fragment(r, "webhook-panel")
    assert not Webhook.objects.get().active
    seller_client.post(url(shop, hook.pk, "on"), headers=hx("webhook-panel"))
    assert Webhook.objects.get().active
    old = hook.secret
    r = seller_client.post(url(shop, hook.pk, "rotate"), headers=hx("webhook-panel"))
    new = Webhook.objects.get().secret
    assert new != old and new in assert_fragment(r, "webhook-panel")
    assert seller_client.post(url(shop, hook.pk, "explode"), headers=hx("webhook-panel")).status_code == 400
    r = seller_client.post(url(shop, hook.pk, "remove"), headers=hx("webhook-panel"))
    assert "removed" in assert_fragment(r, "webhook-panel")
    assert Webhook.objects.get().removed_at is not None  # kept, with its log
    assert seller_client.get(url(shop, hook.pk, "")).status_code == 200


def test_delivery_log_and_send_again(seller_client, shop):
    hook = outbox.create_webhook(shop=shop, url=RECEIVER, events=["order.created"])
    order = make_order(shop)
    outbox.run_once()
    delivery = WebhookDelivery.objects.get()
    full, partial = fetch_both(seller_client, url(shop, hook.pk, ""), "log-panel")
    for r in (full, partial):
        text = r.content.decode()
        assert order.number in text and delivery.msg_id in text and "Send again" in text
    r = seller_client.post(url(shop, hook.pk, "deliveries", delivery.pk, "redeliver"), headers=hx("log-panel"))
    assert "sent again" in assert_fragment(r, "log-panel")
    delivery.refresh_from_db()
    assert delivery.status == "pending" and delivery.attempts == 0
    outbox.update_webhook(webhook=hook, active=False)
    r = seller_client.post(url(shop, hook.pk, "deliveries", delivery.pk, "redeliver"), headers=hx("log-panel"))
    assert "Turn the webhook back on" in assert_fragment(r, "log-panel", status=409)


def test_staff_members_and_other_shops_cannot(client, shop):
    hook = outbox.create_webhook(shop=shop, url=RECEIVER, events=["order.paid"])
    client.force_login(MembershipFactory(shop=shop, role=Membership.Role.MANAGER).user)
    assert client.get(url(shop)).status_code == 403
    assert client.post(url(shop, hook.pk, "remove")).status_code == 403
    assert client.get(url(shop, hook.pk, "")).status_code == 403
    assert client.get(url(ShopFactory())).status_code == 404
    assert Webhook.objects.get().removed_at is None


def test_full_page_post_works_without_htmx(seller_client, shop):
    r = seller_client.post(url(shop), {"url": RECEIVER, "events": ["order.paid"]})
    assert "Copy the signing secret now" in assert_full_page(r)
