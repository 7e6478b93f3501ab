"""Per-member notifications: the bell and emails reach the members whose role handles each kind
(new orders: fulfilment; requests and messages: customer service; policy actions: owner and
manager), each with their own read state and email choice, in the same number of queries
whatever the team's size."""

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from orders.tests.factories import make_order
from returns import actions as return_actions
from shops import roles
from shops.actions import notify_shops
from shops.models import Membership, Notification
from shops.tests.factories import MembershipFactory, ShopFactory

pytestmark = pytest.mark.django_db
R = roles.Role


@pytest.fixture
def team():
    shop = ShopFactory()
    return shop, {role: MembershipFactory(shop=shop, role=role) for role in R}


def _bell(membership):
    client = Client()
    client.force_login(membership.user)
    page = client.get(reverse("shops:notifications", kwargs={"shop": membership.shop.slug})).content.decode()
    return client, page, int(page.split('id="bell-count">', 1)[1].split("<", 1)[0])


def _hears(kind):
    return {role for role in R if roles.has(role, roles.NOTIFY_PERMISSION[kind])}


def test_the_issue_routing():
    assert _hears("new_order") == {R.OWNER, R.MANAGER, R.FULFILMENT}
    assert _hears("request") == _hears("message") == {R.OWNER, R.MANAGER, R.CUSTOMER_SERVICE}
    assert _hears("policy") == {R.OWNER, R.MANAGER}


@pytest.mark.parametrize("kind", ["new_order", "message"])
def test_bell_and_email_go_to_the_roles_that_handle_them(team, kind, django_capture_on_commit_callbacks):
    shop, members = team
    with django_capture_on_commit_callbacks(execute=True):
        order = make_order(shop)
        if kind == "message":
            return_actions.post_message(order=order, sender="buyer", body="Where is my parcel?")
    text = "Where is my parcel?" if kind == "message" else f"New order {order.number}"
    emailed = {m.to[0] for m in mail.outbox if text in m.body}
    for role, member in members.items():
        _, page, count = _bell(member)
        hears = role in _hears(kind)
        assert (text in page) is hears, (role, kind)
        assert (member.user.email in emailed) is hears, (role, kind)
    assert shop.email not in emailed


def test_each_member_has_their_own_read_state(team):
    shop, members = team
    make_order(shop)
    owner, packer = members[R.OWNER], members[R.FULFILMENT]
    client, _, before = _bell(owner)
    assert before == 1 and _bell(packer)[2] == 1
    client.post(reverse("shops:notifications-read", kwargs={"shop": shop.slug}))
    assert _bell(owner)[2] == 0 and _bell(packer)[2] == 1
    assert Notification.objects.get().read_at is None  # not settled: the order still awaits confirmation


def test_a_member_who_turns_email_off_gets_only_the_bell(team, django_capture_on_commit_callbacks):
    shop, members = team
    packer = members[R.FULFILMENT]
    client, page, _ = _bell(packer)
    assert "Email me these notifications too" in page
    assert client.post(reverse("shops:notifications-email", kwargs={"shop": shop.slug}), {}).status_code == 302
    packer.refresh_from_db()
    assert packer.email_notifications is False
    with django_capture_on_commit_callbacks(execute=True):
        order = make_order(shop)
    to = {m.to[0] for m in mail.outbox}
    assert packer.user.email not in to and members[R.OWNER].user.email in to
    assert f"New order {order.number}" in _bell(packer)[1]
    client.post(reverse("shops:notifications-email", kwargs={"shop": shop.slug}), {"email": "on"})
    packer.refresh_from_db()
    assert packer.email_notifications is True


def test_a_removed_member_hears_nothing(team, django_capture_on_commit_callbacks):
    shop, members = team
    Membership.objects.filter(pk=members[R.FULFILMENT].pk).update(removed_at="2026-01-01T00:00:00Z")
    with django_capture_on_commit_callbacks(execute=True):
        make_order(shop)
    assert members[R.FULFILMENT].user.email not in {m.to[0] for m in mail.outbox}


def _queries(fn):
    with CaptureQueriesContext(connection) as queries:
        fn()
    return len(queries)


def test_fan_out_takes_the_same_queries_for_any_team_size(django_capture_on_commit_callbacks):
    small, large = ShopFactory(), ShopFactory()
    MembershipFactory(shop=small, role=R.OWNER)
    for role in list(R) * 5:
        MembershipFactory(shop=large, role=role)
    with django_capture_on_commit_callbacks(execute=True):
        counts = [_queries(lambda s=s: make_order(s)) for s in (small, large)]
        assert counts[0] == counts[1]
        tallies = [_queries(lambda s=s: notify_shops({s.pk: (3, None)}, kind="policy", message="{n} orders"))
                   for s in (small, large)]
    assert tallies[0] == tallies[1] == 2  # the members to email, then the rows
    both = _queries(lambda: notify_shops({small.pk: (1, None), large.pk: (2, None)}, kind="policy", message="{n}"))
    assert both == 2


def test_bell_and_list_queries_do_not_grow_with_notifications(team):
    shop, members = team
    owner = members[R.OWNER]
    client = Client()
    client.force_login(owner.user)
    url = reverse("shops:notifications", kwargs={"shop": shop.slug})
    make_order(shop)
    few = _queries(lambda: client.get(url))
    for _ in range(15):
        make_order(shop)
    assert _queries(lambda: client.get(url)) == few
