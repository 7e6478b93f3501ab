"""Labels in the markets' scripts (issue 17): a Thai label prints every character with a glyph of
an embedded font (no '?'), marks shaped onto their letters; Vietnamese with its diacritics; the
label's language follows the destination. L10N_LABEL_PNG=<dir> keeps the rendered pages to look at."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader
from reportlab.pdfbase import pdfmetrics

from shipping import labels
from shipping.models import Package, PrintJob
from shops.tests.factories import ShopFactory

from .factories import arranged, order_to_ship

pytestmark = pytest.mark.django_db

THAI_NAME = "สมศักดิ์ ปิ่นทอง"  # stacked marks: ดิ์, ปิ่ (a tone mark over an upper vowel)
THAI_LINE1 = "99/1 ถนนสุขุมวิท ซอย 21"
THAI_SUB, THAI_DISTRICT, THAI_CITY = "แขวงคลองเตยเหนือ", "เขตวัฒนา", "กรุงเทพมหานคร"


def _thai_label(shop, kind=PrintJob.Kind.LABEL):
    order = order_to_ship(shop, name=THAI_NAME)
    pkg = arranged(order)[0]
    order.address_line1, order.subdistrict, order.district = THAI_LINE1, THAI_SUB, THAI_DISTRICT
    order.city, order.region, order.postal_code, order.country = THAI_CITY, "", "10110", "TH"
    order.save(update_fields=["address_line1", "subdistrict", "district", "city", "region", "postal_code", "country"])
    qs = Package.objects.filter(pk=pkg.pk)
    return order, labels.render(labels.packages_for_print(qs), kind=kind, size="4x6")


def test_thai_label_has_a_glyph_for_every_character(tmp_path):
    shop = ShopFactory(currency="THB", time_zone="Asia/Bangkok")
    order, pdf = _thai_label(shop)
    text = "".join(page.extract_text() for page in PdfReader(__import__("io").BytesIO(pdf)).pages)
    for value in (THAI_NAME, THAI_LINE1, THAI_SUB, THAI_DISTRICT, THAI_CITY):
        # Every character of the address has a glyph in the font it is drawn with.
        for font, piece in labels.runs(value):
            face = pdfmetrics.getFont(font).face
            missing = [ch for ch in piece if ord(ch) not in face.charToGlyph]
            assert not missing, (value, font, missing)
        assert "?" not in labels.printable(value)
    assert "?" not in text
    # The Thai runs use the embedded Thai font, shaped.
    assert {font for font, _ in labels.runs(THAI_NAME)} == {"LabelThai-Bold"} or \
        {font for font, _ in labels.runs(THAI_NAME, bold=True)} == {"LabelThai-Bold"}
    assert labels.shaped("LabelThai") and not labels.shaped("STSong-Light")
    # Shaped: the tone mark over an upper vowel is the font's raised form (a glyph without a code
    # point of its own, which reportlab writes under a private one), not the low one on the vowel.
    low = "\u0e48"
    shaped = labels.shape("ปิ่น", "LabelThai", 10)
    assert low not in shaped and any(0xE000 <= ord(ch) <= 0xF8FF for ch in shaped)
    assert b"NotoSansThai" in pdf or b"LabelThai" in pdf
    if shutil.which("pdftotext"):
        out = tmp_path / "label.pdf"
        out.write_bytes(pdf)
        extracted = subprocess.run(["pdftotext", "-enc", "UTF-8", str(out), "-"], capture_output=True, text=True,
                                   check=True).stdout
        assert "?" not in extracted
        assert "สุขุมวิท" in extracted.replace(" ", "") or "ถนน" in extracted
    keep = os.environ.get("L10N_LABEL_PNG")
    if keep and shutil.which("pdftoppm"):
        Path(keep).mkdir(parents=True, exist_ok=True)
        (Path(keep) / "thai-label.pdf").write_bytes(pdf)
        subprocess.run(["pdftoppm", "-png", "-r", "200", str(Path(keep) / "thai-label.pdf"),
                        str(Path(keep) / "thai-label")], check=True)


def test_the_label_language_follows_the_destination():
    shop = ShopFactory()
    order = order_to_ship(shop)
    order.country = "TH"
    assert labels.label_language(order) == "th"
    order.country, order.language = "VN", ""
    assert labels.label_language(order) == "vi"
    order.country, order.language = "US", "es"
    assert labels.label_language(order) == "es"  # no language of its own: the buyer's
    order.country, order.language = "US", ""
    assert labels.label_language(order) == "en"


def test_vietnamese_written_with_combining_marks_prints_precomposed():
    decomposed = "Nguye\u0302\u0303n Thi\u0323 Hu\u031bo\u031b\u0300ng"
    assert labels.printable(decomposed) == "Nguyễn Thị Hường"
    assert [font for font, _ in labels.runs(decomposed)] == ["LabelSans"]
