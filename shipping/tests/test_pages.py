from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.when import format_when
from orders.models import Order
from orders.tests.test_html import assert_valid_html
from shipping import actions
from shipping.models import Package, Ticket
from shops.tests.factories import ShopFactory, SKUFactory
from tests.pages import assert_fragment, assert_full_page, assert_redirect, fetch_both, hx, texts

from .factories import ACTOR, arranged, event, feed, order_to_ship, png_bytes, refreshed, ups_number

pytestmark = pytest.mark.django_db
S = Order.Status
P = Package.Status
HX = hx("order-main")  # the order page's panel forms swap #order-main


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def detail(shop, order):
    return f"/s/{shop.slug}/orders/{order.number}/"


def base(shop):
    return f"/s/{shop.slug}/shipping/"


# --- the order page panel --------------------------------------------------------------


def test_order_page_shows_packages_timeline_and_is_valid_html(seller_client, shop):
    order = order_to_ship(shop)
    (pkg,) = arranged(order)
    actions.mark_ready(package=pkg, actor=ACTOR)
    feed(event(refreshed(pkg), "InTransit", subtag="InTransit_002", location="Springfield depot"))
    full, partial = fetch_both(seller_client, detail(shop, order), "order-main")
    for html in texts(full, partial):
        assert 'id="shipping-panel"' in html and refreshed(pkg).tracking_number in html
        assert "Springfield depot" in html and "Tracking timeline" in html
    assert_valid_html(full.content)


def test_unpacked_seller_order_page_has_the_tracking_field_it_asks_for(seller_client, shop):
    order = order_to_ship(shop, model="SELLER")
    html = seller_client.get(detail(shop, order)).content.decode()
    assert "enter your carrier's tracking number below" in html
    form = f'action="/s/{shop.slug}/shipping/orders/{order.number}/ship"'
    assert form in html and 'name="tracking_number"' in html.split(form, 1)[1].split("</form>", 1)[0]
    assert_valid_html(html.encode())

    # A bad number is refused in place, nothing is shipped; a good one ships one package.
    url = f"{base(shop)}orders/{order.number}/ship"
    r = seller_client.post(url, {"carrier": "ups", "tracking_number": "nope"}, headers=HX)
    assert r.status_code == 409 and not Package.objects.filter(order=order).exists()
    r = seller_client.post(url, {"carrier": "ups", "tracking_number": ""}, headers=HX)
    assert r.status_code == 400
    number = ups_number()
    r = seller_client.post(url, {"carrier": "ups", "tracking_number": number}, headers=HX)
    assert r.status_code == 200 and number in r.content.decode()
    (pkg,) = Package.objects.filter(order=order)
    assert (pkg.status, pkg.tracking_number) == (P.COLLECTED, number)
    assert refreshed(order).status == S.IN_TRANSIT
    assert pkg.events.filter(action="ship").exists() and order.events.filter(action="mark_in_transit").exists()
    # Shipped: the field is gone; a second post is refused.
    html = seller_client.get(detail(shop, order)).content.decode()
    assert f"{base(shop)}orders/{order.number}/ship" not in html
    r = seller_client.post(url, {"carrier": "ups", "tracking_number": ups_number()})
    assert r.status_code == 302 and Package.objects.filter(order=order).count() == 1


def test_unpacked_platform_order_page_offers_arrange_not_tracking(seller_client, shop):
    order = order_to_ship(shop, model="PLATFORM")
    html = seller_client.get(detail(shop, order)).content.decode()
    assert f"orders/{order.number}/ship" not in html and f"orders/{order.number}/arrange" in html
    r = seller_client.post(f"{base(shop)}orders/{order.number}/ship", {"carrier": "ups", "tracking_number": ups_number()},
                           headers=HX)
    assert r.status_code == 409 and "ships by platform" in r.content.decode()


