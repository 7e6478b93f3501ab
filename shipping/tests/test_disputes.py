"""A tracking number two shops entered: a dispute staff rule on, the feed held meanwhile
(shipping.actions.disputes). One shop's own duplicate stays a refusal."""

import pytest
from django.utils import timezone

from core.actor import Actor
from orders.actions import ActionRefused
from shipping import actions
from shipping.actions import disputes
from shipping.models import HeldTrackingEvent, Package, TrackingDispute, TrackingEvent
from shops.models import Notification
from shops.tests.factories import ShopFactory, UserFactory

from .factories import ACTOR, event, feed, order_to_ship, refreshed, ups_number

pytestmark = pytest.mark.django_db
P = Package.Status


def seller_package(shop=None):
    order = order_to_ship(shop or ShopFactory(), model="SELLER")
    return actions.ensure_packages(order, ACTOR)[0]


def staff():
    return Actor.staff(UserFactory(is_staff=True))


def bells(package):
    return list(Notification.objects.filter(shop=package.shop_id, kind=Notification.Kind.SHIPPING)
                .values_list("text", flat=True))


@pytest.fixture
def clash():
    """Shop A shipped with a number; shop B enters the same one (the case of issue 18)."""
    number = ups_number()
    first = actions.ship_package(package=seller_package(), carrier="ups", tracking_number=number, actor=ACTOR)
    second = seller_package()
    actions.set_tracking(package=second, carrier="ups", tracking_number=number, actor=ACTOR)
    return refreshed(first), refreshed(second), number


def test_a_number_another_shop_has_is_accepted_in_dispute_and_both_shops_are_told(clash):
    first, second, number = clash
    dispute = TrackingDispute.objects.get()
    assert (dispute.carrier, dispute.tracking_number, dispute.status) == ("ups", number, TrackingDispute.Status.OPEN)
    assert first.tracking_dispute == second.tracking_dispute == dispute
    assert (first.tracking_number, second.tracking_number) == (number, number)
    claims = list(dispute.claims.values_list("package_id", "shop_id", "first"))
    assert claims == [(first.pk, first.shop_id, True), (second.pk, second.shop_id, False)]
    for pkg in (first, second):
        assert pkg.events.filter(action="tracking_disputed", data__tracking_number=number).count() == 1
        (text,) = bells(pkg)
        assert f"tracking number {number} is in dispute" in text and pkg.order.number in text


def test_the_same_number_on_two_packages_of_one_shop_stays_a_refusal():
    number = ups_number()
    first = seller_package()
    actions.set_tracking(package=first, carrier="ups", tracking_number=number, actor=ACTOR)
    second = seller_package(first.shop)
    with pytest.raises(ActionRefused, match=f"already on package 1 of order {first.order.number}"):
        actions.set_tracking(package=second, carrier="ups", tracking_number=number, actor=ACTOR)
    with pytest.raises(ActionRefused, match="already on another UPS package of this shop"):
        actions.ship_package(package=second, carrier="ups", tracking_number=number, actor=ACTOR)
    assert not TrackingDispute.objects.exists() and refreshed(second).tracking_number == ""


def test_shipping_in_bulk_with_another_shops_number_opens_the_dispute():
    number = ups_number()
    first = seller_package()
    actions.set_tracking(package=first, carrier="ups", tracking_number=number, actor=ACTOR)
    second = seller_package()
    report = actions.ship_packages(shop=second.shop, actor=ACTOR, rows=[
        actions.ShipRow("row 1", second.order.number, 1, "ups", number)])
    assert report.ok
    second = refreshed(second)
    assert second.status == P.COLLECTED and second.tracking_dispute == refreshed(first).tracking_dispute is not None


def test_a_third_shop_joins_the_open_dispute():
    number = ups_number()
    packages = [seller_package() for _ in range(3)]
    for pkg in packages:
        actions.set_tracking(package=pkg, carrier="ups", tracking_number=number, actor=ACTOR)
    dispute = TrackingDispute.objects.get()
    assert sorted(dispute.claims.values_list("package_id", flat=True)) == sorted(p.pk for p in packages)
    assert all(len(bells(p)) == 1 for p in packages)


