"""core.params: the one place integers, ids, id lists, dates and local URLs are parsed, and
the notification page's use of it (`ids=²` was a 500)."""

from datetime import UTC, date, datetime

import pytest
from django.http import HttpRequest
from django.test import RequestFactory
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from core import params
from orders.tests.factories import make_order
from shops.models import Notification, NotificationRead

ODD = ["²", "١٢٣", "０１２", "1e400", "1_000", "7.0", "+7", "- 7", "", " ", "\x00", "\ud800", "0x10", "NaN", "∞",
       str(2**63), "9" * 40, None, [], 7.0, True]


@pytest.mark.parametrize("value", ODD)
def test_parse_id_refuses_what_is_not_an_ascii_id_in_range(value):
    assert params.parse_id(value) is None
    assert params.parse_id(value, 5) == 5


@pytest.mark.parametrize("value, expected", [("1", 1), (" 42 ", 42), (str(2**63 - 1), 2**63 - 1), (3, 3)])
def test_parse_id_takes_ascii_ids(value, expected):
    assert params.parse_id(value) == expected


def test_parse_int_bounds_and_signs():
    assert params.parse_int("-1") == -1
    assert params.parse_int("-1", lo=0) is None
    assert params.parse_int("101", hi=100) is None
    assert params.parse_int("0", lo=0, hi=0) == 0
    assert params.parse_int("9" * 20) is None  # 20 digits: more than any 64-bit integer


@given(st.text(max_size=25))
def test_parse_int_never_raises_and_agrees_with_int_on_ascii_digits(text):
    parsed = params.parse_int(text)
    if parsed is not None:
        assert parsed == int(text) and text.strip(" \t\r\n").lstrip("-").isascii()


def test_parse_ids_is_all_or_nothing():
    assert params.parse_ids(["3", "1", "3"]) == [3, 1]
    assert params.parse_ids(["1", "²"]) is None
    assert params.parse_ids(["1"] * 5, limit=4) is None
    assert params.parse_ids([]) == []


def test_require_int_is_a_400():
    from django.core.exceptions import BadRequest

    assert params.require_int("5", lo=1, hi=9, name="days") == 5
    with pytest.raises(BadRequest, match="days"):
        params.require_int("²", lo=1, hi=9, name="days")
    with pytest.raises(BadRequest):
        params.require_id("0", name="id")


@pytest.mark.parametrize("value", ["9999-12-31", "0001-01-01", "1969-12-31", "3000-01-01", "2026-02-30", "2026-1-1",
                                   "２０２６-01-01", "2026-01-01T00:00", "", None, 5])
def test_parse_date_refuses_dates_out_of_range_or_not_iso(value):
    assert params.parse_date(value) is None


def test_parse_date_takes_iso_dates_in_range():
    assert params.parse_date("2026-03-01") == date(2026, 3, 1)
    assert params.parse_date("2999-12-31") == date(2999, 12, 31)
    assert params.parse_date(date(1970, 1, 1)) == date(1970, 1, 1)


@pytest.mark.parametrize("value", ["2026-01-01T00:00:00", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-05:00",
                                   "2026-01-01T00:00:00+25:00", "x" * 100, 1e400, None, "２０２６-01-01T00:00:00Z"])
def test_parse_aware_datetime_refuses_naive_or_out_of_range(value):
    assert params.parse_aware_datetime(value) is None


def test_parse_aware_datetime_is_utc():
    assert params.parse_aware_datetime("2026-01-01T01:00:00+01:00") == datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize("value", ["9999-12-31", "0001-01-01", "3000-01-01"])
def test_bounded_date_fields_refuse_dates_a_query_cannot_shift(value):
    with pytest.raises(Exception, match="between 1970-01-01 and 2999-12-31"):
        params.DateField().clean(value)
    with pytest.raises(Exception, match="between 1970-01-01 and 2999-12-31"):
        params.DateTimeField().clean(f"{value}T23:59")


def test_local_url_keeps_this_sites_paths_only():
    request = RequestFactory().get("/")
    assert params.local_url(request, "/s/a/orders/") == "/s/a/orders/"
    assert params.local_url(request, "/s/a/orders/", prefix="/s/a/") == "/s/a/orders/"
    for bad in ["//evil.example/", "/\\evil.example", "https://evil.example/", "javascript:alert(1)", "/x\x00",
                "/x\ud800", "/x\r\nSet-Cookie: a=b", "", None, "/" + "x" * 3000, "/s/b/", "relative"]:
        assert params.local_url(request, bad, prefix="/s/a/" if bad == "/s/b/" else "/") is None, bad
    assert params.local_url(HttpRequest(), "\x00") is None


def test_number_converter_refuses_control_characters():
    converter = params.NumberConverter()
    assert converter.to_python("BOR-1") == "BOR-1"
    for bad in ("A\x00", "\x1f", "\ud800"):
        with pytest.raises(ValueError):
            converter.to_python(bad)


# --- notifications ------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("ids", [["²"], ["1", "²"], ["1e400"], [str(10**30)], ["-1"], ["\x00"]])
def test_mark_read_with_odd_ids_is_400_and_marks_nothing(seller_client, shop, ids):
    make_order(shop)
    url = reverse("shops:notifications-read", kwargs={"shop": shop.slug})
    r = seller_client.post(url, {"ids": ids})
    assert r.status_code == 400 and "nothing was marked read" in r.content.decode()
    assert not NotificationRead.objects.exists()


@pytest.mark.django_db
def test_mark_read_of_chosen_ids_and_all(seller_client, shop):
    make_order(shop)
    make_order(shop)
    first, second = Notification.objects.filter(shop=shop).order_by("pk")
    url = reverse("shops:notifications-read", kwargs={"shop": shop.slug})
    assert seller_client.post(url, {"ids": [str(first.pk)]}).status_code == 302
    assert list(Notification.objects.filter(shop=shop).unread_by(seller_client.session["_auth_user_id"])) == [second]
    seller_client.post(url)
    assert not Notification.objects.filter(shop=shop).unread_by(seller_client.session["_auth_user_id"]).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("nxt, to_next", [("/s/x/orders/", True), ("//evil.example/", False), ("/\\evil.example", False),
                                           ("https://evil.example/", False), ("/a\x00b", False)])
def test_mark_read_goes_next_only_to_this_site(seller_client, shop, nxt, to_next):
    url = reverse("shops:notifications-read", kwargs={"shop": shop.slug})
    r = seller_client.post(url, {"next": nxt})
    assert r.status_code == 302
    assert r["Location"] == (nxt if to_next else reverse("shops:notifications", kwargs={"shop": shop.slug}))