def test_order_panel_query_count_is_fixed(seller_client, shop):
    def queries(order):
        counts = []
        for headers in ({}, HX):  # the page, and the panel htmx swaps after each action
            with CaptureQueriesContext(connection) as ctx:
                assert seller_client.get(detail(shop, order), headers=headers).status_code == 200
            counts.append(len(ctx))
        return counts

    sku = SKUFactory(shop=shop, stock_on_hand=100)
    small = order_to_ship(shop, lines=[(sku, 1)])
    arranged(small)
    big = order_to_ship(shop, lines=[(SKUFactory(shop=shop), 2), (SKUFactory(shop=shop), 2), (sku, 2)])
    lines = list(big.lines.all())
    actions.create_packages(order=big, allocations=[{lines[0].pk: 2}, {lines[1].pk: 2}, {lines[2].pk: 2}], actor=ACTOR)
    for p in arranged(big):
        actions.mark_ready(package=p, actor=ACTOR)
        for i in range(4):
            feed(event(refreshed(p), "InTransit", at=timezone.now() + timedelta(hours=i)))
        actions.add_handover_photo(package=p, upload=SimpleUploadedFile("p.png", png_bytes(color=(p.pk, 1, 2))), actor=ACTOR)
    assert queries(small) == queries(big)


def test_arrange_mark_ready_and_print_through_the_panel_non_js(seller_client, shop):
    order = order_to_ship(shop)
    slot = actions.pickup_slots(shop)[0][0]
    r = seller_client.post(f"{base(shop)}orders/{order.number}/arrange", {"handover": "PICKUP", "pickup_slot": slot.isoformat()})
    assert_redirect(r, to=detail(shop, order))
    pkg = Package.objects.get(order=order)
    assert pkg.handover == "PICKUP" and pkg.tracking_number
    for html in texts(*fetch_both(seller_client, detail(shop, order), "order-main")):
        assert pkg.tracking_number in html
    r = seller_client.post(f"{base(shop)}packages/{pkg.pk}/ready", headers=HX)
    assert "Awaiting collection" in assert_fragment(r, "order-main")
    assert "toast" in r["HX-Trigger"]
    assert refreshed(order).status == S.AWAITING_COLLECTION
    # A second "ready" is refused with the reason, status unchanged.
    r = seller_client.post(f"{base(shop)}packages/{pkg.pk}/ready", headers=HX)
    assert_fragment(r, "order-main", status=409)
    assert "cannot be marked ready" in r["HX-Trigger"]


def test_split_through_the_panel(seller_client, shop):
    a, b = SKUFactory(shop=shop), SKUFactory(shop=shop)
    order = order_to_ship(shop, lines=[(a, 2), (b, 1)])
    la, lb = order.lines.order_by("sku_code")
    r = seller_client.post(f"{base(shop)}orders/{order.number}/split",
                           {f"q-{la.pk}-1": "1", f"q-{la.pk}-2": "1", f"q-{lb.pk}-2": "1"})
    assert_redirect(r, to=detail(shop, order))
    assert list(Package.objects.filter(order=order).values_list("seq", flat=True)) == [1, 2]
    for html in texts(*fetch_both(seller_client, detail(shop, order), "order-main")):
        assert "Package 1" in html and "Package 2" in html
    r = seller_client.post(f"{base(shop)}orders/{order.number}/split", {f"q-{la.pk}-1": "1"}, headers=HX)
    assert_fragment(r, "order-main", status=409)
    assert "every unit" in r["HX-Trigger"]