def test_feed_events_for_a_disputed_number_move_neither_package_and_are_kept_once(clash):
    first, second, number = clash
    picked = event(first, "InTransit", subtag="InTransit_004", event_id="evt-1")
    result = feed(picked, picked, event(first, "OutForDelivery", event_id="evt-2"))
    assert (result.held, result.stored, result.moved, result.rejected) == (3, 0, 0, [])
    result = feed(picked)
    assert HeldTrackingEvent.objects.count() == 2
    assert [(refreshed(p).status, refreshed(p).last_event_at) for p in (first, second)] == [
        (P.COLLECTED, None), (P.PACKING, None)]
    assert not TrackingEvent.objects.filter(tracking_number=number).exists()


def test_the_ruling_leaves_the_number_with_one_package_and_its_held_events_apply(clash):
    first, second, number = clash
    feed(event(first, "InTransit", event_id="evt-1"), event(first, "OutForDelivery", event_id="evt-2"))
    actor = staff()
    disputes.rule(dispute=TrackingDispute.objects.get(), keep=second, actor=actor, note="B's handover photo shows the label.")
    dispute = TrackingDispute.objects.get()
    assert (dispute.status, dispute.kept_by, dispute.ruled_by) == (TrackingDispute.Status.RULED, second, actor.user)
    first, second = refreshed(first), refreshed(second)
    assert first.tracking_number == "" and first.tracking_dispute is None
    assert second.tracking_number == number and second.tracking_dispute is None
    assert second.status == P.OUT_FOR_DELIVERY and first.status == P.COLLECTED
    assert list(second.tracking_events.values_list("event_id", flat=True)) == ["evt-1", "evt-2"]
    assert set(HeldTrackingEvent.objects.values_list("released_to", flat=True)) == {second.pk}
    assert first.events.get(action="tracking_removed").note == "B's handover photo shows the label."
    assert second.events.get(action="tracking_kept").actor_label == actor.label
    assert any("is yours" in t for t in bells(second)) and any("removed it" in t for t in bells(first))
    # The feed now goes to the package that kept the number; the other may be given its own, once.
    assert feed(event(second, "Delivered", event_id="evt-3")).moved == 1
    assert first.can_correct_tracking(timezone.now())
    actions.correct_tracking(package=first, tracking_number=ups_number(), actor=ACTOR, reason="the right label")
    with pytest.raises(ActionRefused, match="already corrected once"):
        actions.correct_tracking(package=refreshed(first), tracking_number=ups_number(), actor=ACTOR)


def test_a_ruling_for_neither_removes_the_number_from_both_and_keeps_the_held_events(clash):
    first, second, number = clash
    feed(event(first, "InTransit", event_id="evt-1"))
    disputes.rule(dispute=TrackingDispute.objects.get(), keep=None, actor=staff(), note="Neither parcel matches.")
    assert [refreshed(p).tracking_number for p in (first, second)] == ["", ""]
    held = HeldTrackingEvent.objects.get()
    assert held.released_at is not None and held.released_to is None
    assert not TrackingEvent.objects.exists()
    assert feed(event(first, "InTransit", event_id="evt-9")).rejected  # no package has the number now


def test_a_ruling_needs_a_note_a_package_of_the_dispute_and_is_given_once(clash):
    first, second, number = clash
    dispute = TrackingDispute.objects.get()
    with pytest.raises(ActionRefused, match="Say why"):
        disputes.rule(dispute=dispute, keep=first, actor=staff(), note="  ")
    with pytest.raises(ActionRefused, match="not in this dispute"):
        disputes.rule(dispute=dispute, keep=seller_package(), actor=staff(), note="x")
    disputes.rule(dispute=dispute, keep=first, actor=staff(), note="A had it first.")
    with pytest.raises(ActionRefused, match="already ruled"):
        disputes.rule(dispute=dispute, keep=second, actor=staff(), note="changed my mind")
    assert refreshed(first).tracking_number == number


