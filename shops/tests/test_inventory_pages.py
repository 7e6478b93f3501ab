"""The Inventory pages and the Warehouses page: full page and partial, permissions, the edit with its
version, the CSV import's per-row report (all or nothing), fixed query counts."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core.actor import Actor
from orders import actions
from orders.tests.factories import make_order
from shops import warehouses
from shops.models import Membership, StockChange, Warehouse, WarehouseEvent, WarehouseStock
from shops.tests.factories import MembershipFactory, ShopFactory, SKUFactory, UserFactory
from tests.pages import assert_fragment, fetch_both, hx, texts

pytestmark = pytest.mark.django_db

ADDRESS = {"line1": "9 Dock Rd", "city": "Leeds", "country": "GB"}


@pytest.fixture
def shop():
    return ShopFactory()


def member(client, shop, role=Membership.Role.OWNER):
    m = MembershipFactory(shop=shop, role=role)
    client.force_login(m.user)
    return m.user


def csv_file(text):
    return SimpleUploadedFile("stock.csv", text.encode(), content_type="text/csv")


def test_inventory_page_shows_stock_per_warehouse_low_flag_and_cover(client, shop):
    member(client, shop, Membership.Role.VIEWER)
    busy = SKUFactory(shop=shop, code="TEE-1", stock_on_hand=30)
    SKUFactory(shop=shop, code="MUG-1", stock_on_hand=2)
    order = make_order(shop, lines=[(busy, 14)])
    actions.confirm_order(order=order, actor=Actor.storefront())
    url = reverse("inventory:page", kwargs={"shop": shop.slug})
    full, partial = fetch_both(client, url, "inventory-rows")
    for body in texts(full, partial):
        assert "TEE-1" in body and "MUG-1" in body and "Low stock" in body
        assert "16" in body  # 30 on hand less 14 reserved
        assert "32.0" in body  # 16 available / (14 sold / 28 days)
        assert "no recent sales" in body
    assert "Import stock" not in full.content.decode()  # a viewer may not change stock


def test_inventory_page_queries_do_not_grow_with_the_skus(client, shop):
    member(client, shop)
    url = reverse("inventory:page", kwargs={"shop": shop.slug})
    SKUFactory(shop=shop)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for _ in range(12):
        SKUFactory(shop=shop)
    warehouses.create_warehouse(shop=shop, actor=Actor.storefront(), values={"name": "North", **ADDRESS})
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200
    assert len(many) == len(few)


def test_inventory_pages_by_keyset(client, shop, settings):
    member(client, shop)
    from shops import inventory
    for n in range(inventory.PAGE + 3):
        SKUFactory(shop=shop, code=f"K{n:03d}")
    url = reverse("inventory:page", kwargs={"shop": shop.slug})
    first = client.get(url).content.decode()
    assert "K049" in first and "K050" not in first and "after=K049" in first
    second = client.get(url, {"after": "K049"}, headers=hx("inventory-rows"))
    body = assert_fragment(second, "inventory-rows")
    assert "K050" in body and "K052" in body and "K049" not in body


def test_inventory_is_refused_to_a_member_without_the_permission(client, shop):
    user = UserFactory()
    client.force_login(user)
    assert client.get(reverse("inventory:page", kwargs={"shop": shop.slug})).status_code == 404
    member(client, shop, Membership.Role.VIEWER)
    sku = SKUFactory(shop=shop)
    response = client.post(reverse("inventory:sku", kwargs={"shop": shop.slug, "pk": sku.pk}),
                           {"warehouse": Warehouse.objects.get(shop=shop).pk, "on_hand": 5, "reason": "count",
                            "version": 0})
    assert response.status_code == 403
    assert not StockChange.objects.exists()


def test_sku_page_edit_saves_and_a_stale_version_is_refused(client, shop):
    member(client, shop, Membership.Role.FULFILMENT)
    sku = SKUFactory(shop=shop, code="TEE-1", stock_on_hand=10)
    warehouse = Warehouse.objects.get(shop=shop)
    url = reverse("inventory:sku", kwargs={"shop": shop.slug, "pk": sku.pk})
    full, partial = fetch_both(client, url, "sku-stock")
    assert "Stock ledger" in full.content.decode()
    data = {"warehouse": warehouse.pk, "on_hand": 12, "reason": "received", "note": "", "bin_location": "A-01",
            "version": 0}
    ok = client.post(url, data, headers=hx("sku-stock"))
    body = assert_fragment(ok, "sku-stock")
    assert "12 on hand" in body and "Goods received" in body and "A-01" in body
    stale = client.post(url, {**data, "on_hand": 3})  # still version 0
    assert stale.status_code == 409 and "changed since you read it" in stale.content.decode()
    row = WarehouseStock.objects.get(sku=sku)
    assert (row.on_hand, row.bin_location) == (12, "A-01")
    redirect = client.post(url, {**data, "on_hand": 11, "reason": "damaged", "version": 1})
    assert redirect.status_code == 302


def test_sku_page_bad_input_is_a_400_naming_it(client, shop):
    member(client, shop)
    sku = SKUFactory(shop=shop)
    url = reverse("inventory:sku", kwargs={"shop": shop.slug, "pk": sku.pk})
    warehouse = Warehouse.objects.get(shop=shop)
    for bad in ({"on_hand": "-1"}, {"on_hand": "x"}, {"reason": "reserved"}, {"warehouse": "999999"},
                {"reason": "other", "note": ""}):
        data = {"warehouse": warehouse.pk, "on_hand": 3, "reason": "count", "version": 0, **bad}
        response = client.post(url, data)
        assert response.status_code in (400, 409), bad
    assert not StockChange.objects.exists()


def test_csv_import_applies_every_row_with_a_report(client, shop):
    member(client, shop)
    SKUFactory(shop=shop, code="TEE-1", stock_on_hand=1)
    SKUFactory(shop=shop, code="MUG-1", stock_on_hand=1)
    north = warehouses.create_warehouse(shop=shop, actor=Actor.storefront(), values={"name": "North", **ADDRESS})
    url = reverse("inventory:import", kwargs={"shop": shop.slug})
    text = "sku,warehouse,on_hand,reason,note,bin_location\nTEE-1,,20,count,,A-1\nMUG-1,North,7,received,pallet 3,\n"
    response = client.post(url, {"file": csv_file(text)}, headers=hx("inventory-main"))
    body = assert_fragment(response, "inventory-main")
    assert "2 stock figures updated" in body
    assert WarehouseStock.objects.get(sku__code="MUG-1", warehouse=north).on_hand == 7
    assert WarehouseStock.objects.get(sku__code="TEE-1", warehouse__is_default=True).bin_location == "A-1"


def test_csv_import_with_a_bad_row_applies_nothing_and_names_each_problem(client, shop):
    member(client, shop)
    SKUFactory(shop=shop, code="TEE-1", stock_on_hand=1)
    url = reverse("inventory:import", kwargs={"shop": shop.slug})
    text = ("sku,warehouse,on_hand,reason,note\nTEE-1,,20,count,\nNOPE,,1,count,\nTEE-1,Nowhere,1,count,\n"
            "TEE-1,,-4,count,\nTEE-1,,4,reserved,\n")
    response = client.post(url, {"file": csv_file(text)})
    body = response.content.decode()
    assert response.status_code == 400
    assert "Nothing was changed" in body and "No SKU NOPE" in body and "No open warehouse named Nowhere" in body
    assert "is not a whole number" in body and "is not one of" in body
    assert not StockChange.objects.exists()


def test_csv_import_refuses_a_file_that_is_not_a_stock_csv(client, shop):
    member(client, shop)
    url = reverse("inventory:import", kwargs={"shop": shop.slug})
    for content, why in ((b"\xff\xfe", "UTF-8"), (b"a,b\n1,2\n", "The header must name"), (b"sku,on_hand,reason\n", "no rows")):
        response = client.post(url, {"file": SimpleUploadedFile("x.csv", content)})
        assert response.status_code == 400 and why in response.content.decode(), why


def test_csv_import_rolls_back_when_a_row_fails_while_applying(client, shop):
    member(client, shop)
    sku = SKUFactory(shop=shop, code="TEE-1", stock_on_hand=5)
    SKUFactory(shop=shop, code="MUG-1", stock_on_hand=5)
    order = make_order(shop, lines=[(sku, 4)])
    actions.confirm_order(order=order, actor=Actor.storefront())
    url = reverse("inventory:import", kwargs={"shop": shop.slug})
    text = "sku,on_hand,reason\nMUG-1,9,count\nTEE-1,1,count\n"  # TEE-1 has 4 reserved
    response = client.post(url, {"file": csv_file(text)})
    assert response.status_code == 400 and "reserved by confirmed orders" in response.content.decode()
    assert not StockChange.objects.filter(reason="count").exists()
    assert WarehouseStock.objects.get(sku__code="MUG-1").on_hand == 5


def test_warehouses_page_add_edit_default_and_history(client, shop):
    member(client, shop, Membership.Role.MANAGER)
    SKUFactory(shop=shop)
    url = reverse("warehouses:page", kwargs={"shop": shop.slug})
    full, partial = fetch_both(client, url, "warehouses-panel")
    assert "Main warehouse" in full.content.decode()
    data = {"new-name": "North", "new-line1": "9 Dock Rd", "new-city": "Leeds", "new-country": "gb",
            "new-return_same": "on", "new-make_default": "on"}
    body = assert_fragment(client.post(url, data, headers=hx("warehouses-panel")), "warehouses-panel")
    assert "Warehouse North added" in body
    north = Warehouse.objects.get(shop=shop, name="North")
    assert north.is_default and north.country == "GB"
    refused = client.post(url, {**data, "new-line1": ""})
    assert refused.status_code in (400, 409)
    edit = reverse("warehouses:action", kwargs={"shop": shop.slug, "pk": north.pk, "action": "edit"})
    response = client.post(edit, {f"w{north.pk}-{k}": v for k, v in {**ADDRESS, "name": "North", "opening_hours":
                                                                       "Mon–Fri 9–17", "return_same": "on"}.items()})
    assert response.status_code == 302
    body = client.get(url).content.decode()
    assert "9 Dock Rd" in body and "Mon–Fri 9–17" in body and "{{" not in body
    assert list(WarehouseEvent.objects.filter(warehouse=north).order_by("id").values_list("action", flat=True)) == [
        "created", "made_default", "edited"]


def test_warehouses_page_is_for_owners_and_managers(client, shop):
    member(client, shop, Membership.Role.FULFILMENT)
    assert client.get(reverse("warehouses:page", kwargs={"shop": shop.slug})).status_code == 403


def test_holiday_request_then_staff_approval_pauses_the_warehouses_orders(client, shop):
    owner = member(client, shop)
    sku = SKUFactory(shop=shop, stock_on_hand=5)
    order = make_order(shop, lines=[(sku, 1)])
    actions.confirm_order(order=order, actor=Actor.seller(owner))
    order.refresh_from_db()
    ship_by = order.ship_by
    warehouse = Warehouse.objects.get(shop=shop)
    url = reverse("warehouses:action", kwargs={"shop": shop.slug, "pk": warehouse.pk, "action": "holiday"})
    start = timezone.now() + timedelta(hours=1)
    fmt = "%Y-%m-%dT%H:%M"
    bad = client.post(url, {f"h{warehouse.pk}-start": start.strftime(fmt),
                            f"h{warehouse.pk}-end": (start + timedelta(days=40)).strftime(fmt),
                            f"h{warehouse.pk}-reason": "Lunar new year closure"})
    assert bad.status_code == 409 and "at most 30 days" in bad.content.decode()
    ok = client.post(url, {f"h{warehouse.pk}-start": start.strftime(fmt),
                           f"h{warehouse.pk}-end": (start + timedelta(days=5)).strftime(fmt),
                           f"h{warehouse.pk}-reason": "Lunar new year closure"}, headers=hx("warehouses-panel"))
    assert "waiting for the platform" in assert_fragment(ok, "warehouses-panel")
    warehouse.refresh_from_db()
    assert warehouse.holiday == "requested"
    order.refresh_from_db()
    assert order.ship_by == ship_by  # nothing pauses before staff approve
    staff = UserFactory(is_staff=True)
    with pytest.raises(warehouses.WarehouseRefused):
        warehouses.rule_holiday(warehouse=warehouse, approve=False, actor=Actor.staff(staff))  # no reason
    warehouses.rule_holiday(warehouse=warehouse, approve=True, actor=Actor.staff(staff))
    order.refresh_from_db()
    assert order.ship_by > ship_by + timedelta(days=5) and order.deadlines_paused_until == warehouse.holiday_until
    assert order.events.filter(action="deadlines_paused").exists()
    assert WarehouseEvent.objects.get(warehouse=warehouse, action="holiday_approved").data == {"orders_paused": 1}


def test_staff_reject_a_holiday_in_admin_only_with_a_reason(admin_client, shop):
    sku = SKUFactory(shop=shop)
    warehouse = Warehouse.objects.get(shop=shop)
    start = timezone.now() + timedelta(days=1)
    warehouses.request_holiday(warehouse=warehouse, actor=Actor.storefront(), start=start,
                               end=start + timedelta(days=2), reason="Closed for the annual stocktake")
    url = reverse("admin:shops_warehouse_change", args=[warehouse.pk])
    assert admin_client.get(url).status_code == 200
    assert admin_client.post(url, {"decision": "reject", "ruling_note": ""}).status_code == 200  # refused in place
    warehouse.refresh_from_db()
    assert warehouse.holiday == "requested"
    assert admin_client.post(url, {"decision": "reject", "ruling_note": "Peak season"}).status_code == 302
    warehouse.refresh_from_db()
    assert (warehouse.holiday, warehouse.holiday_ruling_note) == ("rejected", "Peak season")
    sku_url = reverse("admin:shops_sku_change", args=[sku.pk])
    assert "stock per warehouse" in admin_client.get(sku_url).content.decode().lower()


def test_sku_page_and_warehouses_page_queries_do_not_grow(client, shop):
    owner = member(client, shop)
    sku = SKUFactory(shop=shop, stock_on_hand=50)
    sku_url = reverse("inventory:sku", kwargs={"shop": shop.slug, "pk": sku.pk})
    wh_url = reverse("warehouses:page", kwargs={"shop": shop.slug})
    stock_change = {"warehouse": Warehouse.objects.get(shop=shop).pk, "reason": "count", "version": 0}
    client.post(sku_url, {**stock_change, "on_hand": 49})
    client.get(sku_url), client.get(wh_url)
    with CaptureQueriesContext(connection) as sku_few, CaptureQueriesContext(connection):
        client.get(sku_url)
    with CaptureQueriesContext(connection) as wh_few:
        client.get(wh_url)
    for i in range(6):
        warehouses.create_warehouse(shop=shop, actor=Actor.seller(owner), values={"name": f"W{i}", **ADDRESS})
        order = make_order(shop, lines=[(sku, 1)])
        actions.confirm_order(order=order, actor=Actor.storefront())
    with CaptureQueriesContext(connection) as sku_many:
        assert client.get(sku_url).status_code == 200
    with CaptureQueriesContext(connection) as wh_many:
        assert client.get(wh_url).status_code == 200
    assert len(sku_many) == len(sku_few) and len(wh_many) == len(wh_few)
