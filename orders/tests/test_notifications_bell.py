"""The bell counts what still needs the seller: opening a notification marks it read, and a
new order's notification settles once the order is confirmed or cancelled (by anyone)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from core.actor import Actor
from orders import actions
from orders.models import Order
from orders.tests.factories import advance, make_order
from seller_center import policies
from shops.models import Notification, NotificationRead
from shops.tests.factories import MembershipFactory
from tests.pages import fetch_both, texts

pytestmark = pytest.mark.django_db
S = Order.Status


def _bell(client, shop):
    page = client.get(reverse("shops:notifications", kwargs={"shop": shop.slug})).content.decode()
    return int(page.split('id="bell-count">', 1)[1].split("<", 1)[0])


def _new_order_note(order):
    return Notification.objects.get(kind="new_order", about_order=order.pk)


def test_opening_a_notification_marks_it_read_and_goes_where_it_points(seller_client, shop, seller):
    order = make_order(shop)
    note = _new_order_note(order)
    assert note.url == f"/s/{shop.slug}/orders/{order.number}/" and _bell(seller_client, shop) == 1
    opener = reverse("shops:notification-open", kwargs={"shop": shop.slug, "pk": note.pk})
    for page in texts(*fetch_both(seller_client, reverse("shops:notifications", kwargs={"shop": shop.slug}),
                                  "notification-list")):
        assert f'action="{opener}"' in page and f'href="{note.url}"' not in page  # opening is a POST (CSRF-safe)
    assert seller_client.get(opener).status_code == 405
    response = seller_client.post(opener)
    assert response.status_code == 302 and response["Location"] == note.url
    # Read by this member (each keeps their own read state), not settled for the shop.
    (read,) = NotificationRead.objects.filter(notification=note)
    assert read.user == seller and _bell(seller_client, shop) == 0
    note.refresh_from_db()
    assert note.read_at is None
    assert seller_client.post(opener)["Location"] == note.url  # again: still read, same time
    assert NotificationRead.objects.get(notification=note).read_at == read.read_at


def test_a_notification_of_another_shop_or_pointing_elsewhere(seller_client, shop):
    other = MembershipFactory().shop
    foreign = make_order(other)
    opener = reverse("shops:notification-open", kwargs={"shop": shop.slug, "pk": _new_order_note(foreign).pk})
    assert seller_client.post(opener).status_code == 404
    assert _new_order_note(foreign).read_at is None and not NotificationRead.objects.exists()
    odd = Notification.objects.create(shop=shop, kind="policy", text="x", url="//evil.example.com/")
    response = seller_client.post(reverse("shops:notification-open", kwargs={"shop": shop.slug, "pk": odd.pk}))
    assert response["Location"] == reverse("shops:notifications", kwargs={"shop": shop.slug})


def test_new_order_notifications_settle_when_the_order_is_confirmed_or_cancelled(seller_client, shop, seller):
    seller_actor = Actor.seller(seller)
    confirmed, cancelled, untracked, waiting = (make_order(shop) for _ in range(4))
    unpaid = make_order(shop, paid=False)
    assert _bell(seller_client, shop) == 4
    actions.confirm_order(order=confirmed, actor=seller_actor)
    actions.cancel_order(order=cancelled, actor=seller_actor, reason="out_of_stock")
    assert _new_order_note(confirmed).read_at is not None and _new_order_note(cancelled).read_at is not None
    assert _bell(seller_client, shop) == 2
    # The platform's set-based cancellation (P5, no tracking update) settles them too.
    policies.run(as_of=untracked.placed_at + timedelta(days=16), only={"P5"}, funcs={"cancel_untracked"})
    assert Order.objects.get(pk=untracked.pk).status == S.CANCELLED
    assert _new_order_note(untracked).read_at is not None
    assert Order.objects.get(pk=waiting.pk).status == S.CANCELLED  # the same rule reached it: settled too
    # The bell now holds the platform's own report of that run, nothing about the settled orders.
    assert list(Notification.objects.filter(shop=shop, read_at__isnull=True).values_list("kind", flat=True)) == [
        "policy"]
    # Paying an order late rings the bell for it.
    actions.pay_order(order=unpaid, actor=Actor.storefront())
    assert _bell(seller_client, shop) == 2 and _new_order_note(unpaid).read_at is None


def test_settling_leaves_other_notifications_and_orders_alone(shop, seller):
    order, other = make_order(shop), make_order(shop)
    message = Notification.objects.create(shop=shop, kind="message", text="Buyer wrote", about_order=order.pk)
    actions.confirm_order(order=order, actor=Actor.seller(seller))
    message.refresh_from_db()
    assert message.read_at is None and _new_order_note(other).read_at is None


def test_demo_bell_counts_only_orders_awaiting_confirmation(client):
    from seller_center.demo import seed

    seed(scale=0.2)
    for username in ("alice", "bob"):
        membership = MembershipFactory._meta.model.objects.select_related("shop").get(user__username=username)
        shop = membership.shop
        client.force_login(membership.user)
        awaiting = Order.objects.filter(shop=shop, status=S.AWAITING_CONFIRMATION).count()
        assert 0 < _bell(client, shop) == awaiting
        # Each rang when its order was paid, in the story's past.
        paid = dict(Order.objects.filter(shop=shop).values_list("pk", "paid_at"))
        notes = list(Notification.objects.filter(shop=shop, kind="new_order").values_list("about_order", "created_at"))
        assert notes and all(created == paid[pk] <= timezone.now() for pk, created in notes)


def test_orders_still_awaiting_shipment_keep_the_bell_quiet(seller_client, shop):
    advance(make_order(shop), S.AWAITING_SHIPMENT)
    assert _bell(seller_client, shop) == 0


def test_migration_names_and_settles_new_order_notifications_written_before(shop, seller):
    """A database from before: new-order notifications without their order, all unread."""
    from importlib import import_module

    from django.apps import apps

    confirmed, waiting = make_order(shop), make_order(shop)
    actions.confirm_order(order=confirmed, actor=Actor.seller(seller))
    Notification.objects.update(about_order=None, read_at=None)
    stray = Notification.objects.create(shop=shop, kind="new_order", text="?", url="/s/x/orders/NOPE/")
    import_module("orders.migrations.0007_settle_new_order_notifications").settle(apps, None)
    note_c, note_w = (Notification.objects.get(kind="new_order", text__contains=o.number) for o in (confirmed, waiting))
    assert (note_c.about_order, note_w.about_order) == (confirmed.pk, waiting.pk)
    assert note_c.read_at is not None and note_w.read_at is None
    stray.refresh_from_db()
    assert stray.about_order is None and stray.read_at is None
