"""The Shipping page at volume: bulk arrange and ready, the print queue, label formats, pick and packing lists."""

import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from pypdf import PdfReader

from orders.models import Order
from orders.tests.test_html import assert_valid_html
from shipping import actions, labels, picklist, zpl
from shipping.models import Package, PrintJob
from shops.tests.factories import ShopFactory, SKUFactory
from tests.pages import fetch_both, hx, texts

from .factories import ACTOR, arranged, order_to_ship, refreshed

pytestmark = pytest.mark.django_db
S = Order.Status
P = Package.Status


def base(shop):
    return f"/s/{shop.slug}/shipping/"


def pdf_texts(content):
    return [page.extract_text() for page in PdfReader(io.BytesIO(content)).pages]


def _orders(shop, n, **kw):
    sku = SKUFactory(shop=shop, stock_on_hand=10_000)
    return [order_to_ship(shop, lines=[(sku, 1)], **kw) for _ in range(n)]


# --- bulk arrange and mark ready through the page ---------------------------------------------


def test_bulk_arrange_then_ready_through_the_page_with_htmx_and_without(seller_client, shop):
    orders = _orders(shop, 3)
    seller = order_to_ship(shop, model="SELLER")
    data = {"order": [o.pk for o in orders] + [seller.pk], "bulk-handover": "DROP_OFF", "bulk-dropoff_point": "SCX-DP-003"}
    r = seller_client.post(f"{base(shop)}arrange", data, headers=hx("shipping-main"))
    assert r.status_code == 200
    html = r.content.decode()
    assert 'id="bulk-report"' in html and "3 arranged" in html and "1 refused" in html
    assert f"Order {seller.number} ships by seller" in html
    assert "toast" in r["HX-Trigger"]
    assert Package.objects.filter(order__in=orders, dropoff_point="SCX-DP-003").count() == 3
    # Without JS: every order applied is a redirect with the message; the page keeps the view.
    r = seller_client.post(f"{base(shop)}ready", {"order": [o.pk for o in orders], "show": "to_ready"})
    assert r.status_code == 302 and r["Location"].endswith("?show=to_ready")
    assert {refreshed(o).status for o in orders} == {S.AWAITING_COLLECTION}


def test_bulk_arrange_all_matching_acts_on_the_view_shown(seller_client, shop):
    to_arrange = _orders(shop, 2)
    done = _orders(shop, 1)[0]
    arranged(done)
    order_to_ship(shop, model="SELLER")  # not in the "to arrange" view
    slot = actions.pickup_slots(shop)[0][0]
    r = seller_client.post(f"{base(shop)}arrange", {"all_matching": "1", "show": "to_arrange",
                                                    "bulk-handover": "PICKUP", "bulk-pickup_slot": slot.isoformat()})
    assert r.status_code == 302
    assert set(Package.objects.filter(handover="PICKUP").values_list("order_id", flat=True)) == {o.pk for o in to_arrange}


@pytest.mark.parametrize("data,words", [
    ({}, "Select at least one order."),
    ({"order": ["12x"]}, "not an order"),
    ({"order": ["1"], "bulk-handover": "PICKUP"}, "Choose a pickup time slot."),
    ({"order": ["1"]}, "This field is required"),
])
def test_bulk_arrange_refuses_a_bad_request_with_400_and_nothing_done(seller_client, shop, data, words):
    _orders(shop, 1)
    for headers in ({}, hx("shipping-main")):
        r = seller_client.post(f"{base(shop)}arrange", data, headers=headers)
        assert r.status_code == 400
        assert words in (r.content.decode() if not headers else r["HX-Trigger"])
    assert not Package.objects.exists()


def test_bulk_arrange_needs_the_arrange_permission(client, shop):
    from shops.tests.factories import MembershipFactory

    viewer = MembershipFactory(shop=shop, role="viewer").user
    client.force_login(viewer)
    (order,) = _orders(shop, 1)
    r = client.post(f"{base(shop)}arrange", {"order": [order.pk], "bulk-handover": "DROP_OFF",
                                             "bulk-dropoff_point": "SCX-DP-001"})
    assert r.status_code == 403
    assert not Package.objects.exists()


