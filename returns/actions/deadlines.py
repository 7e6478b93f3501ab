"""The requests' deadlines when the platform's time changes: paused by force majeure (P12),
moved with a rule's new window."""

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from core.locks import lock

from .. import transitions
from ..models import BuyerRequest, RequestEvent


def pause_request_deadlines(*, order_ids, pause, actor, at):
    """Force majeure approved on these orders (P12): what the seller owes on their open
    requests (the answer, P11; the refund of a shipped-back return, P14) moves later by
    the pause. The buyer's ship-back deadline (P13) stays: the event is the seller's."""
    moves = {
        "respond_by": BuyerRequest.objects.filter(order_id__in=order_ids, status__in=transitions.AWAITING_ANSWER),
        "refund_by": BuyerRequest.objects.filter(order_id__in=order_ids, status__in=transitions.AWAITING_REFUND,
                                                 refund_by__isnull=False),
    }
    events = []
    for field, qs in moves.items():
        rows = list(lock(qs).values_list("pk", "status", field))
        qs.filter(pk__in=[pk for pk, _, _ in rows]).update(**{field: F(field) + pause})
        events += [
            RequestEvent(request_id=pk, at=at, actor_kind=actor.kind, actor=actor.user, actor_label=actor.label,
                         action="deadline_paused", from_status=status, to_status=status,
                         note="Force majeure: the seller's deadline moves later by the pause.",
                         data={"field": field, "before": before.isoformat(), "after": (before + pause).isoformat()})
            for pk, status, before in rows
        ]
    RequestEvent.objects.bulk_create(events)


# What each window the requests keep a deadline of moves, and how it reads on the timeline.
WINDOW_DEADLINES = {
    "P11": ("respond_by", transitions.AWAITING_ANSWER, "The platform now gives sellers {window} to answer; the answer deadline "
            "moved with it."),
    "P13": ("ship_back_by", transitions.AWAITING_SHIP_BACK, "The platform now allows {window} to ship a return back; the deadline "
            "moved with it."),
    "P14": ("refund_by", transitions.AWAITING_REFUND, "The platform now gives sellers {window} to refund a "
            "returned item; the refund deadline moved with it."),
}


@transaction.atomic
def follow_window(*, before, after, actor, at=None):
    """Staff changed a rule's window (`before` and `after` are its policy_windows.Window):
    the open requests' deadlines derived from it move by the difference, twice for an
    answer deadline the seller extended once (it holds two windows), so a force-majeure
    pause or an extension stays in them. One timeline row per moved request, in a fixed
    number of statements. Returns how many moved."""
    if after.rule not in WINDOW_DEADLINES or after.hours == before.hours:
        return 0
    field, statuses, note = WINDOW_DEADLINES[after.rule]
    at = at or timezone.now()
    delta = after.delta - before.delta
    due = BuyerRequest.objects.filter(status__in=statuses, **{f"{field}__isnull": False})
    rows = list(lock(due).values_list("pk", "status", field, "extended_at"))
    if not rows:
        return 0
    twice = {pk for pk, _, _, extended in rows if extended is not None and field == "respond_by"}
    once = [pk for pk, _, _, _ in rows if pk not in twice]
    if once:
        BuyerRequest.objects.filter(pk__in=once).update(**{field: F(field) + delta})
    if twice:
        BuyerRequest.objects.filter(pk__in=sorted(twice)).update(**{field: F(field) + 2 * delta})
    text = note.format(window=after.words)
    window = {"rule": after.rule, "version": after.version, "hours": str(after.hours)}
    RequestEvent.objects.bulk_create(
        RequestEvent(request_id=pk, at=at, actor_kind=actor.kind, actor=actor.user, actor_label=actor.label,
                     action="deadlines_recomputed", from_status=status, to_status=status, note=text,
                     data={"field": field, "before": deadline.isoformat(),
                           "after": (deadline + (2 if pk in twice else 1) * delta).isoformat(), "window": window})
        for pk, status, deadline, _ in rows
    )
    return len(rows)
