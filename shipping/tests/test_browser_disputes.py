"""Staff rule on a tracking number two shops entered, in admin in a browser: both shops'
evidence is on the page (orders, times, handover photos, the held events), the ruling goes
through, both packages' history has it, and the shop that lost the number sees it on its bell."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from playwright.sync_api import expect

from shipping import actions
from shipping.models import Package, TrackingDispute
from shops.models import Notification
from shops.tests.factories import MembershipFactory, UserFactory

from .factories import ACTOR, event, feed, order_to_ship, png_bytes, refreshed, ups_number

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_rule_a_disputed_tracking_number_in_admin(page, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    UserFactory(username="root", is_staff=True, is_superuser=True)
    honest, thief = MembershipFactory().shop, MembershipFactory().shop
    number = ups_number()
    early = actions.ensure_packages(order_to_ship(thief, model="SELLER"), ACTOR)[0]
    actions.set_tracking(package=early, carrier="ups", tracking_number=number, actor=ACTOR)  # the competitor's number, first
    real = actions.ensure_packages(order_to_ship(honest, model="SELLER"), ACTOR)[0]
    actions.ship_package(package=real, carrier="ups", tracking_number=number, actor=ACTOR)
    actions.add_handover_photo(package=refreshed(real), upload=SimpleUploadedFile("box.png", png_bytes()), actor=ACTOR)
    feed(event(refreshed(real), "InTransit", event_id="evt-1", location="Memphis hub"))
    dispute = TrackingDispute.objects.get()

    page.goto("/admin/login/?next=/admin/shipping/trackingdispute/")
    page.get_by_label("Username").fill("root")
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name=number).click()
    page.wait_for_url(f"**/admin/shipping/trackingdispute/{dispute.pk}/change/")

    first, second = page.locator(f"#claim-{early.pk}"), page.locator(f"#claim-{real.pk}")
    expect(first).to_contain_text(f"{thief.name} — order {early.order.number}, package 1 (had the number first)")
    expect(second).to_contain_text(f"{honest.name} — order {real.order.number}, package 1")
    expect(second).to_contain_text("Picked up")
    photo = second.get_by_role("img", name=f"Handover photo 1 of package 1, {honest.name}")
    expect(photo).to_be_visible()
    assert photo.evaluate("img => img.naturalWidth") == 40  # the photo itself, served to staff
    expect(first.get_by_role("img")).to_have_count(0)
    expect(page.locator(".module", has_text="Held carrier events (1)")).to_contain_text("Memphis hub")

    # The note is required; the page says so and nothing changes.
    page.get_by_label(f"Package 1 of order {real.order.number} ({honest.name})").check()
    page.get_by_role("button", name="Rule").click()
    expect(page.locator(".errorlist")).to_contain_text("This field is required")
    assert refreshed(early).tracking_dispute_id == dispute.pk

    page.get_by_label(f"Package 1 of order {real.order.number} ({honest.name})").check()
    page.get_by_label("Why").fill("The handover photo shows this shop's label with the number.")
    page.get_by_role("button", name="Rule").click()
    expect(page.locator(".messagelist")).to_contain_text(
        f"Ruled: package 1 of order {real.order.number} keeps it. Both shops were told.")
    expect(page.locator(".dispute-ruling")).to_contain_text("by root: package 1 of order")
    expect(page.get_by_role("button", name="Rule")).to_have_count(0)

    real, early = refreshed(real), refreshed(early)
    assert (real.tracking_number, real.status, early.tracking_number) == (number, Package.Status.IN_TRANSIT, "")
    assert real.events.get(action="tracking_kept").actor_label == "root"
    assert early.events.get(action="tracking_removed").note.startswith("The handover photo")
    assert Notification.objects.filter(shop=thief, text__contains="removed it").exists()
    assert Notification.objects.filter(shop=honest, text__contains="is yours").exists()
