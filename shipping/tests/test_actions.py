from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from core.actor import Actor
from orders.actions import ActionRefused
from orders.models import Order, OrderEvent
from shipping import actions
from shipping.models import Package, PackageEvent, Ticket, TicketEvent, TrackingEvent
from shipping.transitions import TRANSITIONS, InvalidPackageMove
from shops.tests.factories import ShopFactory, SKUFactory, UserFactory

from .factories import ACTOR, arranged, event, feed, order_to_ship, png_bytes, refreshed, ups_number

pytestmark = pytest.mark.django_db
S = Order.Status
P = Package.Status


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def two_line_order(model="PLATFORM"):
    shop = ShopFactory()
    a, b = SKUFactory(shop=shop, code="A", stock_on_hand=10), SKUFactory(shop=shop, code="B", stock_on_hand=10)
    order = order_to_ship(shop, model=model, lines=[(a, 2), (b, 1)])
    la, lb = order.lines.order_by("sku_code")
    return order, la, lb, a, b


def order_actions(order):
    return list(order.events.order_by("id").values_list("action", flat=True))


# --- every order transition via shipping -------------------------------------------------------


def test_platform_single_package_walks_the_order_from_shipment_to_delivered():
    order, la, lb, a, b = two_line_order()
    (pkg,) = arranged(order)
    pkg = refreshed(pkg)
    assert pkg.carrier == "scx" and pkg.tracking_number.startswith("SCX") and pkg.label_generated_at
    assert refreshed(order).status == S.AWAITING_SHIPMENT  # arranged, not yet ready

    actions.mark_ready(package=pkg, actor=ACTOR)
    pkg, order = refreshed(pkg), refreshed(order)
    assert order.status == S.AWAITING_COLLECTION
    assert pkg.status == P.READY and pkg.collect_by - pkg.ready_at == timedelta(hours=48)

    t0 = timezone.now()
    feed(event(pkg, "InTransit", subtag="InTransit_002", at=t0))
    pkg, order = refreshed(pkg), refreshed(order)
    assert pkg.status == P.COLLECTED and order.status == S.IN_TRANSIT
    a.refresh_from_db()
    assert (a.stock_on_hand, a.reserved) == (8, 0)  # stock left with the carrier

    feed(event(pkg, "Delivered", at=t0 + timedelta(hours=30)))
    pkg, order = refreshed(pkg), refreshed(order)
    assert pkg.status == P.DELIVERED and order.status == S.DELIVERED
    assert order.delivered_at == t0 + timedelta(hours=30)
    assert order_actions(order)[-3:] == ["arrange_shipment", "mark_in_transit", "mark_delivered"]
    carrier_events = order.events.filter(actor_kind=OrderEvent.ActorKind.CARRIER)
    assert set(carrier_events.values_list("action", flat=True)) == {"mark_in_transit", "mark_delivered"}


def test_split_order_moves_only_when_every_package_is_there():
    order, la, lb, *_ = two_line_order()
    p1, p2 = actions.create_packages(order=order, allocations=[{la.pk: 1}, {la.pk: 1, lb.pk: 1}], actor=ACTOR)
    assert [p.seq for p in (p1, p2)] == [1, 2]
    arranged(order)
    p1, p2 = refreshed(p1), refreshed(p2)
    assert p1.tracking_number != p2.tracking_number

    actions.mark_ready(package=p1, actor=ACTOR)
    assert refreshed(order).status == S.AWAITING_SHIPMENT
    actions.mark_ready(package=p2, actor=ACTOR)
    assert refreshed(order).status == S.AWAITING_COLLECTION

    feed(event(p1, "InTransit", subtag="InTransit_002"))
    assert refreshed(order).status == S.AWAITING_COLLECTION  # partially shipped
    feed(event(p2, "InTransit"))  # drop-off: the carrier's first scan is already in transit
    assert refreshed(order).status == S.IN_TRANSIT

    feed(event(p1, "Delivered"))
    assert refreshed(order).status == S.IN_TRANSIT
    feed(event(p2, "Delivered"))
    assert refreshed(order).status == S.DELIVERED


