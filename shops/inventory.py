"""The Inventory page's reads and the stock CSV import.

Days of cover: how long a SKU's available stock lasts at its recent pace of sales, where the pace is
the units on the shop's paid orders placed in the last SALES_DAYS days (cancelled ones too: they were
demand), divided by SALES_DAYS — the same reading as the shop health forecast. No sales in that time:
no figure ("no recent sales"). The units come from the orders app through SALES_HOOKS (shops sits
below orders), one query per page.
"""

import csv
import io
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core import params

from .models import SKU, StockChange, Warehouse, WarehouseStock
from .stock import StockRefused, change_stock

SALES_DAYS = 28
PAGE = 50
LEDGER_PAGE = 50
MAX_CSV_BYTES = 512 * 1024
MAX_CSV_ROWS = 2000
CSV_COLUMNS = ("sku", "warehouse", "on_hand", "reason", "note", "bin_location")

# name -> callable(shop, sku_ids, since) -> {sku_id: units sold since}
SALES_HOOKS = {}


def units_sold(shop, sku_ids, now):
    since = now - timedelta(days=SALES_DAYS)
    out = {}
    for hook in SALES_HOOKS.values():
        for sku_id, units in hook(shop, sku_ids, since).items():
            out[sku_id] = out.get(sku_id, 0) + units
    return out


def days_of_cover(available, sold):
    if not sold:
        return None
    return round(max(available, 0) / (sold / SALES_DAYS), 1)


@dataclass
class Row:
    sku: SKU
    by_warehouse: list  # [(warehouse, WarehouseStock or None)] in the page's warehouse order
    sold: int
    cover: float | None

    @property
    def low(self):
        return self.sku.available < settings.STOCK_LOW_THRESHOLD


def warehouses_of(shop):
    return list(Warehouse.objects.for_shop(shop).active().order_by("-is_default", "name"))


def page(shop, *, after="", query="", low_only=False, now=None):
    """One page of SKUs by code (keyset: codes after `after`), with their warehouse rows and sales:
    four queries whatever the page size (warehouses, SKUs, their rows, sales). Returns (rows,
    warehouses, next cursor or None)."""
    now = now or timezone.now()
    warehouses = warehouses_of(shop)
    skus = SKU.objects.for_shop(shop).order_by("code")
    if after:
        skus = skus.filter(code__gt=after)
    if query:
        skus = skus.filter(Q(code__icontains=query) | Q(name__icontains=query))
    if low_only:
        from django.db.models import F
        skus = skus.alias(avail=F("stock_on_hand") - F("reserved")).filter(avail__lt=settings.STOCK_LOW_THRESHOLD)
    skus = list(skus.prefetch_related(Prefetch("warehouse_stock", queryset=WarehouseStock.objects.order_by())
                                      )[:PAGE + 1])
    more = len(skus) > PAGE
    skus = skus[:PAGE]
    sold = units_sold(shop, [s.pk for s in skus], now) if skus else {}
    rows = []
    for sku in skus:
        mine = {r.warehouse_id: r for r in sku.warehouse_stock.all()}
        units = sold.get(sku.pk, 0)
        rows.append(Row(sku=sku, by_warehouse=[(w, mine.get(w.pk)) for w in warehouses], sold=units,
                        cover=days_of_cover(sku.available, units)))
    return rows, warehouses, (skus[-1].code if more else None)


def ledger(sku, *, before=None):
    """The SKU's ledger, newest first, keyset by id: (changes, next cursor or None)."""
    changes = StockChange.objects.filter(sku=sku).select_related("warehouse", "actor").order_by("-id")
    if before:
        changes = changes.filter(id__lt=before)
    changes = list(changes[:LEDGER_PAGE + 1])
    more = len(changes) > LEDGER_PAGE
    changes = changes[:LEDGER_PAGE]
    return changes, (changes[-1].pk if more else None)


# --- CSV import ------------------------------------------------------------------------------

@dataclass
class ImportRow:
    ref: str  # "row 3"
    sku_code: str
    warehouse_name: str
    on_hand_text: str
    reason: str
    note: str
    bin_location: str | None
    on_hand: int | None = None


@dataclass
class ImportReport:
    """Per row: applied (row, before, after) or refused (row, reason). All or nothing: one refused
    row and nothing is applied."""

    applied: list = field(default_factory=list)
    errors: list = field(default_factory=list)
    file_error: str = ""

    @property
    def ok(self):
        return not self.errors and not self.file_error and bool(self.applied)

    def summary(self):
        if self.file_error:
            return self.file_error
        if self.errors:
            return _("Nothing was changed: %(n)s of the rows cannot be applied (see each row's reason).") % {
                "n": len(self.errors)}
        return _("%(n)s stock figures updated.") % {"n": len(self.applied)}


class CsvRefused(StockRefused):
    pass


