"""Combine Package: one buyer's orders in one box, one label; each order follows the box."""

import io
from datetime import timedelta

import pytest
from django.utils import timezone
from pypdf import PdfReader

from orders.models import Order
from shipping import actions, labels
from shipping.models import Package, PackageEvent, TrackingEvent
from shops import policy_windows
from shops.models import ShopEvent
from shops.tests.factories import SKUFactory
from tests.pages import hx

from .factories import ACTOR, arranged, event, feed, order_to_ship, refreshed

pytestmark = pytest.mark.django_db
S = Order.Status
P = Package.Status


def _pair(shop, **kw):
    mug, cup = SKUFactory(shop=shop, code="MUG-1", stock_on_hand=50), SKUFactory(shop=shop, code="CUP-2", stock_on_hand=50)
    a = order_to_ship(shop, lines=[(mug, 1)], email="robin@example.com", **kw)
    b = order_to_ship(shop, lines=[(cup, 2)], email="Robin@Example.com", **kw)
    return a, b


def _combined(shop):
    a, b = _pair(shop)
    parcel = actions.combine_orders(shop=shop, order_ids=[a.pk, b.pk], actor=ACTOR)
    return a, b, parcel


def test_combine_puts_both_orders_in_one_package_with_one_label(shop):
    a, b, parcel = _combined(shop)
    assert parcel.order_id == a.pk
    member = Package.objects.get(order=b)
    assert member.parcel_id == parcel.pk
    assert set(PackageEvent.objects.filter(action="combine").values_list("package_id", flat=True)) == {parcel.pk, member.pk}
    # Arranged together: one number, both packages.
    result = actions.arrange_orders(shop=shop, order_ids=[a.pk, b.pk], actor=ACTOR, handover="DROP_OFF",
                                    dropoff_point="SCX-DP-001")
    assert {o.pk for o in result.done} == {a.pk, b.pk} and not result.refused
    parcel, member = refreshed(parcel), refreshed(member)
    assert parcel.tracking_number and member.tracking_number == parcel.tracking_number
    assert member.dropoff_point == "SCX-DP-001"
    # The print queue has the parcel only; its label lists both orders and every item.
    queue = list(Package.objects.for_shop(shop).print_queue("label"))
    assert queue == [parcel]
    (text,) = [p.extract_text() for p in PdfReader(io.BytesIO(labels.render(
        labels.packages_for_print(Package.objects.filter(pk=parcel.pk)), kind="label", size="4x6"))).pages]
    assert a.number in text and b.number in text and "MUG-1" in text and "CUP-2" in text
    job = actions.record_print(shop=shop, packages=[parcel], kind="label", size="4x6", actor=ACTOR)
    assert job.package_count == 1 and refreshed(member).label_printed_at is not None
    # Ready together: both orders await collection, with the same P3 deadline.
    actions.mark_ready(package=parcel, actor=ACTOR)
    parcel, member = refreshed(parcel), refreshed(member)
    assert member.status == P.READY and member.collect_by == parcel.collect_by
    assert refreshed(a).status == refreshed(b).status == S.AWAITING_COLLECTION


def test_carrier_events_move_every_order_in_the_combined_package(shop):
    a, b, parcel = _combined(shop)
    actions.arrange_platform_shipment(order=a, actor=ACTOR, handover="DROP_OFF", dropoff_point="SCX-DP-001")
    actions.mark_ready(package=refreshed(parcel), actor=ACTOR)
    parcel = refreshed(parcel)
    member = Package.objects.get(order=b)
    assert member.tracking_number == parcel.tracking_number
    now = timezone.now()
    feed(event(parcel, "InTransit", subtag="InTransit_002", at=now - timedelta(minutes=30)))
    assert refreshed(a).status == refreshed(b).status == S.IN_TRANSIT
    assert refreshed(member).status == P.COLLECTED and refreshed(member).collected_at == refreshed(parcel).collected_at
    # The event is stored once (the parcel's) and the member's order page shows it.
    assert TrackingEvent.objects.count() == 1
    assert ShopEvent.objects.filter(object_type="package", object_id=member.pk, action="carrier_event").exists()
    feed(event(parcel, "AttemptFail", at=now - timedelta(minutes=20)))
    assert refreshed(member).failed_attempts == 1  # P6 counts the same attempts for each order
    feed(event(parcel, "Delivered", at=now - timedelta(minutes=10)))
    assert refreshed(a).status == refreshed(b).status == S.DELIVERED


def test_policies_treat_each_combined_order_like_its_box(shop):
    from shipping import policies

    a, b, parcel = _combined(shop)
    actions.arrange_platform_shipment(order=a, actor=ACTOR, handover="PICKUP",
                                      pickup_slot=actions.pickup_slots(shop)[0][0])
    actions.mark_ready(package=refreshed(parcel), actor=ACTOR)
    later = timezone.now() + timedelta(hours=49)
    late = Package.objects.late_to_collect(later)
    assert set(late.values_list("order_id", flat=True)) == {a.pk, b.pk}
    flagged = actions.flag_late_collection(package_ids=list(late.values_list("pk", flat=True)), actor=ACTOR, at=later)
    assert flagged == 2
    # P9: both past the promised date once collected, both Delayed in one run.
    feed(event(refreshed(parcel), "InTransit", subtag="InTransit_002", at=timezone.now() - timedelta(minutes=5)))
    assert set(Package.objects.filter(order__in=[a, b]).values_list("status", flat=True)) == {P.COLLECTED}
    far = timezone.now() + timedelta(days=30)
    assert policies.mark_delayed(as_of=far, window=policy_windows.window("P9")) == 2
    assert set(Package.objects.filter(order__in=[a, b]).values_list("is_delayed", flat=True)) == {True}
    # P7 reads each order's placing time; the box is lost at the first, with every order in it.
    Order.objects.filter(pk=b.pk).update(placed_at=timezone.now())
    p7 = policy_windows.window("P7")
    assert policies.lost_unacknowledged(as_of=refreshed(a).placed_at + p7.delta + timedelta(minutes=1), window=p7) == 2
    assert set(Package.objects.filter(order__in=[a, b]).values_list("status", flat=True)) == {P.LOST}


