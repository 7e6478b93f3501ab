"""Settings → API keys: the owner creates (the key shown once), lists and revokes keys."""

import pytest

from api import keys
from api.models import ApiKey
from shops.models import Membership
from shops.tests.factories import MembershipFactory, ShopFactory
from tests.pages import assert_fragment, assert_full_page, fetch_both, hx

pytestmark = pytest.mark.django_db


def url(shop, *rest):
    return f"/s/{shop.slug}/settings/api-keys/" + "/".join(str(r) for r in rest)


def test_owner_sees_the_page_and_its_partial(seller_client, shop):
    keys.create_key(shop=shop, name="ERP", scopes=["orders:read"])
    full, partial = fetch_both(seller_client, url(shop), "key-panel")
    for r in (full, partial):
        assert "ERP" in r.content.decode() and "orders:read" in r.content.decode()
    assert "Cache-Control" in full and "no-store" in full["Cache-Control"]


def test_create_shows_the_key_once_and_it_works(seller_client, shop, client):
    r = seller_client.post(url(shop), {"name": "3PL", "scopes": ["orders:read", "fulfillment:write"]})
    body = assert_full_page(r)
    api_key = ApiKey.objects.get(shop=shop)
    clear = body.split('id="new-key-value" class="mono" readonly value="')[1].split('"')[0]
    assert keys.authenticate(clear) == api_key and api_key.created_by is not None
    assert clear not in seller_client.get(url(shop)).content.decode()  # never again
    assert api_key.scopes == ["orders:read", "fulfillment:write"]


def test_create_with_htmx_answers_the_panel(seller_client, shop):
    r = seller_client.post(url(shop), {"name": "ERP", "scopes": ["orders:read"]}, headers=hx("key-panel"))
    assert "Copy it now" in assert_fragment(r, "key-panel")


@pytest.mark.parametrize("data", [{"name": "", "scopes": ["orders:read"]}, {"name": "ERP"},
                                  {"name": "ERP", "scopes": ["orders:admin"]}, {"name": "E\x00", "scopes": ["orders:read"]}])
def test_invalid_form_is_400_in_place_and_stores_nothing(seller_client, shop, data):
    r = seller_client.post(url(shop), data, headers=hx("key-panel"))
    assert 'role="alert"' in assert_fragment(r, "key-panel", status=400)
    assert not ApiKey.objects.exists()


def test_revoke(seller_client, shop):
    api_key, clear = keys.create_key(shop=shop, name="old", scopes=["orders:read"])
    r = seller_client.post(url(shop, api_key.pk, "revoke"), headers=hx("key-panel"))
    assert "revoked" in assert_fragment(r, "key-panel")
    assert keys.authenticate(clear) is None
    assert ApiKey.objects.get().revoked_by is not None  # kept, not deleted


def test_managers_and_other_shops_cannot(client, shop):
    staff = MembershipFactory(shop=shop, role=Membership.Role.MANAGER).user
    client.force_login(staff)
    assert client.get(url(shop)).status_code == 403
    api_key, _ = keys.create_key(shop=shop, name="ERP", scopes=["orders:read"])
    assert client.post(url(shop, api_key.pk, "revoke")).status_code == 403
    other = ShopFactory()
    assert client.get(url(other)).status_code == 404
    assert ApiKey.objects.get().revoked_at is None


def test_a_key_that_prints_labels_is_made_on_the_page_and_listed(seller_client, shop):
    full, partial = fetch_both(seller_client, url(shop), "key-panel")
    for r in (full, partial):
        page = r.content.decode()
        assert 'value="buyer:full_address"' in page and "for printing labels" in page
    r = seller_client.post(url(shop), {"name": "3PL", "scopes": ["orders:read", "buyer:full_address"]},
                           headers=hx("key-panel"))
    assert "Copy it now" in assert_fragment(r, "key-panel")
    assert ApiKey.objects.get(shop=shop).scopes == ["orders:read", "buyer:full_address"]
    assert "orders:read, buyer:full_address" in seller_client.get(url(shop)).content.decode()


def test_create_api_key_takes_the_full_address_scope(shop):
    from io import StringIO

    from django.core.management import call_command
    out = StringIO()
    call_command("create_api_key", shop=shop.slug, name="3PL", scopes="orders:read,buyer:full_address", stdout=out)
    assert keys.authenticate(out.getvalue().strip().splitlines()[-1]).scopes == ["orders:read", "buyer:full_address"]