def test_seller_ships_straight_to_in_transit_with_one_history_row():
    order, *_ = two_line_order(model="SELLER")
    (pkg,) = actions.ensure_packages(order, ACTOR)
    actions.ship_package(package=pkg, carrier="ups", tracking_number=ups_number(), actor=ACTOR)
    pkg, order = refreshed(pkg), refreshed(order)
    assert pkg.status == P.COLLECTED and order.status == S.IN_TRANSIT
    assert order_actions(order)[-1] == "mark_in_transit"
    assert pkg.events.filter(action="ship", from_status=P.PACKING, to_status=P.COLLECTED).count() == 1


def test_create_packages_that_miss_a_unit_is_refused():
    order, la, lb, *_ = two_line_order()
    with pytest.raises(ActionRefused, match="every unit goes in exactly one package"):
        actions.create_packages(order=order, allocations=[{la.pk: 1}, {lb.pk: 1}], actor=ACTOR)
    assert not Package.objects.filter(order=order).exists()


def test_re_split_voids_old_packages_and_keeps_them():
    order, la, lb, *_ = two_line_order()
    (old,) = actions.ensure_packages(order, ACTOR)
    new = actions.create_packages(order=order, allocations=[{la.pk: 2}, {lb.pk: 1}], actor=ACTOR)
    assert refreshed(old).status == P.VOID
    assert [p.seq for p in new] == [2, 3]
    assert Package.objects.active().filter(order=order).count() == 2
    assert old.events.filter(action="void", to_status=P.VOID).exists()


def test_re_split_after_a_package_is_ready_is_refused():
    order, la, lb, *_ = two_line_order()
    (pkg,) = arranged(order)
    actions.mark_ready(package=pkg, actor=ACTOR)
    with pytest.raises(ActionRefused, match="awaiting collection"):
        actions.create_packages(order=order, allocations=[{la.pk: 2}, {lb.pk: 1}], actor=ACTOR)


def test_arrange_pickup_needs_an_offered_slot():
    order, *_ = two_line_order()
    with pytest.raises(ActionRefused, match="pickup time slot"):
        actions.arrange_platform_shipment(order=order, actor=ACTOR, handover="PICKUP",
                                          pickup_slot=timezone.now() + timedelta(hours=2, minutes=7))
    (pkg,) = arranged(order, handover="PICKUP")
    pkg = refreshed(pkg)
    assert pkg.handover == "PICKUP" and pkg.pickup_slot_start < pkg.pickup_slot_end


def test_arrange_for_a_seller_shipped_order_is_refused():
    order, *_ = two_line_order(model="SELLER")
    with pytest.raises(ActionRefused, match="ships by seller"):
        arranged(order)


def test_cancelled_order_does_not_move_when_the_carrier_collects_later():
    from orders import actions as order_actions

    order, *_ = two_line_order()
    (pkg,) = arranged(order)
    actions.mark_ready(package=pkg, actor=ACTOR)
    order_actions.cancel_order(order=refreshed(order), actor=Actor.policy("test"), reason="other", note="x")
    result = feed(event(refreshed(pkg), "InTransit", subtag="InTransit_002"))
    assert result.stored == 1 and result.orders_moved == 0
    assert refreshed(order).status == S.CANCELLED


# --- illegal package moves, from the table ---------------------------------------------------------


def package_in(status):
    model = "SELLER" if status == "SHIPPED_BY_SELLER" else "PLATFORM"
    order, *_ = two_line_order(model=model)
    if model == "SELLER":
        (pkg,) = actions.ensure_packages(order, ACTOR)
        return actions.ship_package(package=pkg, carrier="ups", tracking_number=ups_number(), actor=ACTOR)
    (pkg,) = arranged(order)
    if status == P.PACKING:
        return refreshed(pkg)
    actions.mark_ready(package=pkg, actor=ACTOR)
    steps = {P.COLLECTED: [("InTransit", "InTransit_002")], P.IN_TRANSIT: [("InTransit", "")],
             P.DELIVERED: [("InTransit", ""), ("Delivered", "")], P.LOST: [("InTransit", "")]}
    t = timezone.now()
    for i, (tag, sub) in enumerate(steps.get(status, [])):
        feed(event(refreshed(pkg), tag, subtag=sub, at=t + timedelta(hours=i)))
    if status == P.LOST:
        actions.mark_lost(package_ids=[pkg.pk], actor=ACTOR)
    if status == P.VOID:
        pass
    return refreshed(pkg)


