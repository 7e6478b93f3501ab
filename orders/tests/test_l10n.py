"""Issue 17 in orders: the storefront's locale and country address parts at intake, amounts checked
against the currency's own precision, money by currency on the pages and in the CSV export."""

import copy
import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from orders.models import Order
from orders.tests.factories import make_order
from orders.tests.helpers import post_signed
from shops.tests.factories import MembershipFactory, ShopFactory, SKUFactory

pytestmark = pytest.mark.django_db
PLACED = timezone.now().replace(microsecond=0) - timedelta(hours=2)


def _iso(dt):
    return dt.isoformat().replace("+00:00", "Z")


@pytest.fixture
def vn_shop():
    shop = ShopFactory(currency="VND", time_zone="Asia/Ho_Chi_Minh")
    SKUFactory(shop=shop, code="AO-DAI", name="Áo dài lụa", price=Decimal("1250000"))
    return shop


def _vn_payload(shop, **changes):
    data = {
        "number": "VN-1001", "shop": shop.slug, "placed_at": _iso(PLACED), "paid_at": _iso(PLACED + timedelta(minutes=2)),
        "currency": "VND", "shipping_model": "SELLER", "locale": "vi-VN",
        "buyer": {"name": "Nguyễn Thị Hương", "email": "huong@example.com", "phone": "+84901234567",
                  "address": {"line1": "12 Nguyễn Huệ", "subdistrict": "Phường Bến Nghé", "district": "Quận 1",
                              "city": "Thành phố Hồ Chí Minh", "postal_code": "700000", "country": "VN"}},
        "lines": [{"sku": "AO-DAI", "quantity": 1, "unit_price": "1250000"}],
    }
    data.update(changes)
    return data


def test_intake_keeps_the_buyer_language_and_the_country_address_parts(client, vn_shop):
    r = post_signed(client, reverse("storefront-orders"), _vn_payload(vn_shop))
    assert r.status_code == 201, r.content
    order = Order.objects.get(number="VN-1001")
    assert (order.language, order.district, order.subdistrict) == ("vi", "Quận 1", "Phường Bến Nghé")
    assert order.total == Decimal("1250000")
    assert order.address_lines == ["12 Nguyễn Huệ", "Phường Bến Nghé", "Quận 1", "Thành phố Hồ Chí Minh 700000", "VN"]
    # The same push again is the same order (the new fields are part of its fingerprint).
    assert post_signed(client, reverse("storefront-orders"), _vn_payload(vn_shop)).status_code == 200
    changed = _vn_payload(vn_shop)
    changed["buyer"]["address"]["district"] = "Quận 3"
    assert post_signed(client, reverse("storefront-orders"), changed).status_code == 409


@pytest.mark.parametrize("change, field, message", [
    ({"lines": [{"sku": "AO-DAI", "quantity": 1, "unit_price": "1250000.50"}]}, "lines[0].unit_price",
     "VND amounts have no decimals."),
    ({"locale": "not a tag!"}, "locale", 'a language tag such as "vi-VN"'),
    ({"locale": 12}, "locale", 'a language tag such as "vi-VN"'),
    ({"currency": "KWD"}, "currency", "not a currency the platform holds (ISO 4217, at most 2 decimals)"),
])
def test_intake_refuses_what_the_currency_or_locale_cannot_be(client, vn_shop, change, field, message):
    r = post_signed(client, reverse("storefront-orders"), _vn_payload(vn_shop, **change))
    assert r.status_code == 400
    assert message in r.json()["errors"][field]
    assert not Order.objects.exists()


def test_intake_needs_the_district_where_the_country_writes_one(client, vn_shop):
    data = _vn_payload(vn_shop)
    del data["buyer"]["address"]["district"]
    r = post_signed(client, reverse("storefront-orders"), data)
    assert r.status_code == 400
    assert r.json()["errors"]["buyer.address.district"] == ["required for an address in VN"]
    gb = copy.deepcopy(_vn_payload(vn_shop))
    gb["buyer"]["address"] = {"line1": "10 Downing St", "city": "London", "country": "GB"}
    r = post_signed(client, reverse("storefront-orders"), gb)
    assert r.json()["errors"]["buyer.address.postal_code"] == ["required for an address in GB"]


