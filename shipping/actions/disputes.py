"""Tracking numbers claimed by two shops: a case for staff, not a race.

A carrier's tracking number belongs to one parcel. When a seller enters a number that a
package of another shop already has, the entry is accepted and both packages are "in
dispute" (TrackingDispute): the feed's events for that number are held (HeldTrackingEvent)
and move neither package, both shops are told, and platform staff decide in admin, from both
shops' evidence (the orders, when each entered the number, the handover photos), which
package keeps the number, or that neither does. The ruling is in both packages' history; the
held events then go to the package that kept the number. A package that lost it may be given
its right number once (the correction of tracking_numbers.correct_tracking).

The same number on two packages of one shop is the seller's typo, and stays a refusal.
"""

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core.locks import lock, lock_one
from orders.actions import ActionRefused
from shops.actions import notify
from shops.models import Notification

from ..models import HeldTrackingEvent, Package, PackageEvent, TrackingClaim, TrackingDispute


def holders(package, carrier, number):
    """The other packages that have (carrier, number): (this shop's, other shops')."""
    found = list(Package.objects.filter(carrier=carrier, tracking_number=number).exclude(pk=package.pk)
                 .select_related("order").order_by("pk"))
    return ([p for p in found if p.shop_id == package.shop_id], [p for p in found if p.shop_id != package.shop_id])


def own_number_refusal(number, other):
    return ActionRefused(_("Tracking number %(number)s is already on package %(seq)s of order %(other)s; each parcel has its own number.") % {"number": number, "seq": other.seq, "other": other.order.number})


def _event(package, action, actor, at, note="", data=None):
    return PackageEvent(package=package, at=at, actor_kind=actor.kind, actor=actor.user, actor_label=actor.label,
                        action=action, from_status=package.status, to_status="", note=note, data=data or {})


def _tell(package, text):
    notify(shop=package.shop, kind=Notification.Kind.SHIPPING, text=text, about_order=package.order_id,
           url=reverse("orders:detail", kwargs={"shop": package.shop.slug, "number": package.order.number}))


def open_or_join(*, package, carrier, number, others, actor, at):
    """`package` (locked, of a shop other than `others`') is being given (carrier, number), which
    `others` already have: open the number's dispute, or join the open one. Sets
    package.tracking_dispute in memory (the caller saves it with the number); marks the others,
    writes each package's history and rings each shop's bell. Returns the dispute."""
    dispute = (TrackingDispute.objects.select_for_update()
               .filter(carrier=carrier, tracking_number=number, status=TrackingDispute.Status.OPEN).first())
    if dispute is None:
        dispute = TrackingDispute.objects.create(carrier=carrier, tracking_number=number, opened_at=at)
    claimed = set(dispute.claims.values_list("package_id", flat=True))
    joining = [p for p in lock(Package.objects.filter(pk__in=[o.pk for o in others]), also_lock=())
               if p.pk not in claimed]
    for other in joining:
        other.tracking_dispute = dispute
        other.save(update_fields=["tracking_dispute", "updated_at"])
    package.tracking_dispute = dispute
    new_claims = [TrackingClaim(dispute=dispute, package=p, shop_id=p.shop_id, entered_at=p.tracking_set_at or at,
                                first=True) for p in joining]
    if package.pk not in claimed:
        new_claims.append(TrackingClaim(dispute=dispute, package=package, shop_id=package.shop_id, entered_at=at))
    TrackingClaim.objects.bulk_create(new_claims)
    told = [p for p in (*joining, package) if p.pk not in claimed]
    data = {"dispute": dispute.pk, "carrier": carrier, "tracking_number": number}
    PackageEvent.objects.bulk_create(
        _event(p, "tracking_disputed", actor, at, data=data,
               note="Another shop entered the same tracking number; its tracking updates are held until platform "
                    "staff decide.") for p in told)
    for p in Package.objects.filter(pk__in=[p.pk for p in told]).select_related("shop", "order"):
        _tell(p, f"Order {p.order.number}, package {p.seq}: tracking number {number} is in dispute. Another shop "
                 "entered the same number; tracking updates for it are held until platform staff decide. Add "
                 "handover photos to the package to support your claim.")
    return dispute


