"""Complaints about a carrier that did not collect, force-majeure tickets, and staff's ruling
on them (an approved force majeure pauses the orders' deadlines)."""

from datetime import timedelta

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core.locks import lock_one
from orders import actions as order_actions
from orders import transitions as order_transitions
from orders.actions import ActionRefused
from orders.models import Order
from shops.actions import notify
from shops.models import Notification

from ..models import Package, Ticket, TicketEvent
from .events import _event


def _ticket_event(ticket, action, actor, *, at, from_status="", to_status="", note=""):
    return TicketEvent(ticket=ticket, at=at, actor_kind=actor.kind, actor=actor.user, actor_label=actor.label,
                       action=action, from_status=from_status, to_status=to_status, note=note)


def _description(text):
    text = (text or "").strip()
    if len(text) < 10:
        raise ActionRefused(_("Describe what happened (at least 10 characters)."))
    if len(text) > 4000:
        raise ActionRefused(_("At most 4000 characters."))
    return text


@transaction.atomic
def file_complaint(*, package, actor, description):
    """The carrier did not collect within the window: the seller complains to the platform."""
    package = lock_one(Package.objects, package.pk, also_lock=("order",))
    now = timezone.now()
    if not package.can_complain(now):
        raise ActionRefused(
            _("Package %(seq)s can be complained about once it is ready and the carrier is past its collection time.") % {"seq": package.seq}
        )
    if Ticket.objects.filter(package=package, kind=Ticket.Kind.LOGISTICS_COMPLAINT, status=Ticket.Status.OPEN).exists():
        raise ActionRefused(_("A complaint about this package is already open."))
    ticket = Ticket.objects.create(shop_id=package.shop_id, kind=Ticket.Kind.LOGISTICS_COMPLAINT, package=package,
                                   description=_description(description), filed_by=actor.user, filed_at=now)
    ticket.orders.set([package.order_id])
    _ticket_event(ticket, "file", actor, at=now, to_status=Ticket.Status.OPEN, note=ticket.description).save()
    _event(package, "complaint_filed", actor, at=now, data={"ticket": ticket.pk}).save()
    return ticket


@transaction.atomic
def file_force_majeure(*, shop, order_ids, actor, description, event_start, event_end):
    now = timezone.now()
    if not order_ids:
        raise ActionRefused(_("Choose the affected orders."))
    if event_start is None or event_end is None or event_end <= event_start:
        raise ActionRefused(_("Give when the event began and when it is expected to end (after it began)."))
    if event_end - event_start > timedelta(days=30):
        raise ActionRefused(_("A force-majeure event is at most 30 days; file another ticket if it lasts longer."))
    orders = list(Order.objects.for_shop(shop).filter(pk__in=order_ids, status__in=order_transitions.IN_FULFILLMENT))
    if len(orders) != len(set(order_ids)):
        raise ActionRefused(_("Some of those orders are not open orders of this shop."))
    ticket = Ticket.objects.create(shop=shop, kind=Ticket.Kind.FORCE_MAJEURE, description=_description(description),
                                   event_start=event_start, event_end=event_end, filed_by=actor.user, filed_at=now)
    ticket.orders.set(orders)
    _ticket_event(ticket, "file", actor, at=now, to_status=Ticket.Status.OPEN,
                  note=f"{len(orders)} order(s) affected").save()
    return ticket


@transaction.atomic
def rule_ticket(*, ticket, approve, actor, note="", pause_until=None):
    """Staff rule on a complaint or ticket. Approving force majeure pauses the affected open
    orders' deadlines until `pause_until` (default: the event's end), stored on the ticket."""
    ticket = lock_one(Ticket.objects, ticket.pk)
    if not ticket.can_rule():
        raise ActionRefused(_("Ticket #%(pk)s was already %(status)s.") % {"pk": ticket.pk, "status": ticket.get_status_display().lower()})
    note = (note or "").strip()
    if not approve and not note:
        raise ActionRefused(_("Say why the ticket is rejected."))
    now = timezone.now()
    to_status = Ticket.Status.APPROVED if approve else Ticket.Status.REJECTED
    fields = ["status", "ruled_by", "ruled_at", "ruling_note"]
    if approve and ticket.kind == Ticket.Kind.FORCE_MAJEURE:
        until = pause_until or ticket.event_end
        if until is None or until <= now:
            raise ActionRefused(_("The pause must end in the future; give a pause end."))
        open_ids = list(ticket.orders.filter(status__in=order_transitions.IN_FULFILLMENT).values_list("pk", flat=True))
        order_actions.pause_deadlines(
            order_ids=open_ids, until=until, actor=actor, note=f"Force majeure ticket #{ticket.pk} approved.",
            data={pk: {"ticket": ticket.pk} for pk in open_ids},
        )
        ticket.paused_from, ticket.paused_until = now, until
        fields += ["paused_from", "paused_until"]
    from_status = ticket.status
    ticket.status, ticket.ruled_by, ticket.ruled_at, ticket.ruling_note = to_status, actor.user, now, note
    ticket.save(update_fields=fields)
    _ticket_event(ticket, "approve" if approve else "reject", actor, at=now, from_status=from_status,
                  to_status=to_status, note=note).save()
    if ticket.package_id:
        _event(ticket.package, "complaint_" + ("upheld" if approve else "rejected"), actor, at=now,
               data={"ticket": ticket.pk}).save()
    verdict = "approved" if approve else "rejected"
    notify(shop=ticket.shop, kind=Notification.Kind.SHIPPING,
           text=f"{ticket.get_kind_display()} #{ticket.pk} {verdict}." + (f" {note}" if note else ""),
           url=reverse("shipping:ticket", kwargs={"shop": ticket.shop.slug, "pk": ticket.pk}))
    return ticket
