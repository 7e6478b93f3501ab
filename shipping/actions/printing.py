"""What a package's label says (the seller's note) and the printing history."""

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core.locks import lock_one
from orders.actions import ActionRefused

from .. import content, transitions
from ..models import Package, PackageEvent, PrintJob
from .events import _event


@transaction.atomic
def set_label_note(*, package, text, actor):
    package = lock_one(Package.objects, package.pk, also_lock=("order",))
    transitions.check("edit_label", package)
    text = content.check_label_text(text)
    old = package.label_note
    package.label_note = text
    package.save(update_fields=["label_note", "updated_at"])
    _event(package, "edit_label", actor, at=timezone.now(), data={"from": old, "to": text}).save()
    return package


MAX_PRINT = 600  # labels or slips in one document (TikTok Shop prints up to 600 orders at once)


@transaction.atomic
def record_print(*, shop, packages, kind, size, actor, reprint_of=None):
    """Printing history: one PrintJob, and a history row per package. A label printed for a
    combined package is the label of every package it carries."""
    packages = list(packages)
    if not packages:
        raise ActionRefused(_("Choose at least one package to print."))
    if len(packages) > MAX_PRINT:
        raise ActionRefused(_("At most %(max)d at once in one document; %(count)d were chosen. Print a selection.")
                            % {"max": MAX_PRINT, "count": len(packages)})
    # A job stored with a size the renderer does not know would fail on every reprint.
    if kind not in PrintJob.Kind.values:
        raise ActionRefused(_("Choose what to print: %(items)s.") % {"items": ', '.join(PrintJob.Kind.values)})
    if size not in PrintJob.Size.values:
        raise ActionRefused(_("Choose a label size: %(items)s.") % {"items": ', '.join(PrintJob.Size.values)})
    if kind != PrintJob.Kind.LABEL and size == PrintJob.Size.ZPL:
        raise ActionRefused(_("Packing slips print on paper: choose 4 × 6 in, A6, A4 or US Letter."))
    if kind == PrintJob.Kind.LABEL:
        missing = [p for p in packages if not p.tracking_number]
        if missing:
            raise ActionRefused(_("Package %(seq)s of order %(number)s has no tracking number yet.") % {"seq": missing[0].seq, "number": missing[0].order.number})
        inside = [p for p in packages if p.parcel_id]
        if inside:
            raise ActionRefused(_("Order %(number)s travels in a combined package; print that package's label.")
                                % {"number": inside[0].order.number})
    now = timezone.now()
    job = PrintJob.objects.create(shop=shop, kind=kind, size=size, package_count=len(packages), reprint_of=reprint_of,
                                  printed_by=actor.user, printed_at=now)
    job.packages.set(packages)
    ids = [p.pk for p in packages]
    if kind == PrintJob.Kind.LABEL:
        Package.objects.filter(Q(pk__in=ids) | Q(parcel_id__in=ids)).update(
            label_printed_at=now, label_print_count=F("label_print_count") + 1, updated_at=now
        )
    else:
        Package.objects.filter(pk__in=ids).update(
            slip_printed_at=now, slip_print_count=F("slip_print_count") + 1, updated_at=now
        )
    # A package printed before (from the history's job or the queue's "printed" tab) is a reprint.
    printed_before = "label_printed_at" if kind == PrintJob.Kind.LABEL else "slip_printed_at"
    PackageEvent.objects.bulk_create(
        _event(p, ("reprint_" if reprint_of or getattr(p, printed_before) else "print_") + kind, actor, at=now,
               data={"print_job": job.pk, "size": size}) for p in packages
    )
    return job
