"""repair_times finds the times a database took before the endpoints range-checked them,
and --fix makes every page that reads those rows work again."""

import io

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from orders.models import Order
from shipping import actions
from shipping.models import Package, TrackingEvent
from shipping.tests.factories import ACTOR, arranged, event, feed, order_to_ship, refreshed
from tests.pages import fetch_both, texts

pytestmark = pytest.mark.django_db


def run(*args):
    out = io.StringIO()
    call_command("repair_times", *args, stdout=out)
    return out.getvalue()


def _set(model, pk, column, value):
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {model._meta.db_table} SET {column} = %s WHERE id = %s", [value, pk])


@pytest.fixture
def broken(shop):
    """A parcel holding the times an unchecked carrier event left behind."""
    order = order_to_ship(shop)
    (pkg,) = arranged(order)
    actions.mark_ready(package=pkg, actor=ACTOR)
    feed(event(refreshed(pkg), "InTransit", subtag="InTransit_002"))
    ev = TrackingEvent.objects.get()
    if connection.vendor == "postgresql":
        # Stored by PostgreSQL, unreadable by psycopg: 1 BC and year 10000 in UTC.
        _set(TrackingEvent, ev.pk, "occurred_at", "9999-12-31T23:59:59-05:00")
        _set(Package, pkg.pk, "last_event_at", "0001-01-01T00:00:00+01:00")
    else:
        _set(TrackingEvent, ev.pk, "occurred_at", "10000-01-01 04:59:59")
        _set(Package, pkg.pk, "last_event_at", "1970-01-01 00:00:00")
    return order, pkg, ev


def test_repair_times_reports_then_fixes_and_the_pages_read_again(seller_client, shop, broken):
    order, pkg, ev = broken
    if connection.vendor == "postgresql":
        with pytest.raises(Exception), transaction.atomic():  # noqa: B017 - psycopg's DataError
            list(TrackingEvent.objects.filter(pk=ev.pk))
    report = run()
    assert f"shipping.TrackingEvent {ev.pk} occurred_at" in report
    assert f"shipping.Package {pkg.pk} last_event_at" in report
    assert "run with --fix" in report
    assert "repaired" in run("--fix")
    assert "No out-of-range times." in run()

    ev = TrackingEvent.objects.get(pk=ev.pk)
    assert ev.occurred_at == ev.received_at
    assert refreshed(pkg).last_event_at is not None
    for page in texts(*fetch_both(seller_client, f"/s/{shop.slug}/orders/{order.number}/", "order-main")):
        assert refreshed(pkg).tracking_number in page and 'id="shipping-panel"' in page


def test_repair_times_on_a_clean_database_changes_nothing(shop):
    order = order_to_ship(shop)
    before = Order.objects.values().get(pk=order.pk)
    assert "No out-of-range times." in run("--fix")
    assert Order.objects.values().get(pk=order.pk) == before
