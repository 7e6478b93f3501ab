"""The pick list (one PDF for many orders: each SKU once, its total quantity, where it sits and
which orders it goes to, in the order a picker walks the warehouse) and the packing lists (a
page per order, for the box). Layout only: reads are in `pick_rows` and `packing_rows`, a fixed
number of queries for any number of orders.
"""

from collections import defaultdict
from io import BytesIO

from django.db.models import Prefetch, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from core.when import format_when
from orders.models import OrderLine
from shops.models import Warehouse, WarehouseStock

from . import labels
from .models import Package, PackageItem

MAX_ORDERS = 1000
PAPER = {"A4": A4, "LTR": LETTER}
NO_LOCATION = "—"


def locations(orders):
    """{sku id: bin location(s)} in the warehouses the orders ship from (the order's own, else the
    shop's default), from the stock rows' bin_location; a SKU missing from the result has none
    recorded. Two queries."""
    default = Warehouse.objects.filter(shop__in=orders.values("shop_id"), is_default=True).values("pk")
    rows = (WarehouseStock.objects.filter(sku__in=OrderLine.objects.filter(order__in=orders).values("sku_id"))
            .filter(Q(warehouse__in=orders.exclude(warehouse=None).values("warehouse_id"))
                    | Q(warehouse__in=default, warehouse__shop__in=orders.filter(warehouse=None).values("shop_id")))
            .exclude(bin_location="").values_list("sku_id", "bin_location"))
    found = defaultdict(set)
    for sku_id, where in rows:
        found[sku_id].add(where)
    return {sku_id: ", ".join(sorted(bins)) for sku_id, bins in found.items()}


def pick_rows(orders):
    """One row per SKU of the orders: code, name, location, total quantity, the order numbers
    (with the quantity each takes); sorted by location (unknown last), then SKU code. Two queries."""
    totals = list(OrderLine.objects.filter(order__in=orders).values("sku_id", "sku_code")
                  .annotate(total=Sum("quantity")).order_by())
    names, goes_to = {}, defaultdict(list)
    for sku_id, name, number, quantity in (OrderLine.objects.filter(order__in=orders)
                                           .values_list("sku_id", "name", "order__number", "quantity")
                                           .order_by("order__number", "pk")):
        names.setdefault(sku_id, name)
        goes_to[sku_id].append((number, quantity))
    where = locations(orders)
    rows = [{"code": t["sku_code"], "name": names.get(t["sku_id"], ""), "location": where.get(t["sku_id"], ""),
             "total": t["total"], "orders": goes_to[t["sku_id"]]} for t in totals]
    rows.sort(key=lambda r: (r["location"] == "", r["location"], r["code"]))
    return rows


def packing_rows(orders):
    """The orders with their lines and active packages (three queries), by order number."""
    items = Prefetch("items", queryset=PackageItem.objects.select_related("line"))
    packages = Prefetch("packages", queryset=Package.objects.active().order_by("seq").prefetch_related(items),
                        to_attr="active_packages")
    return list(orders.select_related("shop").prefetch_related("lines", packages).order_by("number"))


# --- layout -----------------------------------------------------------------------------------


def _styles():
    regular, bold = labels._font(False)[0], labels._font(True)[0]
    return {
        "title": ParagraphStyle("title", fontName=bold, fontSize=15, leading=19, spaceAfter=4),
        "meta": ParagraphStyle("meta", fontName=regular, fontSize=8.5, leading=11, textColor=colors.HexColor("#444444")),
        "cell": ParagraphStyle("cell", fontName=regular, fontSize=8.5, leading=10.5),
        "head": ParagraphStyle("head", fontName=bold, fontSize=8.5, leading=10.5),
        "big": ParagraphStyle("big", fontName=bold, fontSize=11, leading=13),
    }


def _p(text, style):
    """A paragraph of plain text (escaped: names and addresses are the buyer's and seller's text),
    in the label fonts, with the CJK fonts where needed."""
    out = []
    for font, piece in labels.runs(str(text)):
        piece = piece.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        out.append(piece if font == style.fontName or font.startswith("LabelSans") else f'<font name="{font}">{piece}</font>')
    return Paragraph("".join(out), style)


def _table(rows, widths, head_rows=1):
    table = Table(rows, colWidths=widths, repeatRows=head_rows)
    table.setStyle(TableStyle([
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.black),
        ("LINEBELOW", (0, 1), (-1, -1), 0.25, colors.HexColor("#999999")),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]))
    return table