def read_csv(upload):
    """ImportRows of an uploaded CSV, or CsvRefused naming what is wrong with the file."""
    if upload.size > MAX_CSV_BYTES:
        raise CsvRefused(_("The file is larger than %(kb)s KB.") % {"kb": MAX_CSV_BYTES // 1024})
    try:
        text = upload.read().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CsvRefused(_("Save the file as UTF-8 CSV.")) from None
    reader = csv.DictReader(io.StringIO(text))
    try:
        header = [(h or "").strip().lower() for h in (reader.fieldnames or [])]
        missing = [c for c in ("sku", "on_hand", "reason") if c not in header]
        if missing:
            raise CsvRefused(_("The header must name %(cols)s (missing: %(missing)s).") % {
                "cols": ", ".join(CSV_COLUMNS), "missing": ", ".join(missing)})
        reader.fieldnames = header
        rows = []
        for n, raw in enumerate(reader, start=2):
            if n - 1 > MAX_CSV_ROWS:
                raise CsvRefused(_("At most %(n)s rows per file.") % {"n": MAX_CSV_ROWS})
            values = {k: (v or "").strip() for k, v in raw.items() if k}
            if not any(values.values()):
                continue
            rows.append(ImportRow(ref=_("row %(n)s") % {"n": n}, sku_code=values.get("sku", ""),
                                  warehouse_name=values.get("warehouse", ""), on_hand_text=values.get("on_hand", ""),
                                  reason=values.get("reason", "").lower(), note=values.get("note", ""),
                                  bin_location=values["bin_location"] if "bin_location" in header else None))
    except csv.Error as exc:
        raise CsvRefused(_("The file cannot be read as CSV (%(why)s).") % {"why": exc}) from None
    if not rows:
        raise CsvRefused(_("The file has no rows."))
    return rows


def import_stock(*, shop, rows, actor):
    """Check every row, then apply them all in one transaction, or none: a row refused when it is
    checked, or by change_stock while applying, rolls back every row."""
    report = ImportReport()
    warehouses = {w.name.lower(): w for w in Warehouse.objects.for_shop(shop).active()}
    default = next((w for w in warehouses.values() if w.is_default), None)
    skus = {s.code: s for s in SKU.objects.for_shop(shop).filter(code__in={r.sku_code for r in rows})}
    seen = set()
    for row in rows:
        problem = _row_problem(row, skus, warehouses, default, seen)
        if problem:
            report.errors.append((row, problem))
    if report.errors:
        return report
    try:
        with transaction.atomic():
            for row in rows:
                sku = skus[row.sku_code]
                warehouse = warehouses[row.warehouse_name.lower()] if row.warehouse_name else default
                before = WarehouseStock.objects.filter(sku=sku, warehouse=warehouse).values_list(
                    "on_hand", flat=True).first() or 0
                try:
                    change_stock(sku=sku, actor=actor, reason=row.reason, on_hand=row.on_hand, note=row.note,
                                 warehouse=warehouse, bin_location=row.bin_location)
                except StockRefused as exc:
                    report.errors.append((row, str(exc)))
                    continue
                report.applied.append((row, warehouse, before, row.on_hand))
            if report.errors:
                raise _RollBack
    except _RollBack:
        report.applied = []
    return report


class _RollBack(Exception):
    pass


def _row_problem(row, skus, warehouses, default, seen):
    if not row.sku_code:
        return _("The sku column is empty.")
    if any(params.has_bad_characters(v or "") for v in (row.sku_code, row.warehouse_name, row.note,
                                                         row.bin_location or "")):
        return _("The row holds control characters; save the file as plain UTF-8 CSV.")
    if row.sku_code not in skus:
        return _("No SKU %(code)s in this shop.") % {"code": row.sku_code[:64]}
    if row.warehouse_name and row.warehouse_name.lower() not in warehouses:
        return _("No open warehouse named %(name)s.") % {"name": row.warehouse_name[:80]}
    if not row.warehouse_name and default is None:
        return _("Name the warehouse: the shop has no default one.")
    on_hand = params.parse_int(row.on_hand_text, lo=0, hi=10**9)
    if on_hand is None:
        return _("on_hand %(value)s is not a whole number from 0 to 1,000,000,000.") % {
            "value": repr(row.on_hand_text[:20])}
    row.on_hand = on_hand
    if row.reason not in StockChange.MANUAL:
        return _("reason %(value)s is not one of %(reasons)s.") % {"value": repr(row.reason[:20]),
                                                                   "reasons": ", ".join(StockChange.MANUAL)}
    if row.reason == StockChange.Reason.OTHER and not row.note:
        return _("Say why in the note when the reason is “other”.")
    if len(row.note) > 500:
        return _("The note is at most 500 characters.")
    if row.bin_location is not None and len(row.bin_location) > 32:
        return _("bin_location is at most 32 characters.")
    warehouse = row.warehouse_name.lower() or default.name.lower()
    if (row.sku_code, warehouse) in seen:
        return _("SKU %(code)s appears twice for the same warehouse.") % {"code": row.sku_code}
    seen.add((row.sku_code, warehouse))
    return None