def test_seller_ship_correct_photo_and_label_note_via_the_panel(seller_client, shop):
    order = order_to_ship(shop, model="SELLER")
    (pkg,) = actions.ensure_packages(order, ACTOR)
    r = seller_client.post(f"{base(shop)}packages/{pkg.pk}/label-note", {"label_note": "see www.elsewhere.com"}, headers=HX)
    assert_fragment(r, "order-main", status=400)
    assert "links" in r["HX-Trigger"]
    r = seller_client.post(f"{base(shop)}packages/{pkg.pk}/photos", {"photo": SimpleUploadedFile("x.png", b"not an image")})
    assert r.status_code == 302 and not pkg.photos.exists()
    seller_client.post(f"{base(shop)}packages/{pkg.pk}/photos", {"photo": SimpleUploadedFile("x.png", png_bytes())})
    photo = pkg.photos.get()
    r = seller_client.get(f"{base(shop)}photos/{photo.pk}")
    assert r.status_code == 200 and r["Content-Type"] == "image/png"
    number = ups_number()
    seller_client.post(f"{base(shop)}packages/{pkg.pk}/ship", {"carrier": "ups", "tracking_number": number})
    assert refreshed(order).status == S.IN_TRANSIT
    full, partial = fetch_both(seller_client, detail(shop, order), "order-main")
    assert all("Correct the tracking number" in html and number in html for html in texts(full, partial))
    assert_valid_html(full.content)
    r = seller_client.post(f"{base(shop)}packages/{pkg.pk}/correct", {"carrier": "ups", "tracking_number": ups_number()},
                           headers=HX)
    assert refreshed(pkg).tracking_corrected_at
    assert refreshed(pkg).tracking_number in assert_fragment(r, "order-main")
    assert all("Correct the tracking number" not in html
               for html in texts(*fetch_both(seller_client, detail(shop, order), "order-main")))


# --- isolation ------------------------------------------------------------------------------


def test_another_shops_packages_photos_and_tickets_are_404(seller_client, shop):
    other = ShopFactory()
    order = order_to_ship(other)
    (pkg,) = arranged(order)
    photo = actions.add_handover_photo(package=pkg, upload=SimpleUploadedFile("p.png", png_bytes()), actor=ACTOR)
    ticket = actions.file_force_majeure(shop=other, order_ids=[order.pk], actor=ACTOR, description="Storm closed roads",
                                        event_start=timezone.now(), event_end=timezone.now() + timedelta(days=1))
    for headers in ({}, HX):
        for url in [f"{base(shop)}photos/{photo.pk}", f"{base(shop)}tickets/{ticket.pk}/", detail(shop, order)]:
            assert seller_client.get(url, headers=headers).status_code == 404, url
        for url in [f"{base(shop)}packages/{pkg.pk}/ready", f"{base(shop)}orders/{order.number}/arrange",
                    f"{base(shop)}packages/{pkg.pk}/label-note"]:
            r = seller_client.post(url, {"handover": "DROP_OFF", "dropoff_point": "SCX-DP-001"}, headers=headers)
            assert r.status_code == 404, url
        assert seller_client.get(f"/s/{other.slug}/shipping/", headers={**headers, "HX-Target": "to-ship"}).status_code == 404
    assert refreshed(pkg).status == P.PACKING


# --- the shipping page: bulk entry and CSV ----------------------------------------------------------


def test_shipping_page_full_and_partial_with_fixed_queries(seller_client, shop):
    first = order_to_ship(shop, model="SELLER")
    arranged(order_to_ship(shop))

    def queries():
        counts = []
        for headers in ({}, hx("to-ship")):
            with CaptureQueriesContext(connection) as ctx:
                assert seller_client.get(base(shop), headers=headers).status_code == 200
            counts.append(len(ctx))
        return counts

    small = queries()
    full, partial = fetch_both(seller_client, base(shop), "to-ship")
    assert_valid_html(full.content)
    for html in texts(full, partial):
        assert first.number in html and f'name="tracking-o{first.number}"' in html
    assert 'id="shipping-main"' in full.content.decode() and 'id="shipping-main"' not in partial.content.decode()
    for _ in range(5):
        arranged(order_to_ship(shop))
        order_to_ship(shop, model="SELLER")
    assert queries() == small
    # htmx aimed at the page's main part (after an action) is not the to-ship list: the whole page.
    assert_full_page(seller_client.get(base(shop), headers=hx("shipping-main")))


