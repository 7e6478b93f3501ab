"""Odd parameters on the shipping pages are a 4xx (or ignored) and change nothing: the cases
issue 11 found as 500s (`after=²`, `q-<line>-1=²`, a field named `tracking-p²`, a CSV package
of `²`, `size=ZZ` on reprint and the PrintJob it stored)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from core import params
from orders.models import Order
from shipping import actions
from shipping.forms import PrintForm
from shipping.models import Package, PackageEvent, PrintJob
from tests.pages import fetch_both, texts

from .factories import ACTOR, arranged, order_to_ship, refreshed, ups_number

pytestmark = pytest.mark.django_db
S = Order.Status
HX = {"HX-Request": "true"}
ODD_INTS = ["²", "١٢٣", "1e400", "-1", "0", str(2**63), str(10**30), "1_0", "\x00", "7.0"]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def base(shop):
    return f"/s/{shop.slug}/shipping/"


@pytest.mark.parametrize("after", ODD_INTS)
def test_shipping_page_with_an_odd_after_shows_the_first_page(seller_client, shop, after):
    order = order_to_ship(shop, model="SELLER")
    for headers in ({}, {**HX, "HX-Target": "to-ship"}):
        r = seller_client.get(base(shop), {"after": after}, headers=headers)
        assert r.status_code == 200 and order.number in r.content.decode()


def test_shipping_page_after_pages_on(seller_client, shop):
    first = order_to_ship(shop, model="SELLER")
    for html in texts(*fetch_both(seller_client, base(shop), "to-ship")):
        assert f'name="tracking-o{first.number}"' in html
    for html in texts(*fetch_both(seller_client, base(shop), "to-ship", data={"after": str(first.pk)})):
        assert f'name="tracking-o{first.number}"' not in html  # the page after the last order: empty


@pytest.mark.parametrize("value", ODD_INTS + ["", "1 1", "+1"])
def test_split_with_an_odd_quantity_is_400_and_splits_nothing(seller_client, shop, value):
    order = order_to_ship(shop)
    (line,) = order.lines.all()
    for headers in ({}, HX):
        r = seller_client.post(f"{base(shop)}orders/{order.number}/split", {f"q-{line.pk}-1": value}, headers=headers)
        if value in ("", "0"):
            assert r.status_code in (302, 409)  # nothing to split, refused by the action
        else:
            assert r.status_code == (400 if headers else 302)
            if headers:
                assert "whole numbers" in r["HX-Trigger"]
    assert not Package.objects.filter(order=order).exists()


@pytest.mark.parametrize("key", ["tracking-p²", "tracking-p1e400", f"tracking-p{2**63}", "tracking-p-1", "tracking-x",
                                 "tracking-o", "tracking-o\x00"])
def test_bulk_ship_with_an_odd_field_name_reports_it_and_ships_the_rest(seller_client, shop, key):
    good = order_to_ship(shop, model="SELLER")
    r = seller_client.post(f"{base(shop)}ship", {key: ups_number(), f"carrier-o{good.number}": "ups",
                                                 f"tracking-o{good.number}": ups_number()}, headers=HX)
    assert r.status_code == 200
    assert "Not a package or order field" in r.content.decode()
    assert refreshed(good).status == S.IN_TRANSIT
    r = seller_client.post(f"{base(shop)}ship", {key: ups_number()}, headers=HX)
    assert r.status_code == 400 and "Not a package or order field" in r.content.decode()


def test_bulk_ship_by_package_id_still_works(seller_client, shop):
    order = order_to_ship(shop, model="SELLER")
    (pkg,) = actions.ensure_packages(order, ACTOR)
    r = seller_client.post(f"{base(shop)}ship", {f"tracking-p{pkg.pk}": ups_number(), f"carrier-p{pkg.pk}": "ups"},
                           headers=HX)
    assert r.status_code == 200 and refreshed(order).status == S.IN_TRANSIT


def csv_upload(text):
    return SimpleUploadedFile("tracking.csv", text.encode("utf-8"), content_type="text/csv")


@pytest.mark.parametrize("package", ["²", "١", "1e400", str(2**63), "-1", "0", "21", "1.0"])
def test_csv_with_an_odd_package_number_reports_the_row(seller_client, shop, package):
    order = order_to_ship(shop, model="SELLER")
    text = f"order_number,package,carrier,tracking_number\n{order.number},{package},ups,{ups_number()}\n"
    r = seller_client.post(f"{base(shop)}upload", {"file": csv_upload(text)}, headers=HX)
    assert r.status_code == 400
    assert "not a package number" in r.content.decode()
    assert not Package.objects.filter(order=order).exists()


@pytest.mark.parametrize("cell", ["A\x00B", "\x01"])
def test_csv_with_control_characters_reports_the_row(seller_client, shop, cell):
    order = order_to_ship(shop, model="SELLER")
    text = (f"order_number,package,carrier,tracking_number\n{order.number}{cell},,ups,{ups_number()}\n"
            f"{order.number},,ups,1Z{cell}\n")
    r = seller_client.post(f"{base(shop)}upload", {"file": csv_upload(text)}, headers=HX)
    assert r.status_code == 400 and "control characters" in r.content.decode()


def test_csv_that_the_csv_module_cannot_read_is_a_form_error(seller_client, shop):
    text = "order_number,package,carrier,tracking_number\n" + "x" * 200_000 + ",1,ups,1\n"
    r = seller_client.post(f"{base(shop)}upload", {"file": csv_upload(text)}, headers=HX)
    assert r.status_code == 400 and "cannot be read as CSV" in r.content.decode()


def test_carrier_numbers_are_ascii():
    from shipping import carriers

    assert carriers.check("fedex", "123456789012") is None
    assert carriers.check("fedex", "١٢٣٤٥٦٧٨٩٠١٢") is not None
    assert carriers.check("dhl", "²²²²²²²²²²") is not None


# --- printing -------------------------------------------------------------------------------------


def printed(shop):
    order = order_to_ship(shop)
    (pkg,) = arranged(order)
    job = actions.record_print(shop=shop, packages=[refreshed(pkg)], kind="label", size="4x6", actor=ACTOR)
    return pkg, job


@pytest.mark.parametrize("size", ["ZZ", "ZZZZZZ", "\x00", "a6", "4X6"])
def test_reprint_with_an_unknown_size_is_refused_before_anything_is_stored(seller_client, shop, size):
    pkg, job = printed(shop)
    jobs, events = PrintJob.objects.count(), PackageEvent.objects.count()
    r = seller_client.post(f"{base(shop)}print/{job.pk}/reprint", {"size": size}, headers=HX)
    assert r.status_code == 400 and "label size" in r["HX-Trigger"]
    r = seller_client.post(f"{base(shop)}print/{job.pk}/reprint", {"size": size, "next": f"/s/{shop.slug}/shipping/"})
    assert r.status_code == 302 and r["Location"] == f"/s/{shop.slug}/shipping/"
    assert PrintJob.objects.count() == jobs and PackageEvent.objects.count() == events
    # A later reprint still works.
    r = seller_client.post(f"{base(shop)}print/{job.pk}/reprint", {"size": "A6"})
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"


def test_reprint_of_a_job_stored_with_a_bad_size_or_kind_prints_in_the_default(seller_client, shop):
    pkg, _ = printed(shop)
    bad = PrintJob.objects.create(shop=shop, kind="zz", size="ZZ", package_count=1, printed_at=pkg.updated_at)
    bad.packages.set([pkg])
    for _ in range(2):
        r = seller_client.post(f"{base(shop)}print/{bad.pk}/reprint")
        assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    latest = PrintJob.objects.filter(reprint_of=bad).latest("pk")
    assert (latest.kind, latest.size) == ("label", "4x6")


def test_reprint_of_a_job_whose_packages_cannot_print_is_refused_not_500(seller_client, shop):
    empty = PrintJob.objects.create(shop=shop, kind="label", size="4x6", package_count=0, printed_at=timezone.now())
    r = seller_client.post(f"{base(shop)}print/{empty.pk}/reprint", headers=HX)
    assert r.status_code == 400 and "at least one package" in r["HX-Trigger"]


def test_record_print_refuses_an_unknown_size_or_kind(shop):
    pkg, _ = printed(shop)
    for kind, size in (("label", "ZZ"), ("poster", "4x6")):
        with pytest.raises(actions.ActionRefused):
            actions.record_print(shop=shop, packages=[pkg], kind=kind, size=size, actor=ACTOR)


@pytest.mark.parametrize("package", ["²", str(2**63), str(10**30), "-1", "1e400"])
def test_print_with_odd_package_ids_is_a_form_error(seller_client, shop, package):
    r = seller_client.post(f"{base(shop)}print", {"kind": "label", "size": "4x6", "package": [package]}, headers=HX)
    assert r.status_code == 400
    assert not PrintForm({"kind": "label", "size": "4x6", "package": [package]}).is_valid()


def test_print_goes_back_only_to_this_shops_pages(seller_client, shop):
    for nxt, expected in [(f"/s/{shop.slug}/orders/", f"/s/{shop.slug}/orders/"),
                          ("//evil.example/", base(shop)), (f"/s/{shop.slug}/\\\\evil", base(shop)),
                          ("https://evil.example/", base(shop)), ("/s/other/orders/", base(shop))]:
        r = seller_client.post(f"{base(shop)}print", {"kind": "label", "size": "4x6", "next": nxt})
        assert r.status_code == 302 and r["Location"] == expected, nxt
    assert params.local_url(None, "\x00/") is None


@pytest.mark.parametrize("start, end", [
    ("9999-12-31T20:00", "9999-12-31T23:59"),  # New York 23:59 is year 10000 in UTC
    ("0001-01-01T00:00", "0001-01-02T00:00"),
    ("2999-12-31T20:00", "3000-01-01T10:00"),
    ("9999-12-31T23:59", "2026-01-02T10:00"),
    ("2026-01-01T10:00", "1e400"),
    ("²", "2026-01-02T10:00"),
])
def test_force_majeure_with_an_impossible_time_is_a_form_error(seller_client, shop, start, end):
    from shipping.models import Ticket

    shop.time_zone = "America/New_York"
    shop.save(update_fields=["time_zone"])
    order = order_to_ship(shop)
    r = seller_client.post(f"{base(shop)}tickets/", {"description": "Flood closed the depot", "orders": order.number,
                                                     "event_start": start, "event_end": end})
    assert r.status_code == 400
    assert not Ticket.objects.filter(shop=shop).exists()