REACHABLE = [P.PACKING, P.READY, P.COLLECTED, P.IN_TRANSIT, P.DELIVERED, P.LOST]
CALLS = {
    "mark_ready": lambda pkg: actions.mark_ready(package=pkg, actor=ACTOR),
    "edit_label": lambda pkg: actions.set_label_note(package=pkg, text="Fragile", actor=ACTOR),
    "add_photo": lambda pkg: actions.add_handover_photo(
        package=pkg, upload=SimpleUploadedFile("p.png", png_bytes()), actor=ACTOR),
}
ILLEGAL = [(a, s) for a in CALLS for s in REACHABLE if s not in TRANSITIONS[a][0]]


@pytest.mark.parametrize("action,status", ILLEGAL)
def test_package_action_from_illegal_status_is_refused_and_writes_nothing(action, status):
    pkg = package_in(status)
    before = PackageEvent.objects.filter(package=pkg).count()
    with pytest.raises(InvalidPackageMove) as exc:
        CALLS[action](pkg)
    assert "cannot be" in str(exc.value) and pkg.order.number in str(exc.value)
    assert refreshed(pkg).status == status
    assert PackageEvent.objects.filter(package=pkg).count() == before


@pytest.mark.parametrize("status", REACHABLE)
def test_mark_lost_moves_only_packages_with_the_carrier(status):
    pkg = package_in(status)
    moved = actions.mark_lost(package_ids=[pkg.pk], actor=Actor.policy("P6"), note="two failed attempts")
    expected = status in TRANSITIONS["mark_lost"][0]
    assert moved == (1 if expected else 0)
    pkg = refreshed(pkg)
    assert (pkg.status == P.LOST) == (expected or status == P.LOST)
    if expected:
        assert pkg.events.filter(action="mark_lost", actor_label="P6", to_status=P.LOST).count() == 1


def test_mark_delayed_sets_the_marker_once():
    pkg = package_in(P.IN_TRANSIT)
    assert actions.mark_delayed(package_ids=[pkg.pk], actor=Actor.policy("P9")) == 1
    assert actions.mark_delayed(package_ids=[pkg.pk], actor=Actor.policy("P9")) == 0
    pkg = refreshed(pkg)
    assert pkg.is_delayed and pkg.delayed_at and pkg.status == P.IN_TRANSIT
    assert pkg.events.filter(action="mark_delayed").count() == 1


# --- tracking numbers -------------------------------------------------------------------------


def seller_package():
    order, *_ = two_line_order(model="SELLER")
    return actions.ensure_packages(order, ACTOR)[0]


def test_ship_with_a_number_that_is_not_the_carriers_is_refused():
    pkg = seller_package()
    with pytest.raises(ActionRefused, match="not a UPS tracking number"):
        actions.ship_package(package=pkg, carrier="ups", tracking_number="12345", actor=ACTOR)
    assert refreshed(pkg).status == P.PACKING


def test_tracking_number_is_unique_per_carrier_within_a_shop():
    """Another shop's package with the number makes a dispute (test_disputes.py)."""
    number = ups_number()
    first = seller_package()
    actions.ship_package(package=first, carrier="ups", tracking_number=number, actor=ACTOR)
    order = order_to_ship(first.shop, model="SELLER")
    other = actions.ensure_packages(order, ACTOR)[0]
    with pytest.raises(ActionRefused, match="already on another UPS package of this shop"):
        actions.ship_package(package=other, carrier="ups", tracking_number=number.lower(), actor=ACTOR)
    # The same digits at another carrier are another parcel.
    actions.ship_package(package=other, carrier="fedex", tracking_number="123456789012", actor=ACTOR)


