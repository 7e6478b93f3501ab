import io
import re

import pytest
from pypdf import PdfReader

from core.actor import Actor
from shipping import actions, labels
from shipping.models import Package, PrintJob
from tests.pages import assert_redirect, hx

from .factories import arranged, order_to_ship

pytestmark = pytest.mark.django_db


def pdf_pages(content):
    reader = PdfReader(io.BytesIO(content))
    return reader, [page.extract_text() for page in reader.pages]


def arranged_packages(shop, n=1, **buyer):
    packages = []
    for _ in range(n):
        order = order_to_ship(shop, **buyer)
        packages += arranged(order)
    return Package.objects.filter(pk__in=[p.pk for p in packages])


@pytest.mark.parametrize("size,points", [("4x6", (288, 432)), ("A6", (297.6, 419.5))])
def test_label_pdf_has_tracking_number_recipient_items_and_carrier(shop, size, points):
    qs = arranged_packages(shop, name="Robin Recipient")
    pkg = qs.get()
    pdf = labels.render(labels.packages_for_print(qs), kind=PrintJob.Kind.LABEL, size=size)
    reader, (text,) = pdf_pages(pdf)
    assert pkg.tracking_number in text
    assert "Robin Recipient" in text
    assert "1 Market St" in text and "Springfield" in text  # the full address, only on the label
    assert "Seller Center Express" in text
    line = pkg.items.get().line
    assert line.sku_code in text
    box = reader.pages[0].mediabox
    assert (round(float(box.width), 1), round(float(box.height), 1)) == points
    # No hyperlinks: no link annotations anywhere.
    assert "/Annots" not in reader.pages[0]


def test_bulk_print_merges_every_package_into_one_pdf(shop):
    qs = arranged_packages(shop, n=3)
    pdf = labels.render(labels.packages_for_print(qs), kind=PrintJob.Kind.LABEL, size="4x6")
    reader, texts = pdf_pages(pdf)
    assert len(reader.pages) == 3
    assert sorted(p.tracking_number for p in qs) == sorted(
        next(n for n in (p.tracking_number for p in qs) if n in t) for t in texts
    )


def test_packing_slip_lists_items_and_order(shop):
    qs = arranged_packages(shop)
    pkg = qs.get()
    pdf = labels.render(labels.packages_for_print(qs), kind=PrintJob.Kind.PACKING_SLIP, size="A6")
    _, (text,) = pdf_pages(pdf)
    assert "PACKING SLIP" in text and pkg.order.number in text and pkg.items.get().line.sku_code in text


def test_label_carries_the_sellers_note_but_never_a_refused_one(shop):
    qs = arranged_packages(shop)
    pkg = qs.get()
    actor = Actor.policy("test")
    actions.set_label_note(package=pkg, text="Fragile - glass", actor=actor)
    with pytest.raises(actions.ActionRefused):
        actions.set_label_note(package=pkg, text="Scan the QR code at bit.ly/x", actor=actor)
    _, (text,) = pdf_pages(labels.render(labels.packages_for_print(qs), kind="label", size="4x6"))
    assert "Fragile - glass" in text and "bit.ly" not in text


def test_print_view_returns_the_pdf_and_records_history_and_reprint(seller_client, shop):
    qs = arranged_packages(shop, n=2)
    ids = list(qs.values_list("pk", flat=True))
    url = f"/s/{shop.slug}/shipping/print"
    r = seller_client.post(url, {"package": ids, "kind": "label", "size": "A6"})
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    assert "attachment" in r["Content-Disposition"]
    _, texts = pdf_pages(r.content)
    assert len(texts) == 2
    job = PrintJob.objects.get()
    assert job.package_count == 2 and job.size == "A6" and job.printed_by.memberships.get().shop == shop
    assert all(p.label_print_count == 1 for p in qs.all())
    r = seller_client.post(f"/s/{shop.slug}/shipping/print/{job.pk}/reprint")
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    reprint = PrintJob.objects.exclude(pk=job.pk).get()
    assert reprint.reprint_of == job
    assert all(p.label_print_count == 2 for p in qs.all())
    assert qs.first().events.filter(action="reprint_label").count() == 1


