"""What a package's label says (the seller's note) and the printing history."""

from django.db import transaction
from django.db.models import F
from django.utils import timezone

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


@transaction.atomic
def record_print(*, shop, packages, kind, size, actor, reprint_of=None):
    """Printing history: one PrintJob, and a history row per package."""
    packages = list(packages)
    if not packages:
        raise ActionRefused("Choose at least one package to print.")
    # A job stored with a size the renderer does not know would fail on every reprint.
    if kind not in PrintJob.Kind.values:
        raise ActionRefused(f"Choose what to print: {', '.join(PrintJob.Kind.values)}.")
    if size not in PrintJob.Size.values:
        raise ActionRefused(f"Choose a label size: {', '.join(PrintJob.Size.values)}.")
    if kind == PrintJob.Kind.LABEL:
        missing = [p for p in packages if not p.tracking_number]
        if missing:
            raise ActionRefused(f"Package {missing[0].seq} of order {missing[0].order.number} has no tracking number yet.")
    now = timezone.now()
    job = PrintJob.objects.create(shop=shop, kind=kind, size=size, package_count=len(packages), reprint_of=reprint_of,
                                  printed_by=actor.user, printed_at=now)
    job.packages.set(packages)
    if kind == PrintJob.Kind.LABEL:
        Package.objects.filter(pk__in=[p.pk for p in packages]).update(
            label_printed_at=now, label_print_count=F("label_print_count") + 1, updated_at=now
        )
    action = ("reprint_" if reprint_of else "print_") + kind
    PackageEvent.objects.bulk_create(
        _event(p, action, actor, at=now, data={"print_job": job.pk, "size": size}) for p in packages
    )
    return job