def test_bulk_entry_ships_filled_rows_and_reports_bad_ones(seller_client, shop):
    good, bad = order_to_ship(shop, model="SELLER"), order_to_ship(shop, model="SELLER")
    r = seller_client.post(f"{base(shop)}ship", {
        f"carrier-o{good.number}": "ups", f"tracking-o{good.number}": ups_number(),
        f"carrier-o{bad.number}": "ups", f"tracking-o{bad.number}": "123",
    }, headers=hx("shipping-main"))
    html = assert_fragment(r, "shipping-main")
    assert "1 package(s) shipped; 1 row(s) refused" in html and "not a UPS tracking number" in html
    assert "toast" in r["HX-Trigger"]
    assert refreshed(good).status == S.IN_TRANSIT and refreshed(bad).status == S.AWAITING_SHIPMENT
    assert not Package.objects.filter(order=bad).exists()  # a refused row leaves nothing behind
    # Without JS the refused row is reported on the page itself (400), not lost in a redirect.
    r = seller_client.post(f"{base(shop)}ship", {f"carrier-o{bad.number}": "ups", f"tracking-o{bad.number}": "123"})
    assert "not a UPS tracking number" in assert_full_page(r, status=400)
    assert refreshed(bad).status == S.AWAITING_SHIPMENT


def csv_file(rows):
    text = "order_number,package,carrier,tracking_number\n" + "\n".join(",".join(r) for r in rows) + "\n"
    return SimpleUploadedFile("tracking.csv", text.encode(), content_type="text/csv")


def mixed_rows(shop):
    a, b = order_to_ship(shop, model="SELLER"), order_to_ship(shop, model="SELLER")
    platform = order_to_ship(shop)
    dup = ups_number()
    rows = [
        (a.number, "", "ups", dup),  # good
        (b.number, "1", "ups", dup),  # same number twice in the file
        ("NOPE-1", "", "ups", ups_number()),  # not this shop's
        (platform.number, "", "ups", ups_number()),  # ships by platform
        (b.number, "x", "ups", ups_number()),  # unreadable package number
        (b.number, "", "fedex", "12"),  # bad number for the carrier
    ]
    return a, b, rows


def test_csv_upload_all_or_nothing_applies_nothing_and_reports_every_bad_row(seller_client, shop):
    a, b, rows = mixed_rows(shop)
    r = seller_client.post(f"{base(shop)}upload", {"file": csv_file(rows), "all_or_nothing": "on"})
    html = assert_full_page(r, status=400)
    for n, why in [(3, "also on row 2"), (4, "not in this shop"), (5, "ships by platform"),
                   (6, "not a package number"), (7, "not a FedEx tracking number")]:
        assert f"row {n}" in html and why in html, (n, why)
    assert "nothing was applied" in html
    assert not Package.objects.filter(order__in=[a, b]).exists()
    assert refreshed(a).status == S.AWAITING_SHIPMENT
    r = seller_client.post(f"{base(shop)}upload", {"file": csv_file(rows), "all_or_nothing": "on"}, headers=hx("shipping-main"))
    html = assert_fragment(r, "shipping-main", status=400)
    assert "row 7" in html and "nothing was applied" in html
    assert not Package.objects.filter(order__in=[a, b]).exists()


def test_csv_upload_row_by_row_applies_good_rows_only(seller_client, shop):
    a, b, rows = mixed_rows(shop)
    r = seller_client.post(f"{base(shop)}upload", {"file": csv_file(rows)}, headers=hx("shipping-main"))
    assert "1 package(s) shipped; 5 row(s) refused" in assert_fragment(r, "shipping-main")
    assert refreshed(a).status == S.IN_TRANSIT and refreshed(b).status == S.AWAITING_SHIPMENT
    assert not Package.objects.filter(order=b).exists()


