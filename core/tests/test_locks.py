"""core.locks: rows locked in primary-key order, only the queryset's own table unless named."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from core.locks import lock, lock_one
from orders.models import Order
from orders.tests.factories import make_order
from shipping.models import Package
from shipping.tests.factories import arranged, order_to_ship
from shops.tests.factories import ShopFactory

pytestmark = pytest.mark.django_db


def test_lock_returns_the_rows_in_pk_order():
    shop = ShopFactory()
    orders = [make_order(shop) for _ in range(3)]
    with transaction.atomic():
        assert [o.pk for o in lock(Order.objects.filter(shop=shop).order_by("-pk"))] == sorted(o.pk for o in orders)


def test_lock_one_rereads_the_row_and_its_joins():
    (package,) = arranged(order_to_ship(ShopFactory()))
    with transaction.atomic():
        locked = lock_one(Package.objects, package.pk, also_lock=("order",))
        assert locked.pk == package.pk and "order" in locked._state.fields_cache
        with pytest.raises(Package.DoesNotExist):
            lock_one(Package.objects, 0)


@pytest.mark.postgres
def test_lock_names_what_it_locks(on_postgres):
    (package,) = arranged(order_to_ship(ShopFactory()))
    with transaction.atomic(), CaptureQueriesContext(connection) as ctx:
        list(lock(Order.objects.filter(pk=package.order_id)))
        lock_one(Order.objects, package.order_id, read=("shop",))
        lock_one(Package.objects, package.pk, also_lock=("order",))
        list(lock(Package.objects.filter(order_id=package.order_id), also_lock=("order",)))
    first, read_only_join, both, both_in_order = (q["sql"] for q in ctx.captured_queries)
    assert first.endswith('ORDER BY "orders_order"."id" ASC FOR UPDATE OF "orders_order"')
    assert read_only_join.endswith('FOR UPDATE OF "orders_order"')
    assert both.endswith('FOR UPDATE OF "shipping_package", "orders_order"')
    assert both_in_order.endswith('ORDER BY "shipping_package"."id" ASC FOR UPDATE OF "shipping_package", "orders_order"')