def test_bulk_arrange_never_reaches_another_shops_orders(seller_client, shop):
    other = order_to_ship(ShopFactory())
    r = seller_client.post(f"{base(shop)}arrange", {"order": [other.pk], "bulk-handover": "DROP_OFF",
                                                    "bulk-dropoff_point": "SCX-DP-001"})
    assert r.status_code == 200 and "1 order not found" in r.content.decode()
    assert other.number not in r.content.decode()
    assert not Package.objects.exists()


# --- the page: views, print queue, fixed queries ----------------------------------------------


def test_shipping_page_views_queue_full_and_partial_with_fixed_queries(seller_client, shop):
    def queries(url, target):
        counts = []
        for headers in ({}, hx(target)):
            with CaptureQueriesContext(connection) as ctx:
                assert seller_client.get(url, headers=headers).status_code == 200
            counts.append(len(ctx))
        return counts

    arranged(_orders(shop, 1)[0])
    _orders(shop, 1)  # every view has a row (an empty page reads no packages)
    small = [queries(f"{base(shop)}?show={v}", "to-ship") for v in ("all", "to_arrange", "to_ready")]
    small_queue = [queries(f"{base(shop)}?queue={q}", "print-queue") for q in ("label-todo", "slip-done")]
    full, partial = fetch_both(seller_client, f"{base(shop)}?queue=label-todo", "print-queue")
    assert_valid_html(full.content)
    for html in texts(full, partial):
        assert 'id="print-queue"' in html and "Labels to print" in html
    assert 'id="to-ship"' not in partial.content.decode()
    for order in _orders(shop, 6):
        arranged(order)
    _orders(shop, 4)
    assert [queries(f"{base(shop)}?show={v}", "to-ship") for v in ("all", "to_arrange", "to_ready")] == small
    assert [queries(f"{base(shop)}?queue={q}", "print-queue") for q in ("label-todo", "slip-done")] == small_queue


def test_print_queue_shows_to_print_then_printed_and_prints_everything_waiting(seller_client, shop):
    orders = _orders(shop, 3)
    for o in orders:
        arranged(o)
    unpacked = _orders(shop, 1)[0]
    html = seller_client.get(f"{base(shop)}?queue=label-todo", headers=hx("print-queue")).content.decode()
    assert all(o.number in html for o in orders) and unpacked.number not in html
    assert "Print all 3 waiting" in html
    r = seller_client.post(f"{base(shop)}print", {"kind": "label", "size": "4x6", "everything": "1"})
    assert r.status_code == 200 and len(pdf_texts(r.content)) == 3
    html = seller_client.get(f"{base(shop)}?queue=label-todo", headers=hx("print-queue")).content.decode()
    assert "Nothing waiting to be printed." in html
    html = seller_client.get(f"{base(shop)}?queue=label-done", headers=hx("print-queue")).content.decode()
    assert all(o.number in html for o in orders) and "Reprint selected" in html
    # Reprinting from the printed tab is marked as a reprint in each package's history.
    pkg = Package.objects.get(order=orders[0])
    r = seller_client.post(f"{base(shop)}print", {"kind": "label", "size": "A6", "package": [pkg.pk]})
    assert r.status_code == 200
    assert list(pkg.events.filter(action__in=["print_label", "reprint_label"]).order_by("pk")
                .values_list("action", flat=True)) == ["print_label", "reprint_label"]
    assert refreshed(pkg).label_print_count == 2
    # Slips: packages without a label are in the slip queue (the old bulk print only offered tracked ones).
    actions.ensure_packages(refreshed(unpacked), ACTOR)
    html = seller_client.get(f"{base(shop)}?queue=slip-todo", headers=hx("print-queue")).content.decode()
    assert unpacked.number in html
    r = seller_client.post(f"{base(shop)}print", {"kind": "slip", "size": "A4", "order": [unpacked.pk]})
    assert r.status_code == 200 and "PACKING SLIP" in pdf_texts(r.content)[0]
    assert refreshed(Package.objects.get(order=unpacked)).slip_print_count == 1