def hold(events, disputes, now):
    """Keep feed events for disputed numbers (`disputes`: (carrier, number) -> dispute id), each
    (carrier, event id) once. Returns how many were kept or had been already."""
    HeldTrackingEvent.objects.bulk_create(
        [HeldTrackingEvent(dispute_id=disputes[(e["carrier"], e["tracking_number"])], received_at=now,
                           **{k: e[k] for k in ("carrier", "event_id", "tracking_number", "tag", "subtag",
                                                "occurred_at", "location", "message")})
         for e in events],
        ignore_conflicts=True,
    )
    return len(events)


@transaction.atomic
def rule(*, dispute, keep, actor, note, at=None):
    """Staff decide: `keep` (a package of the dispute, or None) keeps the number, every other
    package of the dispute loses it (and may be given its right number once). The held events
    go to the package that kept it. Both shops are told, with the note."""
    from ..tracking import ingest  # the feed imports these actions: imported when needed

    dispute = lock_one(TrackingDispute.objects, dispute.pk)
    if not dispute.is_open:
        raise ActionRefused(_("This dispute was already ruled on."))
    note = (note or "").strip()
    if not note:
        raise ActionRefused(_("Say why: both shops read the ruling."))
    packages = list(lock(Package.objects.filter(tracking_dispute=dispute), also_lock=("order",)))
    if keep is not None and keep.pk not in {p.pk for p in packages}:
        raise ActionRefused(_("That package is not in this dispute."))
    now = at or timezone.now()
    keeper = next((p for p in packages if keep is not None and p.pk == keep.pk), None)
    losers = [p for p in packages if p is not keeper]
    number, carrier = dispute.tracking_number, dispute.carrier
    for p in losers:
        # The number goes; a correction (once, within 72 h) gives the package its right one.
        p.tracking_number, p.tracking_dispute, p.tracking_set_at, p.tracking_corrected_at = "", None, now, None
        p.updated_at = now
    Package.objects.bulk_update(losers, ["tracking_number", "tracking_dispute", "tracking_set_at",
                                         "tracking_corrected_at", "updated_at"])
    if keeper is not None:
        keeper.tracking_dispute, keeper.updated_at = None, now
        keeper.save(update_fields=["tracking_dispute", "updated_at"])
    data = {"dispute": dispute.pk, "carrier": carrier, "tracking_number": number}
    PackageEvent.objects.bulk_create(
        [_event(p, "tracking_removed", actor, now, note=note, data=data) for p in losers]
        + ([_event(keeper, "tracking_kept", actor, now, note=note, data=data)] if keeper else []))
    dispute.status, dispute.ruled_at, dispute.ruled_by, dispute.kept_by = TrackingDispute.Status.RULED, now, actor.user, keeper
    dispute.ruling_note = note
    dispute.save(update_fields=["status", "ruled_at", "ruled_by", "kept_by", "ruling_note"])
    held = list(dispute.held_events.filter(released_at__isnull=True))
    if keeper is not None and held:
        ingest([(i, h.as_feed_event()) for i, h in enumerate(held)], now=now)
    dispute.held_events.filter(released_at__isnull=True).update(released_at=now, released_to=keeper)
    for p in Package.objects.filter(pk__in=[p.pk for p in packages]).select_related("shop", "order"):
        if keeper is not None and p.pk == keeper.pk:
            _tell(p, f"Order {p.order.number}, package {p.seq}: platform staff ruled that tracking number {number} is "
                     f"yours; its {len(held)} held tracking update(s) now apply. Staff's note: {note}")
        else:
            _tell(p, f"Order {p.order.number}, package {p.seq}: platform staff ruled that tracking number {number} "
                     f"is not this package's and removed it; enter the right number within 72 h (Correct the "
                     f"tracking number). Staff's note: {note}")
    return dispute
