"""Two members editing the same stock at once, on PostgreSQL (row locks): both read version 0; one
write wins, the other is refused as stale, and no change is lost. Changes that each read the version
they change (one after the other, each re-reading) all land."""

import threading

import pytest
from django.db import connection

from core.actor import Actor
from shops import stock
from shops.models import SKU, StockChange, WarehouseStock
from shops.tests.factories import MembershipFactory, SKUFactory

pytestmark = pytest.mark.django_db(transaction=True)


def race(n, work):
    barrier = threading.Barrier(n)
    outcomes = []

    def run(i):
        try:
            barrier.wait()
            outcomes.append(work(i))
        except stock.StaleStock:
            outcomes.append("stale")
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def test_two_members_setting_the_same_stock_one_wins_the_other_is_refused_as_stale(on_postgres):
    sku = SKUFactory(stock_on_hand=10)
    members = [Actor.seller(MembershipFactory(shop=sku.shop).user) for _ in range(2)]
    read = SKU.objects.get(pk=sku.pk).stock_version  # both screens show version 0
    figures = [14, 7]

    def save(i):
        stock.change_stock(sku=sku, actor=members[i], reason="count", on_hand=figures[i], expected_version=read)
        return figures[i]

    outcomes = race(2, save)
    assert outcomes.count("stale") == 1
    (won,) = [o for o in outcomes if o != "stale"]
    sku.refresh_from_db()
    assert (sku.stock_on_hand, sku.stock_version) == (won, 1)
    assert WarehouseStock.objects.get(sku=sku).on_hand == won
    (change,) = StockChange.objects.filter(sku=sku)
    assert (change.on_hand_before, change.on_hand_after) == (10, won)


def test_many_members_adding_goods_at_once_lose_no_update(on_postgres):
    sku = SKUFactory(stock_on_hand=0)
    actor = Actor.seller(MembershipFactory(shop=sku.shop).user)

    def receive(i):
        stock.change_stock(sku=sku, actor=actor, reason="received", delta=5)  # no version: a delta adds up
        return "ok"

    assert race(6, receive) == ["ok"] * 6
    sku.refresh_from_db()
    assert (sku.stock_on_hand, sku.stock_version) == (30, 6)
    assert sorted(StockChange.objects.filter(sku=sku).values_list("on_hand_after", flat=True)) == [5, 10, 15, 20, 25, 30]
