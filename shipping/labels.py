"""Shipping labels and packing slips as PDF (reportlab), one label per page or several a sheet.

Sizes: 4x6 in (thermal printers) and A6, one a page; A4 and US Letter sheets, four a page
(SHEETS); ZPL for thermal printers (shipping/zpl.py draws the same layout, `_label`, as printer
commands). The label carries the recipient in full (the only place a seller sees the full
address), the items, the carrier and a Code128 barcode of the tracking number. No links, no
QR codes: seller text was checked on entry.
"""

import unicodedata
from functools import cache
from io import BytesIO
from pathlib import Path

from django.db.models import Count, Prefetch
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib.pagesizes import A4, A6, LETTER
from reportlab.lib.units import inch
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont, shapeFragWord
from reportlab.pdfgen import canvas

from core.when import format_when
from orders.language import order_language
from shops.warehouses import sender_for

from .carriers import CARRIERS
from .models import Package, PackageItem, PrintJob

SIZES = {PrintJob.Size.FOUR_BY_SIX: (4 * inch, 6 * inch), PrintJob.Size.A6: A6}
# Sheets for office printers: (page, columns, rows). Four A6 labels fill an A4 page exactly;
# on US Letter four quarter-page labels (4.25 x 5.5 in).
SHEETS = {PrintJob.Size.A4: (A4, 2, 2), PrintJob.Size.LETTER: (LETTER, 2, 2)}
MAX_ITEMS_ON_LABEL = 6


def sender(order):
    """The label's FROM lines: who ships the parcel (the one place a label's sender is chosen): the shop,
    at the pickup address of the order's warehouse."""
    found = sender_for(order)
    return [found.name, *found.lines]


def packages_for_print(queryset):
    """Packages with what a label needs, in a fixed number of queries (5) for any count: a
    combined package brings the packages it carries, their orders and items."""
    items = Prefetch("items", queryset=PackageItem.objects.select_related("line"))
    combined = Prefetch("combined", queryset=Package.objects.active().select_related("order").prefetch_related(items)
                        .order_by("order_id", "seq"))
    packages = list(queryset.select_related("order__shop", "order__warehouse").prefetch_related(items, combined).order_by("order_id", "seq"))
    counts = dict(
        Package.objects.active().filter(order_id__in={p.order_id for p in packages})
        .values("order_id").annotate(n=Count("id")).values_list("order_id", "n")
    )
    for p in packages:
        p.order_package_count = counts.get(p.order_id, 1)
        members = list(p.combined.all())
        p.parcel_orders = [p.order, *(m.order for m in members)]
        p.parcel_items = [*p.items.all(), *(i for m in members for i in m.items.all())]
    return packages


# DejaVu Sans (shipping/fonts, from npm's dejavu-fonts-ttf): the standard PDF fonts are
# Latin-1 only, which printed "Nguy?n" for Nguyễn and nothing readable for a Cyrillic
# address. Embedded as a subset: only the glyphs a label uses travel in the PDF.
FONT_DIR = Path(__file__).resolve().parent / "fonts"
FONTS = {False: ("LabelSans", "DejaVuSans.ttf"), True: ("LabelSans-Bold", "DejaVuSans-Bold.ttf")}


# Scripts DejaVu lacks, each with a font of its own (shipping/fonts, licences beside them):
# Thai from Noto Sans Thai (npm's @expo-google-fonts/noto-sans-thai, the static TTF instances;
# SIL OFL 1.1). A script font is chosen by code point range, and a combining mark stays in the
# font of the letter it sits on.
SCRIPT_FONTS = (
    ((0x0E00, 0x0E7F), {False: ("LabelThai", "NotoSansThai-Regular.ttf"), True: ("LabelThai-Bold", "NotoSansThai-Bold.ttf")}),
)


@cache
def _ttf(name, file):
    """A TrueType font registered once per process, and the code points it can draw."""
    font = TTFont(name, str(FONT_DIR / file))
    pdfmetrics.registerFont(font)
    return name, frozenset(font.face.charToGlyph)


def _font(bold):
    """The label font and the code points it can draw."""
    return _ttf(*FONTS[bold])