def test_print_of_selected_orders_prints_their_labels_and_refuses_orders_without_one(seller_client, shop):
    a, b = _orders(shop, 2)
    arranged(a)
    r = seller_client.post(f"{base(shop)}print", {"kind": "label", "size": "4x6", "order": [a.pk, b.pk]})
    assert r.status_code == 200 and len(pdf_texts(r.content)) == 1
    r = seller_client.post(f"{base(shop)}print", {"kind": "label", "size": "4x6", "order": [b.pk]}, headers=hx())
    assert r.status_code == 400 and "arrange their shipment first" in r["HX-Trigger"]
    other = order_to_ship(ShopFactory())
    assert seller_client.post(f"{base(shop)}print", {"kind": "label", "size": "4x6",
                                                     "order": [other.pk]}).status_code == 404


def test_print_refuses_more_than_600_in_one_document_with_a_400(seller_client, shop, monkeypatch):
    monkeypatch.setattr(actions, "MAX_PRINT", 2)
    for o in _orders(shop, 3):
        arranged(o)
    for headers in ({}, hx()):
        r = seller_client.post(f"{base(shop)}print", {"kind": "label", "size": "4x6", "everything": "1"},
                               headers=headers)
        assert r.status_code == 400
        text = r["HX-Trigger"] if headers else r.content.decode()
        assert "At most 2 labels or slips in one document" in text
    assert not PrintJob.objects.exists()


def test_record_print_refuses_more_than_600(shop):
    pkg = arranged(_orders(shop, 1)[0])[0]
    with pytest.raises(actions.ActionRefused, match="At most 600"):
        actions.record_print(shop=shop, packages=[pkg] * 601, kind="label", size="4x6", actor=ACTOR)


# --- label formats ----------------------------------------------------------------------------


@pytest.mark.parametrize("size,points", [("A4", (595.3, 841.9)), ("LTR", (612.0, 792.0))])
def test_sheet_formats_put_four_labels_on_a_page(shop, size, points):
    for o in _orders(shop, 5):
        arranged(o)
    qs = Package.objects.filter(shop=shop)
    reader = PdfReader(io.BytesIO(labels.render(labels.packages_for_print(qs), kind="label", size=size)))
    assert len(reader.pages) == 2  # 4 + 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width), 1), round(float(box.height), 1)) == points
    first = reader.pages[0].extract_text()
    assert sum(p.tracking_number in first for p in qs) == 4


def test_zpl_label_is_printer_text_with_every_field_and_the_barcode(seller_client, shop):
    (order,) = _orders(shop, 1, name="Robin Recipient")
    (pkg,) = arranged(order)
    r = seller_client.post(f"{base(shop)}print", {"kind": "label", "size": "ZPL", "package": [pkg.pk]})
    assert r.status_code == 200 and r["Content-Type"].startswith("text/plain")
    assert r["Content-Disposition"].endswith('.zpl"')
    text = r.content.decode()
    assert text.startswith("^XA") and text.rstrip().endswith("^XZ") and "^CI28" in text
    assert "^BCN" in text and f"^FD{refreshed(pkg).tracking_number}^FS" in text
    assert "Robin Recipient" in text and "Seller Center Express" in text
    assert PrintJob.objects.get().size == "ZPL"


def test_zpl_escapes_carets_and_tildes_in_buyer_and_seller_text(shop):
    (order,) = _orders(shop, 1, name="Eve ^XZ~JR Hacker_1")
    (pkg,) = arranged(order)
    actions.set_label_note(package=pkg, text="Handle ^FS with care ~", actor=ACTOR)
    out = labels.render(labels.packages_for_print(Package.objects.filter(pk=pkg.pk)), kind="label",
                        size="ZPL").decode()
    assert "Eve _5EXZ_7EJR Hacker_5F1" in out and "Handle _5EFS with care _7E" in out
    # The only commands are ours: one label format, no ^XZ or ~ from the text.
    assert out.count("^XZ") == 1 and "~" not in out
    assert zpl.escape("a^b~c_d\nnext") == "a_5Eb_7Ec_5Fd next"


def test_zpl_is_refused_for_packing_slips(shop):
    pkg = arranged(_orders(shop, 1)[0])[0]
    with pytest.raises(actions.ActionRefused, match="print on paper"):
        actions.record_print(shop=shop, packages=[pkg], kind="slip", size="ZPL", actor=ACTOR)