def test_an_unsupported_but_well_formed_locale_means_the_default_language(client, vn_shop):
    r = post_signed(client, reverse("storefront-orders"), _vn_payload(vn_shop, locale="fr-FR"))
    assert r.status_code == 201
    assert Order.objects.get().language == ""


def test_addresses_are_written_the_way_their_country_writes_them():
    from orders.addresses import address_lines

    assert address_lines({"line1": "1 Market St", "city": "Springfield", "region": "IL", "postal_code": "62701",
                          "country": "US"}) == ["1 Market St", "Springfield, IL 62701", "US"]
    assert address_lines({"line1": "221B Baker Street", "city": "London", "postal_code": "NW1 6XE",
                          "country": "GB"}) == ["221B Baker Street", "LONDON", "NW1 6XE", "GB"]
    assert address_lines({"line1": "99/1 ถนนสุขุมวิท", "subdistrict": "แขวงคลองเตยเหนือ", "district": "เขตวัฒนา",
                          "city": "กรุงเทพมหานคร", "postal_code": "10110", "country": "TH"}) == [
        "99/1 ถนนสุขุมวิท", "แขวงคลองเตยเหนือ", "เขตวัฒนา", "กรุงเทพมหานคร 10110", "TH"]


CURRENCIES = [
    # currency, time zone, unit price, the order page's total in English, the CSV's plain total
    ("VND", "Asia/Ho_Chi_Minh", "1250000", "₫1,250,000", "1250000"),
    ("IDR", "Asia/Jakarta", "150000", "IDR150,000", "150000"),
    ("JPY", "Asia/Tokyo", "4900", "¥4,900", "4900"),
    ("USD", "America/New_York", "49.00", "$49.00", "49.00"),
    ("EUR", "Europe/Berlin", "49.50", "€49.50", "49.50"),
    ("THB", "Asia/Bangkok", "349.50", "THB349.50", "349.50"),
]


@pytest.mark.parametrize("currency, tz, price, shown, plain", CURRENCIES)
def test_money_per_currency_on_the_pages_and_in_the_csv(client, currency, tz, price, shown, plain):
    member = MembershipFactory(shop=ShopFactory(currency=currency, time_zone=tz))
    shop = member.shop
    order = make_order(shop, lines=[(SKUFactory(shop=shop, price=Decimal(price)), 1)])
    client.force_login(member.user)
    detail = client.get(f"/s/{shop.slug}/orders/{order.number}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    listing = client.get(f"/s/{shop.slug}/orders/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert shown in detail and shown in listing
    if currency in ("VND", "IDR", "JPY"):
        assert f"{shown}.00" not in detail and f"{price}.00" not in listing
    response = client.get(f"/s/{shop.slug}/orders/export.csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert (rows[0]["total"], rows[0]["currency"]) == (plain, currency)


def test_money_and_dates_in_vietnamese_on_the_order_page(client):
    member = MembershipFactory(shop=ShopFactory(currency="VND", time_zone="Asia/Ho_Chi_Minh"))
    shop = member.shop
    placed = timezone.now().replace(hour=20, minute=5, second=0, microsecond=0) - timedelta(days=2)
    order = make_order(shop, lines=[(SKUFactory(shop=shop, price=Decimal("1250000")), 2)], placed_at=placed)
    client.force_login(member.user)
    html = client.get(f"/s/{shop.slug}/orders/{order.number}/", HTTP_ACCEPT_LANGUAGE="vi").content.decode()
    assert '<html lang="vi">' in html
    assert "2.500.000\xa0₫" in html and "1.250.000\xa0₫" in html
    local = placed.astimezone(shop.tzinfo)  # 20:05 UTC is 03:05 the next day in Ho Chi Minh City
    assert f"{local:%H:%M} {local.day} thg {local.month}, {local.year} GMT+7" in html