def _doc(buf, paper, title):
    size = PAPER.get(paper, A4)
    doc = SimpleDocTemplate(buf, pagesize=size, leftMargin=14 * mm, rightMargin=14 * mm, topMargin=14 * mm,
                            bottomMargin=16 * mm, title=title, author="Seller Center", creator="Seller Center")
    return doc, size[0] - 28 * mm


def _footer(label):
    def draw(canvas, doc):
        canvas.saveState()
        canvas.setFont(labels._font(False)[0], 7.5)
        canvas.drawString(14 * mm, 9 * mm, label)
        canvas.drawRightString(doc.pagesize[0] - 14 * mm, 9 * mm, _("Page %(n)d") % {"n": doc.page})
        canvas.restoreState()
    return draw


def pick_list(shop, orders, *, paper="A4"):
    """The pick list of `orders` (a queryset of one shop's orders) as PDF bytes."""
    rows = pick_rows(orders)
    count = orders.count()
    st = _styles()
    buf = BytesIO()
    doc, width = _doc(buf, paper, _("Pick list"))
    stamp = format_when(timezone.now(), tz=shop.tzinfo)
    units = sum(r["total"] for r in rows)
    story = [
        _p(_("Pick list"), st["title"]),
        _p(_("%(shop)s · %(orders)d orders · %(skus)d SKUs · %(units)d units · printed %(at)s") % {
            "shop": shop.name, "orders": count, "skus": len(rows), "units": units, "at": stamp}, st["meta"]),
        _p(_("Sorted by bin location, then SKU: walk the aisles in order. Tick each line as it is picked."), st["meta"]),
        Spacer(0, 6),
    ]
    head = [_p(h, st["head"]) for h in ("✓", _("Location"), _("SKU"), _("Item"), _("Qty"), _("Orders (quantity)"))]
    body = [[_p("☐", st["cell"]), _p(r["location"] or NO_LOCATION, st["big"]), _p(r["code"], st["head"]),
             _p(r["name"], st["cell"]), _p(str(r["total"]), st["big"]),
             _p(", ".join(f"{n} ({q})" if q != 1 else n for n, q in r["orders"]), st["cell"])] for r in rows]
    widths = [7 * mm, 22 * mm, 30 * mm, None, 12 * mm, 62 * mm]
    fixed = sum(w for w in widths if w)
    widths[3] = width - fixed
    story.append(_table([head, *body], widths))
    doc.build(story, onFirstPage=_footer(_("Pick list")), onLaterPages=_footer(_("Pick list")))
    return buf.getvalue()


def packing_lists(shop, orders, *, paper="A4"):
    """A packing list per order (a page each, longer orders run on) as PDF bytes."""
    st = _styles()
    buf = BytesIO()
    doc, width = _doc(buf, paper, _("Packing lists"))
    story = []
    for i, order in enumerate(packing_rows(orders)):
        if i:
            story.append(PageBreak())
        story += [
            _p(_("Packing list · order %(number)s") % {"number": order.number}, st["title"]),
            _p(_("%(shop)s · placed %(placed)s · %(count)d item(s)") % {
                "shop": shop.name, "placed": format_when(order.placed_at, "date", tz=shop.tzinfo),
                "count": sum(line.quantity for line in order.lines.all())}, st["meta"]),
            Spacer(0, 6),
            _p(_("Ship to"), st["head"]),
            _p(order.buyer_name, st["big"]),
            _p(order.full_address, st["cell"]),
            Spacer(0, 8),
        ]
        in_package = defaultdict(list)
        for pkg in order.active_packages:
            for item in pkg.items.all():
                in_package[item.line_id].append(f"{pkg.seq}×{item.quantity}" if len(order.active_packages) > 1
                                                else str(pkg.seq))
        head = [_p(h, st["head"]) for h in ("✓", _("Qty"), _("SKU"), _("Item"), _("Package"))]
        body = [[_p("☐", st["cell"]), _p(str(line.quantity), st["big"]), _p(line.sku_code, st["head"]),
                 _p(line.name, st["cell"]), _p(", ".join(in_package.get(line.pk, [])) or "—", st["cell"])]
                for line in order.lines.all()]
        widths = [7 * mm, 12 * mm, 34 * mm, None, 24 * mm]
        widths[3] = width - sum(w for w in widths if w)
        story.append(_table([head, *body], widths))
        tracking = [p.tracking_number for p in order.active_packages if p.tracking_number]
        if tracking:
            story += [Spacer(0, 8), _p(_("Tracking: %(numbers)s") % {"numbers": ", ".join(tracking)}, st["meta"])]
    doc.build(story, onFirstPage=_footer(_("Packing lists")), onLaterPages=_footer(_("Packing lists")))
    return buf.getvalue()