def test_a_disputed_number_cannot_be_corrected_away(clash):
    first, second, number = clash
    with pytest.raises(ActionRefused, match="in dispute"):
        actions.correct_tracking(package=first, tracking_number=ups_number(), actor=ACTOR)


def test_the_carrier_endpoint_answers_a_held_event(clash, client, settings):
    import json

    from core.signing import sign

    first, second, number = clash
    body = json.dumps(event(first, "InTransit", event_id="evt-1")).encode()
    r = client.post("/api/carriers/events/", body, content_type="application/json",
                    HTTP_X_SIGNATURE=sign(body, settings.CARRIER_SECRET))
    assert r.status_code == 200 and r.json() == {"stored": 0, "duplicates": 0, "moved": 0, "rejected": [], "held": 1}


# --- staff's page ---------------------------------------------------------------------------


def test_admin_shows_both_shops_evidence_and_rules(clash, admin_client, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from .factories import png_bytes

    settings.MEDIA_ROOT = str(tmp_path)
    first, second, number = clash
    photo = actions.add_handover_photo(package=first, upload=SimpleUploadedFile("box.png", png_bytes()), actor=ACTOR)
    feed(event(first, "InTransit", event_id="evt-1"))
    dispute = TrackingDispute.objects.get()
    listing = admin_client.get("/admin/shipping/trackingdispute/")
    assert listing.status_code == 200 and number in listing.content.decode()
    url = f"/admin/shipping/trackingdispute/{dispute.pk}/change/"
    page = admin_client.get(url).content.decode()
    for pkg in (first, second):
        assert f"order {pkg.order.number}, package 1" in page and pkg.shop.name in page
    assert "(had the number first)" in page and "Held carrier events (1)" in page
    photo_url = f"/admin/shipping/trackingdispute/{dispute.pk}/photos/{photo.pk}"
    assert photo_url in page
    assert admin_client.get(photo_url).status_code == 200
    refused = admin_client.post(url, {"keep": str(first.pk), "note": ""})
    assert refused.status_code == 400 and "This field is required" in refused.content.decode()
    ruled = admin_client.post(url, {"keep": str(first.pk), "note": "A's photo shows the label."}, follow=True)
    assert "Ruled: package 1 of order" in ruled.content.decode()
    assert refreshed(second).tracking_number == "" and refreshed(first).status == P.IN_TRANSIT
    assert 'name="keep"' not in ruled.content.decode()  # ruled once
    assert admin_client.post(url, {"keep": str(second.pk), "note": "again"}).status_code == 403
    assert admin_client.get(f"/admin/shipping/trackingdispute/{dispute.pk}/photos/999999").status_code == 404
    assert admin_client.get("/admin/shipping/trackingdispute/x/change/").status_code in (302, 404)


MARKER = '<span class="marker">Tracking number in dispute</span>'


def test_the_sellers_order_page_says_the_number_is_in_dispute(seller_client, shop):
    from tests.pages import fetch_both, texts

    number = ups_number()
    actions.set_tracking(package=seller_package(), carrier="ups", tracking_number=number, actor=ACTOR)
    mine = seller_package(shop)
    actions.set_tracking(package=mine, carrier="ups", tracking_number=number, actor=ACTOR)
    url = f"/s/{shop.slug}/orders/{mine.order.number}/"
    for html in texts(*fetch_both(seller_client, url, "order-main")):
        assert MARKER in html and "Correct the tracking number" not in html
    disputes.rule(dispute=TrackingDispute.objects.get(), keep=None, actor=staff(), note="Neither.")
    for html in texts(*fetch_both(seller_client, url, "order-main")):
        assert MARKER not in html and "Correct the tracking number" in html