def test_every_format_carries_only_checked_seller_text(shop):
    pkg = arranged(_orders(shop, 1)[0])[0]
    with pytest.raises(actions.ActionRefused):
        actions.set_label_note(package=pkg, text="find us on www.elsewhere.com", actor=ACTOR)
    actions.set_label_note(package=pkg, text="Fragile", actor=ACTOR)
    qs = Package.objects.filter(pk=pkg.pk)
    for size in PrintJob.Size.values:
        out = labels.render(labels.packages_for_print(qs), kind="label", size=size)
        text = out.decode() if size == "ZPL" else pdf_texts(out)[0]
        assert "Fragile" in text and "elsewhere" not in text


# --- pick list and packing lists --------------------------------------------------------------


def test_pick_list_sums_each_sku_lists_its_orders_sorted_by_sku(shop):
    mug, cup = SKUFactory(shop=shop, code="MUG-1", stock_on_hand=50), SKUFactory(shop=shop, code="CUP-9", stock_on_hand=50)
    a = order_to_ship(shop, lines=[(mug, 2), (cup, 1)])
    b = order_to_ship(shop, lines=[(mug, 3)])
    rows = picklist.pick_rows(Order.objects.filter(pk__in=[a.pk, b.pk]))
    assert [(r["code"], r["total"]) for r in rows] == [("CUP-9", 1), ("MUG-1", 5)]
    assert sorted(rows[1]["orders"]) == sorted([(a.number, 2), (b.number, 3)])


def test_pick_list_and_packing_lists_pages(seller_client, shop):
    mug = SKUFactory(shop=shop, code="MUG-1", stock_on_hand=50)
    a = order_to_ship(shop, lines=[(mug, 2)], name="Ann Buyer")
    b = order_to_ship(shop, lines=[(mug, 1)], name="Bo Buyer")
    r = seller_client.post(f"{base(shop)}pick-list", {"order": [a.pk, b.pk], "paper": "LTR"})
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    (text,) = pdf_texts(r.content)
    assert "Pick list" in text and "MUG-1" in text and a.number in text and b.number in text
    r = seller_client.post(f"{base(shop)}packing-lists", {"order": [a.pk, b.pk]})
    pages = pdf_texts(r.content)
    assert len(pages) == 2 and "Ann Buyer" in pages[0] + pages[1] and "Bo Buyer" in pages[0] + pages[1]
    assert seller_client.post(f"{base(shop)}pick-list", {}, headers=hx()).status_code == 400
    other = order_to_ship(ShopFactory())
    r = seller_client.post(f"{base(shop)}pick-list", {"order": [other.pk]})
    assert other.number not in "".join(pdf_texts(r.content))


def test_pick_list_reads_a_fixed_number_of_queries(shop, django_assert_max_num_queries):
    orders = _orders(shop, 3)
    for n in (3, 12):
        orders += _orders(shop, n)
        with CaptureQueriesContext(connection) as ctx:
            picklist.pick_list(shop, Order.objects.filter(pk__in=[o.pk for o in orders]))
            picklist.packing_lists(shop, Order.objects.filter(pk__in=[o.pk for o in orders]))
        if n == 3:
            first = len(ctx)
    assert len(ctx) == first


def test_pick_list_walks_the_warehouse_by_bin_location_then_sku(shop):
    from shops.models import WarehouseStock

    zebra, apple, nobin = (SKUFactory(shop=shop, code=c, stock_on_hand=50) for c in ("ZEBRA", "APPLE", "NOBIN"))
    a = order_to_ship(shop, lines=[(zebra, 1), (apple, 1), (nobin, 1)])
    WarehouseStock.objects.filter(sku=zebra).update(bin_location="A-01-1")
    WarehouseStock.objects.filter(sku=apple).update(bin_location="C-04-2")
    rows = picklist.pick_rows(Order.objects.filter(pk=a.pk))
    assert [(r["code"], r["location"]) for r in rows] == [("ZEBRA", "A-01-1"), ("APPLE", "C-04-2"), ("NOBIN", "")]
    (text,) = pdf_texts(picklist.pick_list(shop, Order.objects.filter(pk=a.pk)))
    assert text.index("A-01-1") < text.index("C-04-2")
