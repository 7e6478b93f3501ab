import pytest

from core.actor import Actor
from orders import actions
from orders.tests.factories import make_order
from shops.models import SKU, Membership, Notification, Shop
from shops.tests.factories import MembershipFactory, ShopFactory, SKUFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog(db):
    membership = MembershipFactory()
    shop = membership.shop
    sku = SKUFactory(shop=shop, stock_on_hand=10)
    order = make_order(shop, lines=[(sku, 3)])  # paid: rings the bell
    actions.confirm_order(order=order, actor=Actor.storefront())
    sku.refresh_from_db()
    assert sku.reserved == 3
    return shop, membership, sku


@pytest.mark.parametrize("url", ["/admin/shops/shop/", "/admin/shops/membership/", "/admin/shops/sku/",
                                 "/admin/shops/notification/", "/admin/shops/", "/admin/shops/sku/?q=SKU",
                                 "/admin/shops/shop/?q=shop", "/admin/shops/notification/?read_at__isempty=0"])
def test_shops_changelist_renders(admin_client, catalog, url):
    shop, membership, sku = catalog
    response = admin_client.get(url)
    assert response.status_code == 200
    body = response.content.decode()
    if url == "/admin/shops/":  # the app's index lists its models
        for model in ("shop", "membership", "sku", "notification"):
            assert f'href="/admin/shops/{model}/"' in body, model
        return
    bell = Notification.objects.get()  # the paid order rang it; confirming it settled it (read)
    assert bell.read_at is not None
    rows, shown = {
        "/admin/shops/shop/": ([shop], [shop.name, shop.slug, "USD", "column-time_zone"]),
        "/admin/shops/membership/": ([membership], [membership.user.username, membership.get_role_display()]),
        "/admin/shops/sku/": ([sku], [sku.code, sku.name, '<td class="field-available">7</td>']),
        "/admin/shops/notification/": ([bell], [bell.text[:30], "column-read_at"]),
    }[url.split("?")[0]]
    assert list(response.context["cl"].result_list) == rows
    for text in shown:
        assert text in body, text


@pytest.mark.parametrize("model", [Shop, Membership, SKU, Notification])
def test_shops_change_page_renders(admin_client, catalog, model):
    obj = model.objects.first()
    response = admin_client.get(f"/admin/shops/{model._meta.model_name}/{obj.pk}/change/")
    assert response.status_code == 200
    body = response.content.decode()
    verb = "View" if model is Notification else "Change"  # the bell is the shop's: staff only look
    assert f"<h1>{verb} {model._meta.verbose_name}</h1>" in body and str(obj) in body
    expected = {Shop: ['name="name"', "memberships-0-user", "field-slug"], Membership: ['name="user"', 'name="role"'],
                SKU: ['name="stock_on_hand"', "field-reserved", "field-available"], Notification: ["field-text"]}[model]
    for text in expected:
        assert text in body, text


@pytest.mark.parametrize(("model", "inputs"), [(Shop, ["name", "slug", "time_zone", "currency", "memberships-TOTAL_FORMS"]),
                                               (Membership, ["user", "shop", "role"]),
                                               (SKU, ["shop", "code", "name", "price", "stock_on_hand"])])
def test_shops_add_page_renders(admin_client, model, inputs):
    response = admin_client.get(f"/admin/shops/{model._meta.model_name}/add/")
    assert response.status_code == 200
    body = response.content.decode()
    assert f"<h1>Add {model._meta.verbose_name}</h1>" in body
    for name in inputs:
        assert f'name="{name}"' in body, name
    assert 'name="reserved"' not in body


def test_notification_add_and_edit_forbidden(admin_client, catalog):
    note = Notification.objects.get()
    assert admin_client.get("/admin/shops/notification/add/").status_code == 403
    before = note.text
    assert admin_client.post(f"/admin/shops/notification/{note.pk}/change/", {"text": "edited"}).status_code == 403
    note.refresh_from_db()
    assert note.text == before


def test_sku_changelist_shows_reserved_and_available(admin_client, catalog):
    shop, _, sku = catalog
    response = admin_client.get(f"/admin/shops/sku/?shop__id__exact={shop.pk}")
    row = next(line for line in response.content.decode().splitlines() if sku.code in line and "field-available" in line)
    assert '<td class="field-reserved">3</td>' in row and '<td class="field-available">7</td>' in row