def test_tracking_number_corrected_once_within_72h_with_history():
    pkg = seller_package()
    first, second = ups_number(), ups_number()
    actions.ship_package(package=pkg, carrier="ups", tracking_number=first, actor=ACTOR)
    actions.correct_tracking(package=pkg, tracking_number=second, actor=ACTOR, reason="typo")
    pkg = refreshed(pkg)
    assert pkg.tracking_number == second and pkg.tracking_corrected_at
    ev = pkg.events.get(action="correct_tracking")
    assert ev.data["from"]["tracking_number"] == first and ev.data["to"]["tracking_number"] == second
    with pytest.raises(ActionRefused, match="already corrected once"):
        actions.correct_tracking(package=pkg, tracking_number=ups_number(), actor=ACTOR)


def test_tracking_correction_after_72h_is_refused():
    pkg = seller_package()
    actions.ship_package(package=pkg, carrier="ups", tracking_number=ups_number(), actor=ACTOR)
    # Time travel: the number was entered 73 hours ago.
    Package.objects.filter(pk=pkg.pk).update(tracking_set_at=timezone.now() - timedelta(hours=73))
    with pytest.raises(ActionRefused, match="within 72 h"):
        actions.correct_tracking(package=refreshed(pkg), tracking_number=ups_number(), actor=ACTOR)


# --- label text and photos -----------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "Visit https://example.com for 10% off", "www.myshop.com", "Scan the QR code for a gift",
    "Message us on WhatsApp", "Find us on Amazon", "Call +1 555 123 4567", "mail me@shop.example",
    "order again at cheapstuff.shop",
])
def test_label_note_with_links_qr_or_other_platforms_is_refused(text):
    order, *_ = two_line_order()
    (pkg,) = arranged(order)
    with pytest.raises(ActionRefused, match="may not"):
        actions.set_label_note(package=pkg, text=text, actor=ACTOR)
    assert refreshed(pkg).label_note == ""


def test_label_note_plain_text_is_kept_with_history():
    order, *_ = two_line_order()
    (pkg,) = arranged(order)
    actions.set_label_note(package=pkg, text="Fragile: glass inside. Box 1 of 1", actor=ACTOR)
    assert refreshed(pkg).label_note == "Fragile: glass inside. Box 1 of 1"
    assert pkg.events.filter(action="edit_label").count() == 1


def test_handover_photo_checked_by_content():
    order, *_ = two_line_order()
    (pkg,) = arranged(order)
    photo = actions.add_handover_photo(package=pkg, upload=SimpleUploadedFile("box.png", png_bytes()), actor=ACTOR)
    assert (photo.content_type, photo.width, photo.height) == ("image/png", 40, 30)
    with pytest.raises(ActionRefused, match="not a readable"):
        actions.add_handover_photo(package=pkg, actor=ACTOR,
                                   upload=SimpleUploadedFile("evil.jpg", b"<?php echo 1; ?>" * 10, "image/jpeg"))
    with pytest.raises(ActionRefused, match="already on this package"):
        actions.add_handover_photo(package=pkg, upload=SimpleUploadedFile("again.png", png_bytes()), actor=ACTOR)
    assert pkg.photos.count() == 1


def test_handover_photo_over_the_size_limit_is_refused(monkeypatch):
    from shipping import content

    monkeypatch.setattr(content, "MAX_PHOTO_BYTES", 100)
    order, *_ = two_line_order()
    (pkg,) = arranged(order)
    with pytest.raises(ActionRefused, match="at most"):
        actions.add_handover_photo(package=pkg, upload=SimpleUploadedFile("b.png", png_bytes((300, 300))), actor=ACTOR)


# --- complaints and force majeure ---------------------------------------------------------------


