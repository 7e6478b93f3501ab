import pytest

from orders.models import Order
from orders.tests.factories import make_order
from shops.batching import locked_batches
from shops.tests.factories import ShopFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("leaves", [False, True])
def test_locked_batches_hand_out_each_row_once_even_if_the_caller_leaves_it_due(leaves):
    shop = ShopFactory()
    ids = {make_order(shop).pk for _ in range(7)}
    handed = []
    for rows in locked_batches(Order.objects.filter(shop=shop), ["shop_id"], batch_size=3, leaves=leaves):
        handed.extend(pk for pk, _ in rows)  # changes nothing: every row stays due
    assert sorted(handed) == sorted(ids)


def test_locked_batches_leaves_takes_the_next_due_rows_when_the_caller_moves_them():
    shop = ShopFactory()
    orders = [make_order(shop, paid=False) for _ in range(7)]
    sizes = []
    for rows in locked_batches(Order.objects.filter(shop=shop, status="UNPAID"), [], batch_size=3, leaves=True):
        sizes.append(len(rows))
        Order.objects.filter(pk__in=[pk for pk, in rows]).update(status="CANCELLED")
    assert sizes == [3, 3, 1]
    assert not Order.objects.filter(pk__in=[o.pk for o in orders], status="UNPAID").exists()
