"""Choosing the language (issue 17): the browser's Accept-Language for anyone not logged in, a
member's own setting (shops.MemberProfile) wherever they log in, the switcher, the buyer's order
language on their page and in their emails; <html lang> says which, always."""

import re
import unicodedata
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from orders.tests.factories import make_order
from returns.actions import send_return_link
from shops import language as shop_language
from shops.models import MemberProfile
from shops.tests.factories import MembershipFactory, ShopFactory, SKUFactory

pytestmark = pytest.mark.django_db
LANG = re.compile(r'<html lang="([^"]+)">')


def _lang(response):
    return LANG.search(response.content.decode()).group(1)


def test_anonymous_pages_follow_accept_language():
    client = Client()
    assert _lang(client.get("/login/", HTTP_ACCEPT_LANGUAGE="vi-VN,vi;q=0.9,en;q=0.5")) == "vi"
    assert _lang(client.get("/login/", HTTP_ACCEPT_LANGUAGE="th")) == "th"
    response = client.get("/login/", HTTP_ACCEPT_LANGUAGE="es-419,es;q=0.9")
    assert _lang(response) == "es" and response["Content-Language"] == "es"
    # A language the site does not have falls back to English.
    assert _lang(client.get("/login/", HTTP_ACCEPT_LANGUAGE="fr-FR")) == "en"
    assert _lang(client.get("/login/")) == "en"


def test_the_switcher_sets_a_cookie_for_someone_not_logged_in():
    client = Client()
    response = client.post("/language/", {"language": "id", "next": "/login/"}, HTTP_ACCEPT_LANGUAGE="vi")
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert _lang(client.get("/login/", HTTP_ACCEPT_LANGUAGE="vi")) == "id"  # the pick beats the browser
    client.post("/language/", {"language": "", "next": "/login/"})
    assert _lang(client.get("/login/", HTTP_ACCEPT_LANGUAGE="vi")) == "vi"  # back to the browser's


def test_the_switcher_refuses_an_unknown_language_and_a_foreign_next():
    client = Client()
    response = client.post("/language/", {"language": "klingon"})
    assert response.status_code == 400
    assert "Unknown language klingon" in response.content.decode()
    response = client.post("/language/", {"language": "vi", "next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/language/").status_code == 405


def test_a_member_language_follows_them_whatever_the_browser_asks():
    member = MembershipFactory()
    MemberProfile.objects.create(user=member.user, language="vi")
    client = Client()
    response = client.post("/login/", {"username": member.user.username, "password": "pw"})
    assert response.status_code == 302
    page = client.get(f"/s/{member.shop.slug}/orders/", HTTP_ACCEPT_LANGUAGE="th")
    assert page.status_code == 200 and _lang(page) == "vi"
    assert client.session[shop_language.SESSION_KEY] == "vi"


def test_a_member_changes_their_language_with_the_switcher():
    member = MembershipFactory()
    client = Client()
    client.force_login(member.user)
    url = f"/s/{member.shop.slug}/orders/"
    assert _lang(client.get(url, HTTP_ACCEPT_LANGUAGE="es")) == "es"  # no setting: the browser's
    response = client.post("/language/", {"language": "th", "next": url})
    assert response.status_code == 302 and response["Location"] == url
    assert MemberProfile.objects.get(user=member.user).language == "th"
    assert _lang(client.get(url, HTTP_ACCEPT_LANGUAGE="es")) == "th"
    # Another browser, the same member: their language comes with them at login.
    other = Client()
    other.post("/login/", {"username": member.user.username, "password": "pw"})
    assert _lang(other.get(url, HTTP_ACCEPT_LANGUAGE="id")) == "th"
    # Back to the browser's language.
    client.post("/language/", {"language": "", "next": url})
    assert MemberProfile.objects.get(user=member.user).language == ""
    assert _lang(client.get(url, HTTP_ACCEPT_LANGUAGE="es")) == "es"


def test_every_page_offers_the_switcher():
    member = MembershipFactory()
    client = Client()
    client.force_login(member.user)
    html = client.get(f"/s/{member.shop.slug}/orders/").content.decode()
    assert 'action="/language/"' in html
    html = unicodedata.normalize("NFC", html)  # Django spells "Tiếng Việt" decomposed
    for code, name in [("vi", "Tiếng Việt"), ("th", "ภาษาไทย"), ("id", "Bahasa Indonesia"), ("es", "español")]:
        assert f'value="{code}" lang="{code}"' in html and name in html
    assert 'action="/language/"' in Client().get("/login/").content.decode()


def _vn_order(**kwargs):
    shop = ShopFactory(currency="VND", time_zone="Asia/Ho_Chi_Minh")
    sku = SKUFactory(shop=shop, price=Decimal("1250000"))
    return make_order(shop, lines=[(sku, 1)], **kwargs)


def test_the_buyer_page_reads_in_the_order_language_then_the_browser():
    order = _vn_order()
    order.language = "vi"
    order.save(update_fields=["language"])
    client = Client()
    client.post("/returns/", {"number": order.number, "contact": order.buyer_email})
    page = client.get("/returns/order/", HTTP_ACCEPT_LANGUAGE="en")
    html = page.content.decode()
    assert _lang(page) == "vi"
    assert "1.250.000\xa0₫" in html  # VND: no cents, Vietnamese grouping
    # The buyer picks another language with the switcher: that wins.
    client.post("/language/", {"language": "en", "next": "/returns/order/"})
    assert _lang(client.get("/returns/order/")) == "en"
    # An order without a language: the browser's.
    other = _vn_order()
    client = Client()
    client.post("/returns/", {"number": other.number, "contact": other.buyer_email})
    assert _lang(client.get("/returns/order/", HTTP_ACCEPT_LANGUAGE="th")) == "th"


def test_buyer_emails_are_written_in_the_order_language_and_shop_time(django_capture_on_commit_callbacks):
    order = _vn_order()
    order.language = "vi"
    order.save(update_fields=["language"])
    from core.when import format_when
    from orders.language import buyer_language
    from returns.actions.notices import _email_buyer

    seen = {}

    def compose():
        from django.utils import translation
        seen["language"] = translation.get_language()
        return f"Hạn chót {format_when(order.placed_at + timedelta(days=1))}"

    with django_capture_on_commit_callbacks(execute=True):
        _email_buyer(order, "subject", compose)
    assert seen["language"] == "vi"
    body = mail.outbox[-1].body
    with buyer_language(order):
        expected = format_when(order.placed_at + timedelta(days=1))
    assert expected in body and "GMT+7" in body and "UTC" not in body
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        send_return_link(order_id=order.pk)
    assert len(mail.outbox) == 1
    assert timezone.get_current_timezone_name() == "UTC"  # the override ended with the email


def test_the_buyer_page_shows_the_address_as_its_country_writes_it():
    order = _vn_order()
    order.address_line1, order.subdistrict, order.district = "12 Nguyễn Huệ", "Phường Bến Nghé", "Quận 1"
    order.city, order.region, order.postal_code, order.country = "Thành phố Hồ Chí Minh", "", "700000", "VN"
    order.save()
    client = Client()
    client.post("/returns/", {"number": order.number, "contact": order.buyer_email})
    html = client.get("/returns/order/").content.decode()
    address = html[html.index('id="buyer-address"'):]
    address = address[:address.index("</address>")]
    assert "12 Nguyễn Huệ<br>Phường Bến Nghé<br>Quận 1<br>Thành phố Hồ Chí Minh 700000<br>VN" in address