def test_sku_change_reserved_stays_read_only(admin_client, catalog):
    _, _, sku = catalog
    url = f"/admin/shops/sku/{sku.pk}/change/"
    assert 'name="reserved"' not in admin_client.get(url).content.decode()
    response = admin_client.post(url, {"code": sku.code, "name": "Renamed", "price": "12.50", "stock_on_hand": "20",
                                       "reserved": "0"})
    assert response.status_code == 302
    sku.refresh_from_db()
    assert (sku.name, sku.stock_on_hand, sku.reserved) == ("Renamed", 20, 3)


def test_sku_change_stock_below_reserved_refused(admin_client, catalog):
    _, _, sku = catalog
    response = admin_client.post(f"/admin/shops/sku/{sku.pk}/change/",
                                 {"code": sku.code, "name": sku.name, "price": "10.00", "stock_on_hand": "2"})
    assert response.status_code == 200
    assert "3 are reserved for confirmed orders" in response.content.decode()
    sku.refresh_from_db()
    assert sku.stock_on_hand == 10


def test_sku_change_after_new_reservation_keeps_reserved(admin_client, catalog):
    shop, _, sku = catalog
    url = f"/admin/shops/sku/{sku.pk}/change/"
    admin_client.get(url)
    order = make_order(shop, lines=[(sku, 2)])
    actions.confirm_order(order=order, actor=Actor.storefront())
    admin_client.post(url, {"code": sku.code, "name": "Renamed", "price": "10.00", "stock_on_hand": "10"})
    sku.refresh_from_db()
    assert (sku.name, sku.reserved) == ("Renamed", 5)


def test_sku_add_creates_with_nothing_reserved(admin_client):
    shop = ShopFactory()
    response = admin_client.post("/admin/shops/sku/add/", {"shop": shop.pk, "code": "NEW-1", "name": "New",
                                                           "price": "5.00", "stock_on_hand": "4"})
    assert response.status_code == 302
    sku = SKU.objects.get(code="NEW-1")
    assert (sku.shop, sku.stock_on_hand, sku.reserved) == (shop, 4, 0)


def test_sku_add_negative_stock_refused(admin_client):
    shop = ShopFactory()
    response = admin_client.post("/admin/shops/sku/add/", {"shop": shop.pk, "code": "NEG", "name": "Neg",
                                                           "price": "5.00", "stock_on_hand": "-1"})
    assert response.status_code == 200
    assert "Stock on hand cannot be negative." in response.content.decode()
    assert not SKU.objects.filter(code="NEG").exists()


def test_shop_add_with_member_creates_both(admin_client):
    user = UserFactory()
    response = admin_client.post("/admin/shops/shop/add/", {
        "name": "Kite Works", "slug": "kite-works", "time_zone": "Europe/Berlin", "currency": "EUR", "email": "",
        "memberships-TOTAL_FORMS": "1", "memberships-INITIAL_FORMS": "0",
        "memberships-0-user": user.pk, "memberships-0-role": "owner",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    shop = Shop.objects.get(slug="kite-works")
    assert shop.memberships.get().user == user


def test_shop_change_slug_and_currency_stay_fixed(admin_client, catalog):
    shop, membership, _ = catalog
    slug = shop.slug
    response = admin_client.post(f"/admin/shops/shop/{shop.pk}/change/", {
        "name": "Renamed", "slug": "other", "currency": "EUR", "time_zone": "UTC", "email": "",
        "memberships-TOTAL_FORMS": "1", "memberships-INITIAL_FORMS": "1",
        "memberships-0-id": membership.pk, "memberships-0-shop": shop.pk, "memberships-0-user": membership.user_id,
        "memberships-0-role": "owner",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    shop.refresh_from_db()
    assert (shop.name, shop.slug, shop.currency) == ("Renamed", slug, "USD")


def test_membership_autocomplete_for_user_renders(admin_client, catalog):
    _, membership, _ = catalog
    response = admin_client.get("/admin/autocomplete/", {"term": membership.user.username[:4], "app_label": "shops",
                                                         "model_name": "membership", "field_name": "user"})
    assert response.status_code == 200
    assert membership.user.username in response.content.decode()
