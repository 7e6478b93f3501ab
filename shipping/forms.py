import csv
import io

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core import params

from . import carriers
from .actions import MAX_PACKAGES, ShipRow
from .models import Package, PrintJob

MAX_CSV_BYTES = 1024 * 1024
MAX_CSV_ROWS = 2000
CSV_COLUMNS = ("order_number", "package", "carrier", "tracking_number")


class ArrangeForm(forms.Form):
    handover = forms.ChoiceField(
        choices=[(Package.Handover.PICKUP, "Pickup by the carrier"), (Package.Handover.DROP_OFF, "I drop it off")],
        widget=forms.RadioSelect, label=_("Handover"),
    )
    pickup_slot = forms.ChoiceField(required=False, label=_("Pickup time slot"))
    dropoff_point = forms.ChoiceField(required=False, choices=[("", "Choose a point"), *carriers.DROPOFF_POINTS],
                                      label=_("Drop-off point"))

    def __init__(self, *args, slots=(), tz=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.slots = {s.isoformat(): s for s, _ in slots}
        self.fields["pickup_slot"].choices = [("", "Choose a slot")] + [
            (s.isoformat(), f"{s.astimezone(tz):%a %b %d, %H:%M}–{e.astimezone(tz):%H:%M}") for s, e in slots
        ]

    def clean(self):
        data = super().clean()
        if data.get("handover") == Package.Handover.PICKUP:
            if not data.get("pickup_slot"):
                self.add_error("pickup_slot", _("Choose a pickup time slot."))
            data["pickup_slot"] = self.slots.get(data.get("pickup_slot"))
        elif data.get("handover") == Package.Handover.DROP_OFF and not data.get("dropoff_point"):
            self.add_error("dropoff_point", _("Choose a drop-off point."))
        return data


class ShipForm(forms.Form):
    carrier = forms.ChoiceField(choices=carriers.SELLER_CARRIERS)
    tracking_number = forms.CharField(max_length=40)


class CorrectForm(ShipForm):
    reason = forms.CharField(max_length=300, required=False)


class LabelNoteForm(forms.Form):
    label_note = forms.CharField(max_length=200, required=False, label=_("Text on the label"))


class PhotoForm(forms.Form):
    photo = forms.FileField(label=_("Handover photo"))


class ComplaintForm(forms.Form):
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=4000,
                                  label=_("What happened"))