def test_csv_upload_of_good_rows_redirects(seller_client, shop):
    a = order_to_ship(shop, model="SELLER")
    b = order_to_ship(shop, model="SELLER")
    lines = list(b.lines.all())
    r = seller_client.post(f"{base(shop)}upload", {"file": csv_file([(a.number, "", "UPS", ups_number()),
                                                                     (b.number, "1", "dhl", "1234567890")]),
                                                    "all_or_nothing": "on"})
    assert_redirect(r, to=base(shop))
    assert refreshed(a).status == S.IN_TRANSIT and refreshed(b).status == S.IN_TRANSIT
    assert lines
    full, partial = fetch_both(seller_client, base(shop), "to-ship")
    assert "2 package(s) shipped" in full.content.decode()  # the message, once, on the page it lands on
    assert all(a.number not in html and b.number not in html for html in texts(full, partial))  # shipped: off the list


def test_csv_without_the_header_is_refused(seller_client, shop):
    r = seller_client.post(f"{base(shop)}upload", {"file": SimpleUploadedFile("t.csv", b"a,b\n1,2\n")})
    assert "header must name" in assert_full_page(r, status=400)
    r = seller_client.post(f"{base(shop)}upload", {"file": SimpleUploadedFile("t.csv", b"a,b\n1,2\n")},
                           headers=hx("shipping-main"))
    assert "header must name" in assert_fragment(r, "shipping-main", status=400)


# --- Manage Orders hooks ---------------------------------------------------------------------------


def test_manage_orders_filter_by_package_status_and_search_by_tracking(seller_client, shop):
    collected = order_to_ship(shop)
    arranged(collected)
    p = Package.objects.get(order=collected)
    actions.mark_ready(package=p, actor=ACTOR)
    feed(event(refreshed(p), "InTransit"))
    waiting = order_to_ship(shop)
    arranged(waiting)
    actions.mark_delayed(package_ids=[p.pk], actor=ACTOR)
    url = f"/s/{shop.slug}/orders/"
    for query in ({"package_status": "IN_TRANSIT"}, {"package_status": "delayed"}, {"q": refreshed(p).tracking_number}):
        for html in texts(*fetch_both(seller_client, url, "results", data=query)):
            assert collected.number in html and waiting.number not in html, query


# --- tickets --------------------------------------------------------------------------------------