def test_combine_is_refused_for_another_buyer_a_split_a_printed_label_or_one_order(shop):
    a, b = _pair(shop)
    other = order_to_ship(shop, email="someone@example.com")
    with pytest.raises(actions.ActionRefused, match="same buyer to the same address"):
        actions.combine_orders(shop=shop, order_ids=[a.pk, other.pk], actor=ACTOR)
    with pytest.raises(actions.ActionRefused, match="at least two"):
        actions.combine_orders(shop=shop, order_ids=[a.pk], actor=ACTOR)
    seller = order_to_ship(shop, model="SELLER", email="robin@example.com")
    with pytest.raises(actions.ActionRefused, match="ships by seller"):
        actions.combine_orders(shop=shop, order_ids=[a.pk, seller.pk], actor=ACTOR)
    (pkg,) = arranged(b)
    actions.record_print(shop=shop, packages=[pkg], kind="label", size="4x6", actor=ACTOR)
    with pytest.raises(actions.ActionRefused, match="label of order .* is printed; void it first"):
        actions.combine_orders(shop=shop, order_ids=[a.pk, b.pk], actor=ACTOR)
    # Voided, it combines (the old number is replaced).
    old = refreshed(pkg).tracking_number
    actions.void_label(package=pkg, actor=ACTOR)
    assert refreshed(pkg).tracking_number != old and refreshed(pkg).label_printed_at is None
    parcel = actions.combine_orders(shop=shop, order_ids=[a.pk, b.pk], actor=ACTOR)
    assert parcel.pk == pkg.pk  # the arranged one is the parcel
    line = a.lines.get()
    with pytest.raises(actions.ActionRefused, match="uncombine it before splitting"):
        actions.create_packages(order=a, allocations=[{line.pk: 1}], actor=ACTOR)
    assert not Order.objects.filter(pk__in=[a.pk, b.pk]).exclude(status=S.AWAITING_SHIPMENT).exists()


def test_a_combined_member_is_marked_ready_and_arranged_only_with_its_parcel(shop):
    a, b, parcel = _combined(shop)
    with pytest.raises(actions.ActionRefused, match="travels in a combined package"):
        actions.arrange_platform_shipment(order=b, actor=ACTOR, handover="DROP_OFF", dropoff_point="SCX-DP-001")
    result = actions.arrange_orders(shop=shop, order_ids=[b.pk], actor=ACTOR, handover="DROP_OFF",
                                    dropoff_point="SCX-DP-001")
    # The member alone is refused, naming the order whose package it travels in.
    assert not result.done and f"combined package of order {a.number}; select that order" in str(result.refused[b.number])
    # The parcel's order brings the member along: the box is arranged once, both orders reported.
    result = actions.arrange_orders(shop=shop, order_ids=[a.pk], actor=ACTOR, handover="DROP_OFF",
                                    dropoff_point="SCX-DP-001")
    assert {o.pk for o in result.done} == {a.pk, b.pk}
    member = Package.objects.get(order=b)
    with pytest.raises(actions.ActionRefused):
        actions.mark_ready(package=member, actor=ACTOR)


def test_uncombine_gives_each_order_its_own_label_again(shop):
    a, b, parcel = _combined(shop)
    actions.arrange_platform_shipment(order=a, actor=ACTOR, handover="DROP_OFF", dropoff_point="SCX-DP-001")
    member = Package.objects.get(order=b)
    actions.record_print(shop=shop, packages=[refreshed(parcel)], kind="label", size="4x6", actor=ACTOR)
    with pytest.raises(actions.ActionRefused, match="void it first"):
        actions.uncombine(package=member, actor=ACTOR)
    actions.void_label(package=member, actor=ACTOR)  # the member's button voids its parcel's label
    left = actions.uncombine(package=member, actor=ACTOR)
    member, parcel = refreshed(member), refreshed(parcel)
    assert [p.pk for p in left] == [member.pk] and member.parcel_id is None
    assert member.tracking_number and member.tracking_number != parcel.tracking_number
    assert member.events.filter(action="uncombine").exists()
    actions.mark_ready(package=member, actor=ACTOR)
    assert refreshed(b).status == S.AWAITING_COLLECTION and refreshed(a).status == S.AWAITING_SHIPMENT


def test_combine_page_and_order_panel(seller_client, shop):
    a, b = _pair(shop)
    url = f"/s/{shop.slug}/shipping/combine"
    r = seller_client.post(url, {"order": [a.pk, b.pk]}, headers=hx("shipping-main"))
    assert r.status_code == 200 and "Orders combined" in r["HX-Trigger"]
    r = seller_client.post(url, {"order": [a.pk]}, headers=hx("shipping-main"))
    assert r.status_code == 400 and "at least two orders" in r["HX-Trigger"]
    html = seller_client.get(f"/s/{shop.slug}/orders/{b.number}/").content.decode()
    assert f"Travels in the package of order {a.number}" in html and "Ship in its own package" in html
    html = seller_client.get(f"/s/{shop.slug}/orders/{a.number}/").content.decode()
    assert "Also carries order" in html and b.number in html
    member = Package.objects.get(order=b)
    r = seller_client.post(f"/s/{shop.slug}/shipping/packages/{member.pk}/uncombine", headers=hx("order-main"))
    assert r.status_code == 200 and refreshed(member).parcel_id is None
