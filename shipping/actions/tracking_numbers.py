"""A seller's own tracking number on one package: entered before handover, corrected once."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.locks import lock_one
from orders.actions import ActionRefused

from .. import carriers, transitions
from ..models import Package
from . import disputes
from .events import _event
from .packages import _order_still_shipping


@transaction.atomic
def set_tracking(*, package, carrier, tracking_number, actor, at=None):
    """Ship by seller: enter the carrier's number before handover (to print a label and
    mark the package ready for the carrier to collect). Once set, only a correction changes it."""
    package = lock_one(Package.objects, package.pk, also_lock=("order",))
    transitions.check("set_tracking", package)
    _order_still_shipping(package)
    if package.handover != Package.Handover.SELLER:
        raise ActionRefused(_("Platform shipments get their tracking number from the platform label."))
    if package.tracking_number:
        raise ActionRefused(_("Package %(seq)s already has a tracking number; correct it instead.") % {"seq": package.seq})
    number = carriers.normalize(tracking_number)
    problem = carriers.check(carrier, number) or (
        "The platform carrier's numbers come with a platform label." if carriers.CARRIERS[carrier].platform else None
    )
    if problem:
        raise ActionRefused(problem)
    own, others = disputes.holders(package, carrier, number)
    if own:
        raise disputes.own_number_refusal(number, own[0])
    now = at or timezone.now()
    package.carrier, package.tracking_number, package.tracking_set_at = carrier, number, now
    if others:  # another shop's package has it: accepted, in dispute until staff rule
        disputes.open_or_join(package=package, carrier=carrier, number=number, others=others, actor=actor, at=now)
    package.save(update_fields=["carrier", "tracking_number", "tracking_set_at", "tracking_dispute", "updated_at"])
    _event(package, "set_tracking", actor, at=now, data={"carrier": carrier, "tracking_number": number}).save()
    return package


@transaction.atomic
def correct_tracking(*, package, tracking_number, actor, carrier=None, reason=""):
    """A seller's tracking number may be corrected once, within 72 h of entering it."""
    package = lock_one(Package.objects, package.pk, also_lock=("order",))
    now = timezone.now()
    carrier = carrier or package.carrier
    number = carriers.normalize(tracking_number)
    if package.handover != Package.Handover.SELLER:
        raise ActionRefused(_("Only a seller's own tracking number can be corrected."))
    if package.tracking_corrected_at is not None:
        raise ActionRefused(_("The tracking number of package %(seq)s was already corrected once.") % {"seq": package.seq})
    if package.tracking_dispute_id:
        raise ActionRefused(_("The tracking number of package %(seq)s is in dispute; platform staff decide first.") % {"seq": package.seq})
    if not package.can_correct_tracking(now):
        raise ActionRefused(_("The tracking number of package %(seq)s can be corrected only within 72 h of entering it.") % {"seq": package.seq})
    problem = carriers.check(carrier, number) or (
        "The platform carrier's numbers come with a platform label." if carriers.CARRIERS[carrier].platform else None
    )
    if problem:
        raise ActionRefused(problem)
    if (carrier, number) == (package.carrier, package.tracking_number):
        raise ActionRefused(_("That is the current tracking number."))
    own, others = disputes.holders(package, carrier, number)
    if own:
        raise disputes.own_number_refusal(number, own[0])
    old = {"carrier": package.carrier, "tracking_number": package.tracking_number}
    package.carrier, package.tracking_number, package.tracking_corrected_at = carrier, number, now
    if others:
        disputes.open_or_join(package=package, carrier=carrier, number=number, others=others, actor=actor, at=now)
    package.save(update_fields=["carrier", "tracking_number", "tracking_corrected_at", "tracking_dispute", "updated_at"])
    _event(package, "correct_tracking", actor, at=now, note=reason,
           data={"from": old, "to": {"carrier": carrier, "tracking_number": number}}).save()
    return package