def test_file_force_majeure_ticket_page(seller_client, shop):
    order = order_to_ship(shop)
    now = timezone.now()
    full, _ = fetch_both(seller_client, f"{base(shop)}tickets/", None)  # no partial: htmx gets the page
    assert_valid_html(full.content)
    data = {"description": "A typhoon closed the port.", "orders": f"{order.number} NOT-MINE",
            "event_start": now.strftime("%Y-%m-%dT%H:%M"), "event_end": (now + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")}
    r = seller_client.post(f"{base(shop)}tickets/", data)
    assert "NOT-MINE" in assert_full_page(r, status=400)
    data["orders"] = order.number
    r = seller_client.post(f"{base(shop)}tickets/", data)
    ticket = Ticket.objects.get()
    assert assert_redirect(r).endswith(f"/tickets/{ticket.pk}/")
    full, partial = fetch_both(seller_client, r["Location"], None)
    assert all(order.number in html and "A typhoon closed the port." in html for html in texts(full, partial))
    assert_valid_html(full.content)
    for html in texts(*fetch_both(seller_client, f"{base(shop)}tickets/", None)):
        assert f'href="{base(shop)}tickets/{ticket.pk}/">#{ticket.pk}</a>' in html


def test_force_majeure_times_are_read_in_the_shops_time_zone(seller_client, shop, client):
    """A New York seller types 09:00: that is 09:00 in New York (13:00 or 14:00 UTC), not
    09:00 UTC; staff's pause end in the admin is read, and the ticket shown, the same way."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from shops.tests.factories import UserFactory

    shop.time_zone = "America/New_York"
    shop.save(update_fields=["time_zone"])
    ny = ZoneInfo("America/New_York")
    order = order_to_ship(shop)
    start = (timezone.now() + timedelta(days=1)).astimezone(ny).replace(hour=9, minute=0, second=0, microsecond=0)
    end = start + timedelta(days=2, hours=8)  # 17:00 two days later
    page = fetch_both(seller_client, f"{base(shop)}tickets/", None)[0].content.decode()
    assert "In your shop&#x27;s time zone (America/New_York)" in page or "In your shop's time zone (America/New_York)" in page
    r = seller_client.post(f"{base(shop)}tickets/", {
        "description": "A blizzard closed the roads.", "orders": order.number,
        "event_start": start.strftime("%Y-%m-%dT%H:%M"), "event_end": end.strftime("%Y-%m-%dT%H:%M")})
    assert r.status_code == 302
    ticket = Ticket.objects.get()
    assert ticket.event_start == start and ticket.event_end == end
    assert ticket.event_start.astimezone(ZoneInfo("UTC")).hour in (13, 14)  # EDT or EST
    for page in texts(*fetch_both(seller_client, r["Location"], None)):
        # core.when's one style, in the shop's zone: "Dec 8, 2026, 9:00 AM EST".
        assert format_when(start, tz=ZoneInfo("America/New_York"), language="en") in page

    # A time the clocks skip (spring forward, 02:30 does not exist in New York) is refused, not guessed.
    gap = datetime(2031, 3, 9, 2, 30)
    r = seller_client.post(f"{base(shop)}tickets/", {
        "description": "A blizzard closed the roads.", "orders": order.number,
        "event_start": gap.strftime("%Y-%m-%dT%H:%M"), "event_end": "2031-03-10T10:00"})
    assert r.status_code == 400 and Ticket.objects.count() == 1

    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    url = f"/admin/shipping/ticket/{ticket.pk}/change/"
    page = client.get(url).content.decode()
    assert "shop&#x27;s time zone (America/New_York)" in page or "shop's time zone (America/New_York)" in page
    until = end + timedelta(days=1)
    r = client.post(url, {"decision": "approve", "note": "ok", "pause_until_0": until.strftime("%Y-%m-%d"),
                          "pause_until_1": until.strftime("%H:%M:%S"),
                          "events-TOTAL_FORMS": "0", "events-INITIAL_FORMS": "1"})
    assert r.status_code == 302, r.content.decode()[:2000]
    assert refreshed(ticket).paused_until == until
    assert refreshed(order).deadlines_paused_until == until
    assert client.get("/admin/shipping/ticket/x/change/").status_code in (302, 404)


def test_staff_rule_in_admin_approves_and_pauses(client, shop):
    from shops.tests.factories import UserFactory

    order = order_to_ship(shop)
    now = timezone.now()
    ticket = actions.file_force_majeure(shop=shop, order_ids=[order.pk], actor=ACTOR, description="Flood in the city",
                                        event_start=now, event_end=now + timedelta(days=1))
    staff = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    url = f"/admin/shipping/ticket/{ticket.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200
    body = page.content.decode()
    assert "<h1>Change ticket</h1>" in body and "Flood in the city" in body and order.number in body
    assert 'name="decision"' in body and 'name="pause_until_0"' in body
    r = client.post(url, {"decision": "reject", "note": ""})
    assert r.status_code == 200 and refreshed(ticket).status == Ticket.Status.OPEN
    assert "Say why the ticket is rejected." in r.content.decode()
    r = client.post(url, {"decision": "approve", "note": "ok", "pause_until_0": "", "pause_until_1": "",
                          "events-TOTAL_FORMS": "0", "events-INITIAL_FORMS": "1"})
    assert r.status_code == 302, r.content.decode()[:2000]
    assert refreshed(ticket).status == Ticket.Status.APPROVED
    assert refreshed(order).deadlines_paused_until == ticket.event_end
    listing = client.get("/admin/shipping/ticket/")
    assert list(listing.context["cl"].result_list) == [ticket] and "Approved" in listing.content.decode()
