"""Shop health: rates from the shop's own orders, packages and requests; the forecast;
the page in full and as its HTMX partial, with a fixed number of queries."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core.actor import Actor
from orders import actions as order_actions
from orders.models import Order
from orders.tests.factories import advance, make_order
from seller_center import health, policies
from shipping import actions as shipping_actions
from shipping.tests.factories import ACTOR, arranged, event, feed, order_to_ship, refreshed
from shops.tests.factories import ShopFactory, SKUFactory
from tests.pages import fetch_both, hx, texts

pytestmark = pytest.mark.django_db
S = Order.Status


def rates(shop, **kw):
    return {r.label: r for r in health.summary(shop, **kw)["rates"]}


def test_cancellation_rate_counts_only_what_the_shop_caused(shop, seller):
    orders = [make_order(shop) for _ in range(4)]
    make_order(shop, paid=False)  # unpaid: not in the denominator
    seller_actor = Actor.seller(seller)
    order_actions.cancel_order(order=orders[0], actor=seller_actor, reason="out_of_stock")
    order_actions.cancel_order(order=orders[1], actor=seller_actor, reason="buyer_requested")
    r = rates(shop, days=7)["Cancellation rate (shop-caused)"]
    assert (r.numerator, r.denominator, r.percent) == (1, 4, Decimal("25.0"))


def test_late_dispatch_rate_counts_orders_due_in_the_period_that_p2_flagged(shop, seller):
    placed = timezone.now() - timedelta(days=2)
    late = [make_order(shop, placed_at=placed) for _ in range(2)]
    shipped = make_order(shop, placed_at=placed)
    advance(shipped, S.AWAITING_COLLECTION)  # ready in time: not flagged
    early_cancel = make_order(shop, placed_at=placed)
    order_actions.cancel_order(order=early_cancel, actor=Actor.seller(seller), reason="out_of_stock")
    after = late[0].ship_by + timedelta(minutes=1)
    policies.run(as_of=after, only={"P2"})
    r = rates(shop, days=7, now=after)["Late dispatch rate"]
    # The order cancelled before its ship-by never had to ship.
    assert (r.numerator, r.denominator) == (2, 3)


def test_on_time_delivery_and_lost_rates_come_from_packages(shop):
    delivered = []
    for _ in range(2):
        (pkg,) = arranged(order_to_ship(shop))
        shipping_actions.mark_ready(package=refreshed(pkg), actor=ACTOR)
        feed(event(refreshed(pkg), "InTransit", subtag="InTransit_002", at=timezone.now()))
        delivered.append(refreshed(pkg))
    feed(event(delivered[0], "Delivered", at=timezone.now() + timedelta(minutes=5)))
    feed(event(delivered[1], "Delivered", at=delivered[1].promised_delivery_at + timedelta(hours=1)))
    summary = health.summary(shop, days=30, now=timezone.now() + timedelta(days=8))
    r = {x.label: x for x in summary["rates"]}
    assert (r["On-time delivery rate"].numerator, r["On-time delivery rate"].denominator) == (1, 2)
    assert (r["Lost rate"].numerator, r["Lost rate"].denominator) == (0, 2)
    assert summary["handling"] is not None


def test_weekly_series_has_every_week_and_the_current_one(shop, seller):
    make_order(shop)
    weeks = health.weekly(shop)
    assert len(weeks) == health.WEEKS
    assert weeks[-1]["paid"] == 1 and all(w["paid"] == 0 for w in weeks[:-1])
    assert weeks[-1]["cancellation"] == Decimal("0.0") and weeks[0]["cancellation"] is None


def test_forecast_from_four_weeks_of_sales_with_a_restock_hint(shop):
    fast = SKUFactory(shop=shop, code="FAST", stock_on_hand=200)
    slow = SKUFactory(shop=shop, code="SLOW", stock_on_hand=200)
    now = timezone.now()
    for day in range(28):
        make_order(shop, lines=[(fast, 1)], placed_at=now - timedelta(days=day, hours=1))
    make_order(shop, lines=[(slow, 1)], placed_at=now - timedelta(days=3))
    make_order(shop, lines=[(slow, 5)], placed_at=now - timedelta(days=40))  # too old to count
    fast.refresh_from_db()
    fast.stock_on_hand = fast.reserved + 10  # 10 available
    fast.save(update_fields=["stock_on_hand"])
    rows = {f.code: f for f in health.forecast(shop, now=now)}
    assert (rows["FAST"].sold, rows["FAST"].expected, rows["FAST"].available) == (28, 14, 10)
    assert rows["FAST"].cover_days == 10.0 and rows["FAST"].restock == 18
    assert rows["SLOW"].sold == 1 and rows["SLOW"].restock == 0
    assert [f.code for f in health.forecast(shop, now=now)][0] == "FAST"  # shortest cover first


def url(shop, **query):
    base = reverse("shop_health", kwargs={"shop": shop.slug})
    return base + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def test_health_page_full_and_partial(seller_client, shop):
    make_order(shop)
    full, partial = fetch_both(seller_client, url(shop), "health-summary")
    html, body = texts(full, partial)
    assert "Shop health" in html and "Late dispatch rate" in html and "Demand forecast" in html
    assert 'aria-current="page"\n       hx-get="?days=30"' in html
    assert "Late dispatch rate" in body and "Demand forecast" not in body  # the rates only: the period's pills swap them
    assert 'aria-label="Rates over the last 30 days"' in body
    full, partial = fetch_both(seller_client, url(shop, days=7), "health-summary")
    assert all('aria-label="Rates over the last 7 days"' in body for body in texts(full, partial))
    for body in texts(*fetch_both(seller_client, url(shop, days="nonsense"), "health-summary")):  # falls back to 30 days
        assert 'aria-label="Rates over the last 30 days"' in body


def test_health_page_query_count_is_fixed(seller_client, shop, settings):
    settings.HEALTH_CACHE_SECONDS = 0

    def count():
        counts = []
        for headers in ({}, hx("health-summary")):
            with CaptureQueriesContext(connection) as q:
                assert seller_client.get(url(shop), headers=headers).status_code == 200
            counts.append(len(q.captured_queries))
        return counts

    make_order(shop)
    few = count()
    for _ in range(6):
        make_order(shop, lines=[(SKUFactory(shop=shop), 2)])
    assert count() == few


def test_another_shops_health_is_not_found(seller_client, shop):
    other = ShopFactory()
    make_order(other)
    assert seller_client.get(url(other)).status_code == 404
    assert seller_client.get(url(other), headers=hx("health-summary")).status_code == 404


def test_health_figures_are_computed_once_per_period_then_served_from_the_cache(seller_client, shop):
    make_order(shop)

    def get(**query):
        with CaptureQueriesContext(connection) as q:
            response = seller_client.get(url(shop, **query))
        assert response.status_code == 200 and "Figures as of" in response.content.decode()
        return len(q.captured_queries), response.content.decode()

    first, page = get()
    again, cached = get()
    assert again < first  # the page's own queries only: session, user, shops, bell
    make_order(shop)
    assert "0 of 1" in cached and "0 of 2" not in get()[1]  # the same figures until they expire
    partial = seller_client.get(url(shop), headers=hx("health-summary")).content.decode()
    assert "0 of 1" in partial and "0 of 2" not in partial  # the partial reads the same cached figures
    # Another period computes its rates only: the weeks and the forecast do not depend on it.
    assert again < get(days=7)[0] < first


@pytest.mark.parametrize("days", ["²", "٣٠", "1e400", "-7", str(10**30), "\x00", "7.0", ""])
def test_health_page_with_odd_days_shows_30_days(seller_client, shop, days):
    from urllib.parse import quote

    for headers in ({}, {"HX-Request": "true"}):
        r = seller_client.get(f"/s/{shop.slug}/health/?days={quote(days)}", headers=headers)
        assert r.status_code == 200
        if not headers:
            assert r.context["days"] == 30
