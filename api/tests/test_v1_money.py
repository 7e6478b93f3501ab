"""Seller API v1: amounts are decimal strings at their currency's precision, beside the code:
"49.00" USD, "1250000" VND, "4900" JPY (issue 17)."""

from decimal import Decimal

import pytest

from api import keys
from orders.tests.factories import make_order
from shops.tests.factories import ShopFactory, SKUFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("currency, price, total, unit", [
    ("USD", "24.50", "49.00", "24.50"),
    ("EUR", "24.50", "49.00", "24.50"),
    ("THB", "174.75", "349.50", "174.75"),
    ("VND", "625000", "1250000", "625000"),
    ("IDR", "75000", "150000", "75000"),
    ("JPY", "2450", "4900", "2450"),
])
def test_amounts_are_strings_in_the_currency_precision(client, currency, price, total, unit):
    shop = ShopFactory(currency=currency)
    order = make_order(shop, lines=[(SKUFactory(shop=shop, price=Decimal(price)), 2)])
    _, key = keys.create_key(shop=shop, name="ERP", scopes=["orders:read"])
    auth = {"Authorization": f"Bearer {key}"}
    listed = client.get("/api/v1/orders", headers=auth).json()["items"][0]
    assert (listed["total"], listed["currency"]) == (total, currency)
    detail = client.get(f"/api/v1/orders/{order.number}", headers=auth).json()
    assert detail["total"] == total and detail["lines"][0]["unit_price"] == unit
    assert detail["refunded_total"] == ("0.00" if currency in ("USD", "EUR", "THB") else "0")


def test_the_schema_says_amounts_are_decimal_strings(client):
    schema = client.get("/api/v1/openapi.json").json()
    total = schema["components"]["schemas"]["OrderSummary"]["properties"]["total"]
    assert total["type"] == "string" and "1250000" in total["examples"]
