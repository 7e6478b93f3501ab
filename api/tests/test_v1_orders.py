"""Seller API v1, orders: keys, scopes, isolation, keyset pages, problem documents."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from api import keys
from api.models import ApiKey
from orders.tests.factories import make_order
from shops.tests.factories import ShopFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/orders"


@pytest.fixture
def key(shop):
    _, clear = keys.create_key(shop=shop, name="ERP", scopes=["orders:read"])
    return clear


def get(client, url, key=None, **params):
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return client.get(url, params, headers=headers)


def problem(response, status, code):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and body["code"] == code and body["detail"]
    return body


@pytest.mark.parametrize("auth", [None, "sc_wrong", "Bearer", "sc_" + "x" * 200, "sc_\x00"])
def test_missing_or_wrong_key_is_401(client, auth):
    r = client.get(URL, headers={"Authorization": f"Bearer {auth}"} if auth else {})
    problem(r, 401, "unauthenticated")
    assert r["WWW-Authenticate"] == "Bearer"


def test_revoked_key_is_401(client, shop):
    api_key, clear = keys.create_key(shop=shop, name="old", scopes=["orders:read"])
    assert get(client, URL, clear).status_code == 200
    keys.revoke_key(api_key=api_key)
    problem(get(client, URL, clear), 401, "unauthenticated")


def test_key_without_the_scope_is_403(client, shop):
    _, clear = keys.create_key(shop=shop, name="stock", scopes=["inventory:read"])
    assert "orders:read" in problem(get(client, URL, clear), 403, "missing_scope")["detail"]


def test_another_shops_order_is_404_and_never_listed(client, shop, key):
    other = make_order(ShopFactory())
    mine = make_order(shop)
    problem(get(client, f"{URL}/{other.number}", key), 404, "not_found")
    problem(get(client, f"{URL}/{other.number}/history", key), 404, "not_found")
    assert [o["number"] for o in get(client, URL, key).json()["items"]] == [mine.number]


def test_pages_walk_every_order_once_newest_first_with_fixed_queries(client, shop, key):
    now = timezone.now()
    orders = [make_order(shop, placed_at=now - timedelta(hours=i + 1)) for i in range(7)]
    seen, token, sizes = [], None, []
    while True:
        params = {"page_size": 3, **({"page_token": token} if token else {})}
        with CaptureQueriesContext(connection) as q:
            r = get(client, URL, key, **params)
        sizes.append(len(q))
        body = r.json()
        seen += [o["number"] for o in body["items"]]
        token = body["next_page_token"]
        if not token:
            break
    assert seen == [o.number for o in orders]
    # key + page (+ the last-use write, at most once a minute)
    assert sizes[0] <= 3 and set(sizes[1:]) == {2}, sizes


def test_filters_status_and_time_and_updated_since(client, shop, key):
    now = timezone.now()
    old = make_order(shop, placed_at=now - timedelta(days=3))
    new = make_order(shop, placed_at=now - timedelta(hours=1), paid=False)
    assert [o["number"] for o in get(client, URL, key, status="UNPAID").json()["items"]] == [new.number]
    since = (now - timedelta(days=1)).isoformat()
    assert [o["number"] for o in get(client, URL, key, created_from=since).json()["items"]] == [new.number]
    assert [o["number"] for o in get(client, URL, key, created_to=since).json()["items"]] == [old.number]
    changed = get(client, URL, key, updated_since=(now - timedelta(days=30)).isoformat()).json()["items"]
    assert [o["number"] for o in changed] == [old.number, new.number]  # oldest change first


@pytest.mark.parametrize("params", [
    {"status": "SHIPPED"}, {"page_size": 0}, {"page_size": 101}, {"page_size": "1e400"},
    {"created_from": "0001-13-01"}, {"page_size": "²"},
])
def test_invalid_parameters_are_422_with_the_field(client, key, params):
    body = problem(get(client, URL, key, **params), 422, "invalid_request")
    assert body["errors"][0]["path"] == next(iter(params))


@pytest.mark.parametrize("token", ["x", "AAAA", "W10", "WyIyMDI2LTAxLTAxIiwgMV0"])  # [] and a naive time
def test_a_forged_page_token_is_400(client, key, token):
    problem(get(client, URL, key, page_token=token), 400, "invalid_page_token")


def test_nul_in_sku_or_number_is_400(client, key):
    assert problem(get(client, URL, key, sku="A\x00"), 400, "invalid_request")["errors"][0]["path"] == "sku"
    problem(get(client, f"{URL}/A%00", key), 400, "invalid_request")


def test_order_detail_masks_the_buyer_and_history_reads_in_order(client, shop, key):
    order = make_order(shop, phone="+15550001234")
    body = get(client, f"{URL}/{order.number}", key).json()
    assert body["number"] == order.number and body["lines"][0]["quantity"] == 1
    assert body["buyer"]["phone"].endswith("1234") and "1 Market St" not in body["buyer"]["address"]
    history = get(client, f"{URL}/{order.number}/history", key).json()
    assert history[0]["actor_kind"] == "storefront" and len(history) >= 2


def test_rate_limit_answers_429_with_retry_after(client, settings, key):
    settings.API_RATE_LIMIT_PER_MINUTE = 3
    for _ in range(3):
        assert get(client, URL, key).status_code == 200
    r = get(client, URL, key)
    problem(r, 429, "rate_limited")
    assert 1 <= int(r["Retry-After"]) <= 60


def test_last_use_is_recorded(client, shop, key):
    get(client, URL, key)
    api_key = ApiKey.objects.get(shop=shop)
    assert api_key.last_used_at is not None and api_key.last_used_ip == "127.0.0.1"


def test_openapi_document_needs_no_key_and_describes_the_endpoints(client):
    doc = client.get("/api/v1/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    assert {"/api/v1/orders", "/api/v1/orders/{number}", "/api/v1/orders/{number}/history"} <= set(doc["paths"])
    assert "BearerKey" in doc["components"]["securitySchemes"]
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200 and b"cdn" not in docs.content.lower()


def test_create_api_key_command_prints_the_key_alone_on_its_last_line(shop):
    out = StringIO()
    call_command("create_api_key", shop=shop.slug, name="ERP", scopes="orders:read,orders:write", stdout=out)
    key = out.getvalue().strip().splitlines()[-1]
    assert keys.authenticate(key).scopes == ["orders:read", "orders:write"]
    assert ApiKey.objects.get().prefix == key[:keys.PREFIX_LEN] and key not in ApiKey.objects.get().key_hash


@pytest.mark.parametrize("scopes", ["orders:admin", ""])
def test_create_api_key_refuses_unknown_scopes(shop, scopes):
    from django.core.management.base import CommandError
    with pytest.raises(CommandError):
        call_command("create_api_key", shop=shop.slug, name="ERP", scopes=scopes, stdout=StringIO())
    assert not ApiKey.objects.exists()


def test_an_unknown_or_misspelt_filter_is_422(client, key):
    body = problem(get(client, URL, key, stauts="UNPAID"), 422, "invalid_request")
    assert body["errors"] == [{"path": "stauts", "message": "unknown parameter"}]


@pytest.mark.parametrize("when", ["0.5", "1700000000", "2026-01-01T00:00:00", "0001-01-01T00:00:00+01:00"])
def test_times_must_be_iso_with_an_offset(client, key, when):
    assert problem(get(client, URL, key, updated_since=when), 422, "invalid_request")["errors"][0]["path"] == "updated_since"
