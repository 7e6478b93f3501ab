"""generate_orders leaves counters, history and stock agreeing with the orders it makes."""

import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Count, F, Q, Sum
from django.utils import timezone

from orders.management.commands import generate_orders
from orders.models import Order, OrderEvent, OrderLine
from orders.tests.test_actions import counts_match_group_by
from orders.transitions import RESERVING
from shops.models import SKU, Membership

pytestmark = pytest.mark.django_db
S = Order.Status


def generate(**options):
    call_command("generate_orders", stdout=io.StringIO(), **options)


def test_generate_orders_counters_equal_group_by_and_every_order_has_history():
    generate(orders=400, shops=4, seller_share=0.25)

    assert Order.objects.count() == 400
    assert counts_match_group_by()
    assert Order.objects.filter(shop__slug="bench-main").count() == 100
    assert set(Order.objects.values_list("status", flat=True)) == set(S.values)
    # One history row per order, saying what it is now.
    assert OrderEvent.objects.count() == 400
    assert not Order.objects.annotate(n=Count("events")).exclude(n=1).exists()
    assert not OrderEvent.objects.exclude(action="generated", to_status=F("order__status"), actor_kind="policy").exists()
    assert not Order.objects.annotate(n=Count("lines")).exclude(n=1).exists()
    assert not OrderLine.objects.exclude(quantity=F("order__item_count")).exists()
    # Timestamps in the order of the steps, none in the future.
    now = timezone.now()
    assert not Order.objects.filter(
        Q(paid_at__lt=F("placed_at")) | Q(confirmed_at__lt=F("paid_at")) | Q(shipped_at__lt=F("confirmed_at"))
        | Q(delivered_at__lt=F("shipped_at")) | Q(completed_at__lt=F("delivered_at"))
        | Q(status_changed_at__lt=F("placed_at")) | Q(status_changed_at__gt=now)
    ).exists()
    assert not Order.objects.exclude(status=S.UNPAID).filter(paid_at__isnull=True).exclude(status=S.CANCELLED).exists()
    # Reserved stock is what the reserving orders hold.
    held = dict(
        OrderLine.objects.filter(order__status__in=RESERVING).values("sku").annotate(n=Sum("quantity")).values_list("sku", "n")
    )
    assert {s.pk: s.reserved for s in SKU.objects.all() if s.reserved} == held
    membership = Membership.objects.get(shop__slug="bench-main", user__username="bench")
    assert membership.role == Membership.Role.OWNER
    assert membership.user.check_password("bench")


def test_generate_orders_rerun_adds_orders_with_new_numbers():
    generate(orders=150, shops=3)
    generate(orders=150, shops=3, seed=2)

    assert Order.objects.count() == 300
    assert Order.objects.values("number").distinct().count() == 300
    assert Order.objects.order_by("-number").first().number == "G0000000300"
    assert counts_match_group_by()


def test_generate_orders_bulk_load_rebuilds_indexes_and_foreign_keys(on_postgres, monkeypatch):
    def schema():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT indexdef FROM pg_indexes WHERE tablename = ANY(%s) UNION ALL "
                "SELECT conname || pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid::regclass::text = ANY(%s)",
                [list(generate_orders.LOADED_TABLES)] * 2,
            )
            return sorted(r[0] for r in cursor.fetchall())

    before = schema()
    monkeypatch.setattr(generate_orders, "_bulk_load_pays", lambda cursor, n: True)
    out = io.StringIO()
    call_command("generate_orders", orders=200, shops=2, stdout=out)

    assert "bulk load: dropped" in out.getvalue()
    assert schema() == before
    assert counts_match_group_by()
    assert OrderEvent.objects.count() == OrderLine.objects.count() == 200
