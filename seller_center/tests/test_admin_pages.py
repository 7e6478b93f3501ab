"""Every model in the admin lists its rows, opens one of them and its add page (or refuses to add)
for a superuser, and says which model it is: a broken admin (a bad list_display, a readonly field
that no longer exists, a filter on a renamed column) fails here before staff meet it.

Each model needs a row made by the factories and actions (`rows`): an admin registered without
one fails below and names the model to add."""

from datetime import timedelta

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.text import capfirst

from api import keys, outbox
from core.actor import Actor
from orders.tests.factories import advance, make_order
from returns import actions as returns_actions
from returns.tests.factories import delivered_order, open_return
from shipping import actions as shipping_actions
from shipping.tests.factories import ACTOR, arranged, event, feed, order_to_ship, refreshed
from shops import team
from shops.tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

# Models kept by libraries (task queue, login throttle, auth): a row is made where the library
# offers a way; their admins are tested all the same.
THIRD_PARTY = {"auth", "django_q", "axes"}


@pytest.fixture
def rows(admin_client, admin_user, shop, seller):
    """At least one row of every model the admin shows, reached through the actions."""
    now = timezone.now()
    Group.objects.create(name="Support")
    keys.create_key(shop=shop, name="ERP", scopes=["orders:read"])
    outbox.create_webhook(shop=shop, url="http://127.0.0.1:9/hooks", events=["order.status_changed"])
    cancelled = advance(make_order(shop), "CANCELLED")  # history, lines, counters, a buyer message, the bell
    returns_actions.refund_order(order=cancelled, actor=Actor.staff(admin_user), note="cancelled after payment")
    order = order_to_ship(shop)
    (pkg,) = arranged(order)
    shipping_actions.mark_ready(package=refreshed(pkg), actor=ACTOR)
    feed(event(refreshed(pkg), "InTransit", location="Springfield depot"))
    shipping_actions.record_print(shop=shop, packages=[refreshed(pkg)], kind="label", size="4x6", actor=ACTOR)
    shipping_actions.file_force_majeure(shop=shop, order_ids=[order.pk], actor=Actor.seller(seller),
                                        description="Flooded roads", event_start=now, event_end=now + timedelta(days=1))
    open_return(delivered_order(shop))
    _disputed_number(shop)
    MembershipFactory(shop=shop)
    team.invite(shop=shop, email="new@example.com", role="viewer", actor=seller, accept_url=lambda token: token)
    admin_client.post("/admin/shops/policywindow/add/", {"rule": "P1", "hours": "36", "enabled": "on", "note": "peak"})
    _task_queue_rows(now)
    _login_throttle_rows(seller)
    outbox.sequence()  # the change feed's positions, and a delivery per status change


def _disputed_number(shop):
    """Two shops' packages with one tracking number (a tracking dispute, its claims, a held event)."""
    from shipping.tests.factories import ups_number

    number = ups_number()
    for owner in (shop, MembershipFactory().shop):
        package = shipping_actions.ensure_packages(order_to_ship(owner, model="SELLER"), ACTOR)[0]
        shipping_actions.set_tracking(package=package, carrier="ups", tracking_number=number, actor=ACTOR)
    feed(event(refreshed(package), "InTransit", location="Memphis hub"))


def _task_queue_rows(now):
    from django_q.models import Schedule, Task
    from django_q.tasks import async_task

    Schedule.objects.create(name="apply policies", func="seller_center.tasks.apply_policies", schedule_type="I", minutes=5)
    for success in (True, False):
        Task.objects.create(id=f"task-{success}", name=f"task {success}", func="math.floor", started=now,
                            stopped=now + timedelta(seconds=1), success=success, result=1 if success else "boom")
    async_task("math.floor", 1.5, task_name="queued floor")  # the ORM broker keeps it in OrmQ


def _login_throttle_rows(seller):
    # A success resets the failed attempts (AXES_RESET_ON_SUCCESS): log in first, then fail.
    Client().post("/login/", {"username": seller.username, "password": "pw"})  # access log
    Client().post("/login/", {"username": seller.username, "password": "wrong"})  # attempt, failure log


def admin_url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def test_every_admin_lists_opens_and_adds_as_a_superuser(admin_client, admin_user, rows):
    missing = []
    for model, model_admin in admin.site._registry.items():
        meta = model._meta
        name, names = str(meta.verbose_name), str(meta.verbose_name_plural)
        changelist = admin_client.get(admin_url(model, "changelist"))
        assert changelist.status_code == 200, meta.label
        body = changelist.content.decode()
        assert escape(capfirst(names)) in body, meta.label  # the breadcrumb
        cl = changelist.context["cl"]
        first = cl.result_list[0] if cl.result_count else None
        if first is None:
            if meta.app_label not in THIRD_PARTY:
                missing.append(meta.label)
            continue
        # The row is on the list, linked to its page.
        assert admin_url(model, "change", first.pk) in body, meta.label
        assert 'id="result_list"' in body and body.count("<tr") >= 2, meta.label
        if model_admin.search_fields:
            search = admin_client.get(admin_url(model, "changelist"), {"q": "x"})
            assert search.status_code == 200 and 'id="searchbar"' in search.content.decode(), meta.label

        change = admin_client.get(admin_url(model, "change", first.pk))
        assert change.status_code == 200, meta.label
        page = change.content.decode()
        verb = "Change" if model_admin.has_change_permission(change.wsgi_request, first) else "View"
        assert f"<h1>{verb} {escape(name)}</h1>" in page, (meta.label, verb)
        assert escape(str(first)) in page, meta.label

        add = admin_client.get(admin_url(model, "add"))
        if model_admin.has_add_permission(add.wsgi_request):
            assert add.status_code == 200, meta.label
            assert f"<h1>Add {escape(name)}</h1>" in add.content.decode(), meta.label
        else:
            assert add.status_code == 403, meta.label
    assert not missing, f"no row to open for {missing}: make one in the `rows` fixture"
    # The index lists every app's models.
    index = admin_client.get(reverse("admin:index")).content.decode()
    for model in admin.site._registry:
        assert f'href="{admin_url(model, "changelist")}"' in index, model._meta.label
