import pytest
from django.core.management import call_command
from django.test import Client

from orders.models import Order, OrderEvent, OrderLine
from orders.tests.test_actions import counts_match_group_by
from shops.models import SKU, Shop
from tests.pages import assert_full_page, fetch_both

pytestmark = pytest.mark.django_db


def snapshot():
    return {
        "shops": list(Shop.objects.order_by("slug").values_list("slug", flat=True)),
        "orders": list(Order.objects.order_by("number").values_list("number", "status", "total")),
        "lines": OrderLine.objects.count(),
        "events": OrderEvent.objects.count(),
        "stock": list(SKU.objects.order_by("shop__slug", "code").values_list("code", "stock_on_hand", "reserved")),
    }


def test_seed_demo_twice_yields_the_same_data():
    from seller_center.demo import seed

    seed(scale=0.2)
    first = snapshot()
    seed(scale=0.2)
    assert snapshot() == first
    assert {s for _, s, _ in first["orders"]} == set(Order.Status.values)
    assert counts_match_group_by()
    # Every status was reached through the actions: each order's history ends in its status.
    for order in Order.objects.all()[:60]:
        assert order.events.order_by("id").last().to_status == order.status


@pytest.mark.django_db(transaction=True)  # seed_demo's own commit hands its emails over, as in `make run`
def test_seed_demo_logins_work(settings, capsys):
    from io import StringIO

    from django.core import mail

    # As `make run` seeds: the console backend, which would print every email of the story.
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    settings.RETURNS_PUBLIC_BASE_URL = "http://127.0.0.1:8765"
    out = StringIO()
    call_command("seed_demo", stdout=out)  # the command itself, at full size
    printed = capsys.readouterr()
    assert "Subject:" not in printed.out + printed.err and mail.outbox == []
    summary = out.getvalue().splitlines()
    assert len(summary) <= 11, summary
    assert summary[0].startswith("Demo ready: 480 new orders")  # 160 in each of the three shops
    assert "http://127.0.0.1:8765/" in summary[2] and "http://127.0.0.1:8765/admin/" in summary[7]
    assert "notification emails of the demo's story were not sent" in summary[-1]
    # After seeding, the site's email backend is the configured one again.
    from django.core.mail import get_connection
    assert type(get_connection()).__module__ == "django.core.mail.backends.console"
    for username in ("alice", "carol", "dave", "bob", "minh"):
        client = Client()
        response = client.post("/login/", {"username": username, "password": "demo"})
        assert response.status_code == 302, response.content[:500]
        landing = client.get("/", follow=True)
        # minh reads Vietnamese: his Manage Orders page says so.
        assert ("Quản lý đơn hàng" if username == "minh" else "Manage orders") in assert_full_page(landing)
        fetch_both(client, landing.redirect_chain[-1][0], "results")  # the demo's orders list, page and rows
    from shops.models import Membership

    roles = dict(Membership.objects.filter(shop__slug="aurora-apparel").values_list("user__username", "role"))
    assert roles == {"alice": "owner", "carol": "fulfilment", "dave": "customer_service"}
    staff = Client()
    response = staff.post("/admin/login/", {"username": "staff", "password": "demo", "next": "/admin/"})
    assert response.status_code == 302
    assert staff.get("/admin/").status_code == 200


def test_check_deploy_is_clean_with_production_variables(monkeypatch):
    import subprocess
    import sys

    env = {
        "DEBUG": "false",
        "SECRET_KEY": "x" * 20 + "a-long-random-production-secret-key-0123456789",
        "STOREFRONT_SECRET": "prod-storefront-0123456789abcdefghij",
        "CARRIER_SECRET": "prod-carrier-0123456789abcdefghijklm",
        "ALLOWED_HOSTS": "seller.example.com",
        "PATH": "/usr/bin:/bin",
    }
    out = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=env, capture_output=True, text=True,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    env["SECRET_KEY"] = ""
    env.pop("SECRET_KEY")
    out = subprocess.run([sys.executable, "manage.py", "check", "--deploy"], env=env, capture_output=True, text=True)
    assert out.returncode != 0 and "sc.E001" in out.stdout + out.stderr


def test_seed_demo_history_reads_at_the_times_of_the_story():
    """The demo tells each order's story in the past: the history starts when the order was
    placed, runs forward, and never reaches past the present (orders, packages)."""
    from django.db.models import F
    from django.utils import timezone

    from seller_center.demo import seed
    from shipping.models import PackageEvent

    seed(scale=0.2)
    now = timezone.now()
    assert not OrderEvent.objects.filter(at__lt=F("order__placed_at")).exists()
    assert not OrderEvent.objects.filter(at__gt=now).exists()
    assert not PackageEvent.objects.filter(at__lt=F("package__order__placed_at")).exists()
    assert not PackageEvent.objects.filter(at__gt=now).exists()
    for order in Order.objects.all():
        rows = list(order.events.order_by("id").values_list("action", "at"))
        assert rows[0] == ("place", order.placed_at)
        assert [at for _, at in rows] == sorted(at for _, at in rows), order.number
        if order.paid_at:
            assert dict(rows)["pay"] == order.paid_at <= now
        if order.confirmed_at:
            assert dict(rows)["confirm"] == order.confirmed_at
        assert order.status_changed_at == rows[-1][1]


def test_the_demo_has_a_vietnamese_shop_in_dong_whose_seller_reads_vietnamese():
    from seller_center.demo import seed
    from shops.models import MemberProfile

    seed(scale=0.1)
    shop = Shop.objects.get(slug="lua-sai-gon")
    assert (shop.currency, shop.time_zone, shop.name) == ("VND", "Asia/Ho_Chi_Minh", "Lụa Sài Gòn")
    assert MemberProfile.objects.get(user__username="minh").language == "vi"
    orders = list(Order.objects.filter(shop=shop))
    assert orders and all(o.country == "VN" and o.district and o.subdistrict and o.language == "vi" for o in orders)
    assert any(not o.buyer_name.isascii() for o in orders)  # Vietnamese names, with their diacritics
    assert all(o.total == o.total.to_integral_value() for o in orders)  # dong have no decimals
    client = Client()
    assert client.post("/login/", {"username": "minh", "password": "demo"}).status_code == 302
    page = client.get(f"/s/{shop.slug}/orders/", HTTP_ACCEPT_LANGUAGE="en-US")
    html = page.content.decode()
    assert '<html lang="vi">' in html and "\xa0₫" in html