@cache
def _script_font(code, bold):
    for (lo, hi), fonts in SCRIPT_FONTS:
        if lo <= code <= hi:
            name, drawable = _ttf(*fonts[bold])
            return name if code in drawable else None
    return None


def shaped(font_name):
    """True for the embedded TrueType fonts: their text is shaped (see shape)."""
    return not font_name.startswith(("STSong", "HYSMyeongJo"))


def shape(piece, font_name, size):
    """The piece shaped by HarfBuzz (uharfbuzz, through reportlab's ttfonts.shapeStr) for an
    embedded font: reportlab draws text glyph by glyph from the cmap, so without it a Thai tone
    mark over an upper vowel (ที่, ปู่) is drawn on top of the vowel. Shaped, the font's own
    substitutions (the raised tone marks) and mark positions are used; reportlab writes the
    substituted glyphs under private code points and the offsets as TJ adjustments. (canvas.drawString
    only shapes with its bidi extra installed, so the text is shaped here and handed over shaped.)"""
    if not shaped(font_name):
        return piece
    # No Latin ligatures: "fi" stays two letters a sorting hub's scanner and pdftotext read as such.
    word = [pdfmetrics.stringWidth(piece, font_name, size), (_Run(font_name, size), piece)]
    return shapeFragWord(word, features=NO_LIGATURES)[1][1]


NO_LIGATURES = {"kern": True, "liga": False, "clig": False, "dlig": False}


class _Run:
    """What reportlab's shapeFragWord reads of a run: its font and size."""

    def __init__(self, font_name, size):
        self.fontName, self.fontSize = font_name, size


# Chinese, Japanese and Korean names and addresses: PDF's standard Asian fonts, named, not
# embedded (a CJK font file is ~16 MB). The reader draws them with the system's CJK font:
# Windows, macOS and Acrobat have one; a Linux print server needs a package such as
# fonts-noto-cjk. Characters outside both the label font and these ranges print as '?'.
CJK_FONTS = (
    ("STSong-Light", ((0x2E80, 0x2FDF), (0x3000, 0x30FF), (0x31F0, 0x31FF), (0x3400, 0x4DBF),
                      (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0xFF00, 0xFFEF))),
    ("HYSMyeongJo-Medium", ((0x1100, 0x11FF), (0x3130, 0x318F), (0xAC00, 0xD7AF))),
)


@cache
def _cjk_font(ch):
    code = ord(ch)
    for name, ranges in CJK_FONTS:
        if any(lo <= code <= hi for lo, hi in ranges):
            if name not in pdfmetrics.getRegisteredFontNames():
                pdfmetrics.registerFont(UnicodeCIDFont(name))
            return name
    return None


def runs(text, bold=False):
    """`text` as (font, piece) runs the label can print: a script's own font (Thai), the label
    font where it has the glyph, a CJK font for Chinese, Japanese and Korean, else '?', so a gap
    on the label is visible as one. Text is composed first (NFC): "Việt" typed with combining
    marks prints as the precomposed letters the font has."""
    name, drawable = _font(bold)
    out = []
    for ch in unicodedata.normalize("NFC", text or ""):
        code = ord(ch)
        if out and (unicodedata.combining(ch) or ch == " ") and _has(out[-1][0], code):
            out[-1][1] += ch  # a mark stays with its letter, a space with its words
            continue
        font = _script_font(code, bold) or (name if code in drawable else _cjk_font(ch))
        if font is None:
            font, ch = name, "?"
        if out and out[-1][0] == font:
            out[-1][1] += ch
        else:
            out.append([font, ch])
    return [(font, piece) for font, piece in out]


def _has(font_name, code):
    for bold in (False, True):
        for names in (FONTS[bold], *(fonts[bold] for _range, fonts in SCRIPT_FONTS)):
            if names[0] == font_name:
                return code in _ttf(*names)[1]
    return False


def printable(text, bold=False):
    """The characters of `text` as the label prints them ('?' for what no font has)."""
    return "".join(piece for _, piece in runs(text, bold))


