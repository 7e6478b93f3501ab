import pytest
from django.db import connection
from django.db.models import F

from core.batching import locked_batches
from core.sql import InIds
from orders.models import Order
from orders.tests.factories import make_order
from shops.tests.factories import ShopFactory

pytestmark = pytest.mark.django_db


def test_locked_batches_hand_out_each_row_once_even_if_the_caller_leaves_it_due():
    shop = ShopFactory()
    ids = {make_order(shop).pk for _ in range(7)}
    handed, sizes = [], []
    for rows in locked_batches(Order.objects.filter(shop=shop), ["shop_id"], batch_size=3):
        handed.extend(pk for pk, _ in rows)  # changes nothing: every row stays due
        sizes.append(len(rows))
    assert sorted(handed) == sorted(ids) and sizes == [3, 3, 1]


def test_locked_batches_skip_rows_no_longer_due_and_leave_new_ones_for_the_next_run():
    shop = ShopFactory()
    orders = [make_order(shop, paid=False) for _ in range(6)]
    handed = []
    for rows in locked_batches(Order.objects.filter(shop=shop, status="UNPAID"), [], batch_size=2):
        handed.extend(pk for pk, in rows)
        if len(handed) == 2:
            # Meanwhile: one due order is paid (no longer due), a new one falls due.
            Order.objects.filter(pk=orders[5].pk).update(status="AWAITING_CONFIRMATION")
            make_order(shop, paid=False)
    # Each due row once; within a batch the rows come in whatever order the index the
    # database picks gives them.
    assert sorted(handed) == [o.pk for o in orders[:5]]


def test_in_ids_matches_exactly_the_listed_rows_with_one_parameter():
    shop = ShopFactory()
    orders = [make_order(shop=shop) for _ in range(4)]
    wanted = [orders[0].pk, orders[2].pk]
    qs = Order.objects.filter(InIds(F("pk"), wanted))
    assert sorted(qs.values_list("pk", flat=True)) == sorted(wanted)
    assert not Order.objects.filter(InIds(F("pk"), [])).exists()
    sql, params = qs.query.sql_with_params()
    if connection.vendor == "postgresql":
        assert "= ANY(%s)" in sql and list(params) == [wanted]
