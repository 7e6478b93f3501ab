"""Labels as ZPL II, the command language of Zebra-compatible thermal printers: a 4x6 in label
at 203 dpi, sent to the printer as is (raw TCP port 9100, or the driver's "pass-through").

The layout is the PDF's (`labels._label` draws on either page); this page turns each call into
ZPL fields. Every text field goes through ^FH (hexadecimal escapes) after `escape`, so a caret or
tilde in a buyer's name or the seller's note is printed, never read as a command, and ^CI28
makes the printer read the field bytes as UTF-8.
"""

from reportlab.pdfbase.pdfmetrics import stringWidth

from . import labels

DPI = 203
WIDTH, HEIGHT = 4 * DPI, 6 * DPI  # dots
MARGIN = 36  # dots, about 0.18 in like the PDF
PT = DPI / 72  # dots per point
HEX_INDICATOR = "_"
# ^ starts a format command, ~ a control command; the hex indicator itself must be escaped too.
_ESCAPES = {"^": "_5E", "~": "_7E", "_": "_5F"}


def escape(text):
    """Text for a ^FH field: the characters ZPL reads as commands as hexadecimal escapes, and
    line breaks as spaces (a field is one line)."""
    return "".join(_ESCAPES.get(ch, ch) for ch in " ".join(str(text).split()))


class ZplPage:
    """The label page of labels._Page, written as ZPL fields."""

    def __init__(self):
        self.w, self.h = WIDTH, HEIGHT
        self.y = MARGIN
        self.scale = 1.0  # the layout's sizes are in points of a 4x6 in label
        self.fields = []

    def _fit(self, value, size, bold):
        """The text cut with '...' to the label width (measured with the PDF font's metrics,
        a close match to the printer's scalable font 0)."""
        font = labels._font(bold)[0]
        room = (self.w - 2 * MARGIN) / PT
        value = " ".join(str(value or "").split())
        if stringWidth(value, font, size) <= room:
            return value
        while value and stringWidth(value + "...", font, size) > room:
            value = value[:-1]
        return value + "..."

    def text(self, value, *, size=9, bold=False, gap=2):
        height = round(size * PT * 1.1)
        text = self._fit(value, size, bold)
        # Font 0 has no bold: a bold field is drawn a little wider.
        width = round(height * (1.0 if bold else 0.85))
        self.fields.append(f"^FO{MARGIN},{round(self.y)}^A0N,{height},{width}^FH{HEX_INDICATOR}^FD{escape(text)}^FS")
        self.y += height + gap * PT

    def rule(self):
        self.y += 3 * PT
        self.fields.append(f"^FO{MARGIN},{round(self.y)}^GB{self.w - 2 * MARGIN},2,2^FS")
        self.y += 5 * PT

    def barcode(self, value, height):
        dots = round(height * PT)
        # Module width 3 dots: a 13-character Code 128 number is about 2.3 in wide.
        self.fields.append(f"^FO{MARGIN + 40},{round(self.y)}^BY3,3,{dots}^BCN,{dots},N,N,N"
                           f"^FH{HEX_INDICATOR}^FD{escape(value)}^FS")
        self.y += dots + 4 * PT

    def zpl(self):
        return "\n".join(["^XA", "^CI28", f"^PW{WIDTH}", f"^LL{HEIGHT}", "^LH0,0", *self.fields, "^XZ"])


def render(packages, draw):
    """Every package's label, one ^XA...^XZ format each, as UTF-8 bytes."""
    out = []
    for pkg in packages:
        page = ZplPage()
        draw(page, pkg)
        out.append(page.zpl())
    return ("\n".join(out) + "\n").encode()