def test_print_view_refuses_another_shops_packages(seller_client, shop):
    from shops.tests.factories import ShopFactory

    other = arranged_packages(ShopFactory())
    for headers in ({}, hx()):
        r = seller_client.post(f"/s/{shop.slug}/shipping/print", {"package": [other.get().pk], "kind": "label", "size": "4x6"},
                               headers=headers)
        assert r.status_code == 404
    assert not PrintJob.objects.exists()


def test_print_view_refusal_goes_back_without_js_and_is_a_toast_with_htmx(seller_client, shop):
    pkg = arranged_packages(shop).get()
    url = f"/s/{shop.slug}/shipping/print"
    back = f"/s/{shop.slug}/orders/{pkg.order.number}/"
    r = seller_client.post(url, {"package": [pkg.pk], "kind": "label", "size": "huge", "next": back})
    assert_redirect(r, to=back)
    assert "huge is not one of the available choices" in seller_client.get(back).content.decode()
    r = seller_client.post(url, {"package": [pkg.pk], "kind": "label", "size": "huge"}, headers=hx())
    assert r.status_code == 400 and r.content == b"" and "huge is not one of the available choices" in r["HX-Trigger"]
    r = seller_client.post(url, {"package": [pkg.pk], "kind": "label", "size": "huge", "next": "https://elsewhere.example/"})
    assert_redirect(r, to=f"/s/{shop.slug}/shipping/")  # only back to this shop's pages
    assert not PrintJob.objects.exists()


def test_label_prints_names_and_addresses_beyond_latin_1(shop):
    qs = arranged_packages(shop, name="Nguyễn Thị Ánh")
    order = qs.get().order
    order.city, order.address_line1 = "Hà Nội", "ул. Тверская, 7"
    order.save(update_fields=["city", "address_line1"])
    _, (text,) = pdf_pages(labels.render(labels.packages_for_print(qs), kind=PrintJob.Kind.LABEL, size="4x6"))
    assert "Nguyễn Thị Ánh" in text and "Hà Nội" in text and "ул. Тверская, 7" in text
    # A script no font here has is marked, not dropped.
    assert labels.printable("ខ្មែរ Wang") == "????? Wang"  # Khmer


def test_label_prints_chinese_japanese_and_korean_names(shop):
    qs = arranged_packages(shop, name="王小明")
    order = qs.get().order
    order.city, order.address_line1 = "東京都 渋谷区", "서울 강남구 테헤란로 1"
    order.save(update_fields=["city", "address_line1"])
    _, (text,) = pdf_pages(labels.render(labels.packages_for_print(qs), kind=PrintJob.Kind.LABEL, size="4x6"))
    # pypdf breaks the line where the font changes (the space is in the Latin font).
    flat = re.sub(r"\s+", "", text)
    assert "王小明" in flat and "東京都渋谷区" in flat and "서울강남구테헤란로1" in flat
    assert [font for font, _ in labels.runs("王 Li 김")] == ["STSong-Light", "LabelSans", "HYSMyeongJo-Medium"]


def test_a_long_mixed_script_line_is_cut_to_the_label_width(shop):
    qs = arranged_packages(shop, name="王" * 40 + " Wang " * 10)
    pdf = labels.render(labels.packages_for_print(qs), kind=PrintJob.Kind.LABEL, size="4x6")
    _, (text,) = pdf_pages(pdf)
    flat = re.sub(r"\s+", "", text)
    cut = flat[flat.index("王"):flat.index("...") + 3]
    assert 10 < cut.count("王") < 40 and "Wang" not in cut  # cut inside the CJK run, then "..."