def test_complaint_only_once_the_carrier_is_late():
    order, *_ = two_line_order()
    (pkg,) = arranged(order)
    actions.mark_ready(package=pkg, actor=ACTOR)
    seller = UserFactory()
    with pytest.raises(ActionRefused, match="past its collection time"):
        actions.file_complaint(package=pkg, actor=Actor.seller(seller), description="Carrier never came by.")
    Package.objects.filter(pk=pkg.pk).update(collect_by=timezone.now() - timedelta(minutes=1))
    ticket = actions.file_complaint(package=pkg, actor=Actor.seller(seller), description="Carrier never came by.")
    assert ticket.status == Ticket.Status.OPEN and list(ticket.orders.all()) == [order]
    staff = UserFactory(is_staff=True)
    actions.rule_ticket(ticket=ticket, approve=True, actor=Actor.staff(staff), note="Carrier confirmed the miss.")
    assert list(ticket.events.values_list("action", flat=True)) == ["file", "approve"]
    assert pkg.events.filter(action="complaint_upheld").exists()


def test_force_majeure_approval_pauses_deadlines_and_stores_the_window():
    order, *_ = two_line_order()
    ship_by = order.ship_by
    seller, staff = UserFactory(), UserFactory(is_staff=True)
    now = timezone.now()
    ticket = actions.file_force_majeure(shop=order.shop, order_ids=[order.pk], actor=Actor.seller(seller),
                                        description="Flooding closed our warehouse.", event_start=now - timedelta(hours=2),
                                        event_end=now + timedelta(days=2))
    with pytest.raises(ActionRefused, match="why"):
        actions.rule_ticket(ticket=ticket, approve=False, actor=Actor.staff(staff))
    actions.rule_ticket(ticket=ticket, approve=True, actor=Actor.staff(staff), note="Confirmed by news reports.")
    ticket, order = refreshed(ticket), refreshed(order)
    assert ticket.status == Ticket.Status.APPROVED and ticket.paused_until == ticket.event_end
    assert order.deadlines_paused_until == ticket.event_end
    assert order.ship_by > ship_by
    assert order.events.filter(action="deadlines_paused").count() == 1
    with pytest.raises(ActionRefused, match="already approved"):
        actions.rule_ticket(ticket=ticket, approve=False, actor=Actor.staff(staff), note="no")
    assert TicketEvent.objects.filter(ticket=ticket).count() == 2


def test_force_majeure_for_another_shops_order_is_refused():
    order, *_ = two_line_order()
    other = ShopFactory()
    now = timezone.now()
    with pytest.raises(ActionRefused, match="not open orders of this shop"):
        actions.file_force_majeure(shop=other, order_ids=[order.pk], actor=ACTOR, description="Earthquake nearby.",
                                   event_start=now, event_end=now + timedelta(days=1))


def test_tracking_events_table_untouched_by_seller_actions():
    pkg = seller_package()
    actions.ship_package(package=pkg, carrier="ups", tracking_number=ups_number(), actor=ACTOR)
    assert TrackingEvent.objects.count() == 0


def test_mark_ready_after_the_order_was_cancelled_is_refused():
    from orders import actions as order_actions

    order, *_ = two_line_order()
    (pkg,) = arranged(order)
    order_actions.cancel_order(order=refreshed(order), actor=Actor.policy("test"), reason="other", note="x")
    with pytest.raises(ActionRefused, match="cancelled; its packages no longer ship"):
        actions.mark_ready(package=pkg, actor=ACTOR)
    assert refreshed(pkg).status == P.PACKING


def test_handover_photo_is_stored_without_its_metadata():
    from core.tests.test_images import GPS_IFD, opened, photo

    order, *_ = two_line_order()
    (pkg,) = arranged(order)
    stored = actions.add_handover_photo(package=pkg, upload=SimpleUploadedFile("box.jpg", photo("JPEG")), actor=ACTOR)
    with stored.image.open("rb") as f:
        data = f.read()
    assert stored.size == len(data) and GPS_IFD not in opened(data).getexif() and b"PhoneCo" not in data