class _Page:
    def __init__(self, c, size):
        self.c, (self.w, self.h) = c, size
        self.margin = 0.18 * inch
        self.y = self.h - self.margin
        # The layout is drawn for 4x6 in; a smaller cell (a quarter of US Letter) scales it down.
        self.scale = min(self.w / (4 * inch), self.h / (6 * inch) * 1.03)

    def _width(self, pieces, size):
        return sum(self.c.stringWidth(piece, font, size) for font, piece in pieces)

    def text(self, value, *, size=9, bold=False, gap=2):
        size = size * self.scale
        max_w = self.w - 2 * self.margin
        pieces = runs(value, bold)
        if self._width(pieces, size) > max_w:
            ellipsis = (_font(bold)[0], "...")
            while pieces and self._width([*pieces, ellipsis], size) > max_w:
                font, piece = pieces[-1]
                pieces = pieces[:-1] + ([(font, piece[:-1])] if len(piece) > 1 else [])
            pieces.append(ellipsis)
        self.y -= size
        x = self.margin
        for font, piece in pieces:
            self.c.setFont(font, size)
            self.c.drawString(x, self.y, shape(piece, font, size))
            x += self.c.stringWidth(piece, font, size)
        self.y -= gap

    def rule(self):
        self.y -= 3
        self.c.setLineWidth(0.8)
        self.c.line(self.margin, self.y, self.w - self.margin, self.y)
        self.y -= 5

    def barcode(self, value, height):
        avail = self.w - 2 * self.margin
        bar = Code128(value, barHeight=height, barWidth=1.0, quiet=False)
        bar = Code128(value, barHeight=height, barWidth=min(1.6, avail / bar.width), quiet=False)
        self.y -= height
        bar.drawOn(self.c, self.margin + (avail - bar.width) / 2, self.y)
        self.y -= 4


def _items(pkg):
    return getattr(pkg, "parcel_items", None) or list(pkg.items.all())


def _label(page, pkg):
    order = pkg.order
    carrier = CARRIERS.get(pkg.carrier)
    orders = getattr(pkg, "parcel_orders", [order])
    page.text(carrier.name if carrier else "Carrier", size=14, bold=True)
    if len(orders) > 1:
        page.text(_("%(handover)s - Combined package of %(count)d orders") % {
            "handover": pkg.get_handover_display() or _("Handover"), "count": len(orders)}, size=8)
    else:
        page.text(_("%(handover)s - Package %(seq)s of %(count)s") % {
            "handover": pkg.get_handover_display() or _("Handover"), "seq": pkg.seq, "count": pkg.order_package_count},
            size=8)
    page.rule()
    page.text(_("SHIP TO"), size=7, bold=True)
    page.text(order.buyer_name, size=12, bold=True)
    for line in order.address_lines:  # as the destination country writes addresses (orders.addresses)
        page.text(line, size=10)
    if order.buyer_phone:
        page.text(_("Tel %(phone)s") % {"phone": order.buyer_phone}, size=9)
    page.rule()
    page.text(_("FROM"), size=7, bold=True)
    for line in sender(order):
        page.text(line, size=9)
    page.rule()
    if len(orders) > 1:
        page.text(_("Orders %(numbers)s") % {"numbers": ", ".join(o.number for o in orders)}, size=9, bold=True)
    else:
        page.text(_("Order %(number)s") % {"number": order.number}, size=9, bold=True)
    items = _items(pkg)
    for item in items[:MAX_ITEMS_ON_LABEL]:
        page.text(f"{item.quantity} x {item.line.sku_code}  {item.line.name}", size=8, gap=1)
    if len(items) > MAX_ITEMS_ON_LABEL:
        more = len(items) - MAX_ITEMS_ON_LABEL
        page.text(ngettext("+ %(count)s more item line", "+ %(count)s more item lines", more) % {"count": more}, size=8)
    if pkg.label_note:
        page.text(pkg.label_note, size=9, bold=True)
    page.rule()
    page.barcode(pkg.tracking_number, height=0.9 * inch * page.scale)
    page.text(_("Tracking %(number)s") % {"number": pkg.tracking_number}, size=11, bold=True)


