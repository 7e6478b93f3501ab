"""The bell's unread count in plain SQL (shops.context_processors.unread_count) counts what the
ORM's for_member().unread_by() lists, for each role, with read, settled, addressed and other
shops' notifications."""

import pytest
from django.utils import timezone

from shops.context_processors import unread_count
from shops.models import Membership, Notification, NotificationRead
from shops.roles import Role
from shops.tests.factories import ShopFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", list(Role))
def test_unread_count_is_the_orm_count_for_every_role(role):
    shop, other = ShopFactory(), ShopFactory()
    user, colleague = UserFactory(), UserFactory()
    membership = Membership.objects.create(shop=shop, user=user, role=role)
    for kind in Notification.Kind.values:
        Notification.objects.create(shop=shop, kind=kind, text=f"{kind} for all")
        Notification.objects.create(shop=other, kind=kind, text=f"{kind} elsewhere")
    mine = Notification.objects.create(shop=shop, kind=Notification.Kind.MESSAGE, text="to me", user=user)
    Notification.objects.create(shop=shop, kind=Notification.Kind.MESSAGE, text="to a colleague", user=colleague)
    Notification.objects.create(shop=shop, kind=Notification.Kind.NEW_ORDER, text="settled", read_at=timezone.now())
    read = Notification.objects.filter(shop=shop, user__isnull=True).order_by("pk").first()
    NotificationRead.objects.create(notification=read, user=user)
    NotificationRead.objects.create(notification=mine, user=colleague)  # a colleague's read is not mine

    expected = Notification.objects.for_member(membership).unread_by(user).count()
    assert unread_count(membership) == expected
    assert expected >= 1  # the one addressed to the member, whatever the role hears