class ShopDateTimeField(params.DateTimeField):
    """A date and time the seller types in their shop's time zone (`tz`), not the server's:
    "09:00" in a New York shop is 14:00 UTC. A time the clocks skip is refused, and so is one
    outside params' date range (9999-12-31 23:59 in New York is year 10000 in UTC)."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")

    def __init__(self, *args, tz=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.tz = tz

    def to_python(self, value):
        with timezone.override(self.tz or timezone.get_current_timezone()):
            return super().to_python(value)


class ForceMajeureForm(forms.Form):
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), max_length=4000, label=_("The event"))
    event_start = ShopDateTimeField(label=_("Began"))
    event_end = ShopDateTimeField(label=_("Expected to end"))
    orders = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label=_("Affected orders"),
                             help_text=_("Order numbers, separated by spaces, commas or lines."))

    def __init__(self, *args, tz=None, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("event_start", "event_end"):
            self.fields[name].tz = tz
            if tz is not None:
                self.fields[name].help_text = f"In your shop's time zone ({tz})."

    def clean_orders(self):
        import re

        numbers = [t for t in re.split(r"[\s,;]+", self.cleaned_data["orders"]) if t]
        if not numbers:
            raise forms.ValidationError(_("Name at least one order."))
        if len(numbers) > 500:
            raise forms.ValidationError(_("At most 500 orders per ticket."))
        return list(dict.fromkeys(numbers))


class PrintForm(forms.Form):
    """What to print: packages, the packages of orders, or everything in the print queue."""

    kind = forms.ChoiceField(choices=PrintJob.Kind.choices, initial=PrintJob.Kind.LABEL)
    size = forms.ChoiceField(choices=PrintJob.Size.choices, initial=PrintJob.Size.FOUR_BY_SIX)
    package = forms.TypedMultipleChoiceField(coerce=int, choices=[], required=False)
    order = forms.TypedMultipleChoiceField(coerce=int, choices=[], required=False)
    everything = forms.BooleanField(required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The ids are checked against the shop in the view; here they only need to be ids.
        for name in ("package", "order"):
            self.fields[name].valid_value = lambda value: params.parse_id(str(value)) is not None

    def clean(self):
        data = super().clean()
        if not (data.get("package") or data.get("order") or data.get("everything")) and not self.errors:
            raise forms.ValidationError(_("Choose at least one package."))
        return data


class PaperForm(forms.Form):
    """The paper of a pick list or packing lists."""

    paper = forms.ChoiceField(choices=[("A4", _("A4")), ("LTR", _("US Letter"))], initial="A4", required=False)

    def clean_paper(self):
        return self.cleaned_data.get("paper") or "A4"


class CsvUploadForm(forms.Form):
    file = forms.FileField(label=_("CSV file"))
    all_or_nothing = forms.BooleanField(required=False, initial=True, label=_("Apply only if every row is valid"))


def parse_ship_csv(upload):
    """(rows, errors): ShipRows of a CSV with columns order_number, package (optional),
    carrier, tracking_number; errors are (ShipRow, reason) for lines that cannot be read."""
    if upload.size > MAX_CSV_BYTES:
        raise forms.ValidationError(_("The file is larger than %(value)s KB.") % {"value": MAX_CSV_BYTES // 1024})
    try:
        text = upload.read().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise forms.ValidationError(_("Save the file as UTF-8 CSV.")) from None
    reader = csv.DictReader(io.StringIO(text))
    try:
        header = [h.strip().lower() for h in (reader.fieldnames or [])]
    except csv.Error as exc:
        raise forms.ValidationError(_("The file cannot be read as CSV (%(exc)s).") % {"exc": exc}) from None
    missing = [c for c in ("order_number", "carrier", "tracking_number") if c not in header]
    if missing:
        raise forms.ValidationError(_("The header must name %(items)s (missing: %(choices)s).") % {"items": ', '.join(CSV_COLUMNS), "choices": ', '.join(missing)})
    reader.fieldnames = header
    try:
        return _read_rows(reader)
    except csv.Error as exc:  # a field past the csv module's size limit, a broken quote
        raise forms.ValidationError(_("The file cannot be read as CSV (%(exc)s).") % {"exc": exc}) from None


def _read_rows(reader):
    rows, errors = [], []
    for n, raw in enumerate(reader, start=2):
        if n - 1 > MAX_CSV_ROWS:
            raise forms.ValidationError(_("At most %(max_csv_rows)s rows per file.") % {"max_csv_rows": MAX_CSV_ROWS})
        values = {k: (v or "").strip() for k, v in raw.items() if k}
        if not any(values.values()):
            continue
        seq_text = values.get("package", "")
        row = ShipRow(f"row {n}", values.get("order_number", ""), None, values.get("carrier", "").lower(),
                      values.get("tracking_number", ""))
        if seq_text:
            seq = params.parse_int(seq_text, lo=1, hi=MAX_PACKAGES)
            if seq is None:
                errors.append((row, f"Package {seq_text[:20]!r} is not a package number (1 to {MAX_PACKAGES})."))
                continue
            row.seq = seq
        bad = next((c for c in CSV_COLUMNS if params.has_bad_characters(values.get(c, ""))), None)
        if bad:
            errors.append((row, f"The {bad} holds control characters; save the file as plain UTF-8 CSV."))
            continue
        if not row.order_number or not row.carrier or not row.tracking_number:
            errors.append((row, "order_number, carrier and tracking_number are all required."))
            continue
        rows.append(row)
    if not rows and not errors:
        raise forms.ValidationError(_("The file has no rows."))
    return rows, errors