def _slip(page, pkg):
    order = pkg.order
    page.text(_("PACKING SLIP"), size=13, bold=True)
    page.text(_("%(shop)s - Order %(number)s") % {"shop": order.shop.name, "number": order.number}, size=9)
    page.text(_("Package %(seq)s of %(count)s - placed %(date)s") % {
        "seq": pkg.seq, "count": pkg.order_package_count,
        "date": format_when(order.placed_at, "date", tz=order.shop.tzinfo)}, size=8)
    page.rule()
    page.text(_("Ship to"), size=7, bold=True)
    page.text(order.buyer_name, size=10, bold=True)
    page.text(order.full_address, size=8)
    page.rule()
    page.text("  ".join((_("Qty"), _("SKU"), _("Item"))), size=8, bold=True)
    for item in _items(pkg):
        page.text(f"{item.quantity}  {item.line.sku_code}  {item.line.name}", size=9, gap=2)
    if pkg.tracking_number:
        page.rule()
        carrier = CARRIERS.get(pkg.carrier)
        page.text(f"{carrier.name if carrier else ''} {pkg.tracking_number}", size=9)
        page.barcode(pkg.tracking_number, height=0.5 * inch * page.scale)


def label_language(order):
    """The language a label or slip is printed in: the destination's (carriers and the buyer read
    it there), else the buyer's own, else English."""
    return DESTINATION_LANGUAGES.get((order.country or "").upper()) or order_language(order)


# Countries whose labels print in one of the platform's languages.
DESTINATION_LANGUAGES = {"VN": "vi", "TH": "th", "ID": "id", "ES": "es", "MX": "es", "AR": "es", "CO": "es",
                         "CL": "es", "PE": "es"}


def _in_destination_language(draw):
    def draw_in(page, pkg):
        with translation.override(label_language(pkg.order)):
            return draw(page, pkg)

    return draw_in


def render(packages, *, kind, size):
    """One document, bytes: a PDF with one label (or slip) a page, or several a sheet; ZPL
    printer commands for size ZPL (labels only). Each label in its destination's language."""
    draw = _in_destination_language(_label if kind == PrintJob.Kind.LABEL else _slip)
    if size == PrintJob.Size.ZPL:
        from . import zpl

        return zpl.render(packages, draw)
    buf = BytesIO()
    page_size, cols, rows = SHEETS.get(size) or (SIZES[size], 1, 1)
    c = canvas.Canvas(buf, pagesize=page_size, pageCompression=1)
    c.setTitle(_("Shipping labels") if kind == PrintJob.Kind.LABEL else _("Packing slips"))
    c.setAuthor(_("Seller Center"))
    c.setCreator(_("Seller Center"))
    cell = (page_size[0] / cols, page_size[1] / rows)
    per_page = cols * rows
    for i, pkg in enumerate(packages):
        if i and not i % per_page:
            c.showPage()
        if per_page > 1 and not i % per_page:
            _cut_lines(c, page_size, cols, rows)
        n = i % per_page
        c.saveState()
        # Left to right, top to bottom.
        c.translate((n % cols) * cell[0], page_size[1] - (n // cols + 1) * cell[1])
        draw(_Page(c, cell), pkg)
        c.restoreState()
    if packages:
        c.showPage()
    c.save()
    return buf.getvalue()


def _cut_lines(c, page_size, cols, rows):
    """Dashed lines where the sheet is cut into labels."""
    c.saveState()
    c.setDash(3, 3)
    c.setLineWidth(0.3)
    for k in range(1, cols):
        c.line(k * page_size[0] / cols, 0, k * page_size[0] / cols, page_size[1])
    for k in range(1, rows):
        c.line(0, k * page_size[1] / rows, page_size[0], k * page_size[1] / rows)
    c.restoreState()


def content_type(size):
    return "text/plain; charset=utf-8" if size == PrintJob.Size.ZPL else "application/pdf"


def filename(shop, kind, count, size=None):
    stamp = timezone.now().astimezone(shop.tzinfo).strftime("%Y%m%d-%H%M%S")
    ext = "zpl" if size == PrintJob.Size.ZPL else "pdf"
    return f"{shop.slug}-{'labels' if kind == PrintJob.Kind.LABEL else 'packing-slips'}-{count}-{stamp}.{ext}"
