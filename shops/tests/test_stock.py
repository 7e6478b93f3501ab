"""Stock per warehouse and its ledger: the SKU's totals are the sums of its warehouse rows after every
writer (a seller's change, confirm, cancel, hand-over), and every change is a ledger row."""

import pytest
from django.db.models import Sum

from core.actor import Actor
from orders import actions
from orders.tests.factories import advance, make_order
from shops import stock, warehouses
from shops.models import SKU, StockChange, Warehouse, WarehouseStock
from shops.tests.factories import SKUFactory, UserFactory

pytestmark = pytest.mark.django_db

ADDRESS = {"line1": "9 Dock Rd", "city": "Leeds", "country": "gb"}


def assert_sums(*skus):
    for sku in skus:
        sku.refresh_from_db()
        sums = WarehouseStock.objects.filter(sku=sku).aggregate(on_hand=Sum("on_hand"), reserved=Sum("reserved"))
        assert (sums["on_hand"], sums["reserved"]) == (sku.stock_on_hand, sku.reserved), sku.code


def seller():
    return Actor.seller(UserFactory())


def test_new_sku_puts_its_stock_in_the_default_warehouse():
    sku = SKUFactory(stock_on_hand=7)
    row = WarehouseStock.objects.get(sku=sku)
    assert row.warehouse.is_default and (row.on_hand, row.reserved) == (7, 0)
    sku.stock_on_hand = 12
    sku.save(update_fields=["stock_on_hand"])
    assert_sums(sku)


def test_change_stock_in_a_second_warehouse_moves_the_total_and_writes_the_ledger():
    sku = SKUFactory(stock_on_hand=5)
    second = warehouses.create_warehouse(shop=sku.shop, actor=seller(), values={"name": "North", **ADDRESS})
    stock.change_stock(sku=sku, actor=seller(), reason="received", delta=8, warehouse=second, expected_version=0)
    sku.refresh_from_db()
    assert (sku.stock_on_hand, sku.stock_version) == (13, 1)
    change = StockChange.objects.get(sku=sku)
    assert (change.warehouse, change.on_hand_before, change.on_hand_after, change.version) == (second, 0, 8, 1)
    assert_sums(sku)


def test_change_stock_with_an_old_version_is_refused_and_changes_nothing():
    sku = SKUFactory(stock_on_hand=5)
    stock.change_stock(sku=sku, actor=seller(), reason="count", on_hand=6, expected_version=0)
    with pytest.raises(stock.StaleStock):
        stock.change_stock(sku=sku, actor=seller(), reason="count", on_hand=9, expected_version=0)
    sku.refresh_from_db()
    assert (sku.stock_on_hand, StockChange.objects.count()) == (6, 1)


def test_change_stock_of_an_order_reason_is_refused():
    sku = SKUFactory(stock_on_hand=5)
    with pytest.raises(stock.StockRefused):
        stock.change_stock(sku=sku, actor=seller(), reason="reserved", delta=1)


def test_confirm_cancel_and_ship_move_the_warehouse_rows_and_write_one_ledger_row_each():
    sku = SKUFactory(stock_on_hand=10)
    a = make_order(sku.shop, lines=[(sku, 2)])
    b = make_order(sku.shop, lines=[(sku, 3)])
    result = actions.confirm_orders(shop=sku.shop, order_ids=[a.pk, b.pk], actor=seller())
    assert len(result.done) == 2
    assert_sums(sku)
    reserved = list(StockChange.objects.filter(reason="reserved").order_by("id").values_list(
        "order_number", "reserved_before", "reserved_after"))
    assert reserved == [(a.number, 0, 2), (b.number, 2, 5)]
    a.refresh_from_db()
    assert a.warehouse.is_default
    actions.cancel_order(order=a, actor=seller(), reason="buyer_requested")
    assert_sums(sku)
    released = StockChange.objects.get(reason="released")
    assert (released.order_number, released.reserved_before, released.reserved_after) == (a.number, 5, 3)
    b.refresh_from_db()
    b = advance(b, b.Status.IN_TRANSIT)
    assert_sums(sku)
    shipped = StockChange.objects.get(reason="shipped")
    assert (shipped.on_hand_before, shipped.on_hand_after, shipped.reserved_before, shipped.reserved_after) == (
        10, 7, 3, 0)
    sku.refresh_from_db()
    assert (sku.stock_on_hand, sku.reserved) == (7, 0)


def test_bulk_cancel_of_many_orders_chains_the_ledger_figures():
    sku = SKUFactory(stock_on_hand=10)
    orders = [make_order(sku.shop, lines=[(sku, 1)]) for _ in range(3)]
    actions.confirm_orders(shop=sku.shop, order_ids=[o.pk for o in orders], actor=seller())
    actions.cancel_orders(shop=sku.shop, order_ids=[o.pk for o in orders], actor=seller(), reason="buyer_requested")
    rows = list(StockChange.objects.filter(reason="released").order_by("order_id").values_list(
        "reserved_before", "reserved_after"))
    assert rows == [(3, 2), (2, 1), (1, 0)]
    assert_sums(sku)


def test_confirm_reserves_in_the_warehouse_that_has_the_stock_when_the_default_is_short():
    sku = SKUFactory(stock_on_hand=1)
    second = warehouses.create_warehouse(shop=sku.shop, actor=seller(), values={"name": "North", **ADDRESS})
    stock.change_stock(sku=sku, actor=seller(), reason="received", on_hand=4, warehouse=second)
    order = make_order(sku.shop, lines=[(sku, 3)])
    actions.confirm_order(order=order, actor=seller())
    order.refresh_from_db()
    assert order.warehouse == second
    assert WarehouseStock.objects.get(sku=sku, warehouse=second).reserved == 3
    assert_sums(sku)


def test_confirm_refuses_when_no_single_warehouse_has_every_line():
    sku = SKUFactory(stock_on_hand=2)
    second = warehouses.create_warehouse(shop=sku.shop, actor=seller(), values={"name": "North", **ADDRESS})
    stock.change_stock(sku=sku, actor=seller(), reason="received", on_hand=2, warehouse=second)
    order = make_order(sku.shop, lines=[(sku, 3)])
    with pytest.raises(actions.ActionRefused, match="out of stock"):
        actions.confirm_order(order=order, actor=seller())
    assert not StockChange.objects.filter(reason="reserved").exists()


def test_the_label_sender_is_the_orders_warehouse():
    sku = SKUFactory(stock_on_hand=2)
    order = make_order(sku.shop, lines=[(sku, 1)])
    actions.confirm_order(order=order, actor=seller())
    warehouse = Warehouse.objects.get(shop=sku.shop)
    warehouses.edit_warehouse(warehouse=warehouse, actor=seller(), values=ADDRESS)
    order.refresh_from_db()
    sender = warehouses.sender_for(order)
    assert sender.name == sku.shop.name and sender.lines == ("9 Dock Rd", "Leeds", "GB")


def test_reconcile_refuses_totals_below_what_other_warehouses_hold():
    sku = SKUFactory(stock_on_hand=0)
    second = warehouses.create_warehouse(shop=sku.shop, actor=seller(), values={"name": "North", **ADDRESS})
    stock.change_stock(sku=sku, actor=seller(), reason="received", on_hand=4, warehouse=second)
    SKU.objects.filter(pk=sku.pk).update(stock_on_hand=1)
    from django.db import IntegrityError, transaction
    with pytest.raises(IntegrityError), transaction.atomic():
        stock.reconcile(SKU.objects.filter(pk=sku.pk))
