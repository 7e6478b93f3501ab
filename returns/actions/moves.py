"""A request's move and its timeline row (RequestEvent)."""

from django.utils import timezone

from .. import transitions
from ..models import RequestEvent


def _event(request, action, actor, *, from_status, to_status, at, note="", data=None):
    event = RequestEvent(
        request=request, at=at, actor_kind=actor.kind, actor=actor.user, actor_label=actor.label, action=action,
        from_status=from_status, to_status=to_status, note=note, data=data or {},
    )
    event.save()
    return event


def _move(request, action, actor, *, note="", data=None, at=None, staff=False, **fields):
    """Move one locked request by `action` and write its timeline row."""
    to_status = transitions.check(action, request, staff=staff)
    at = at or timezone.now()
    from_status = request.status
    request.status = to_status
    if to_status != from_status:
        request.status_changed_at = at
    for name, value in fields.items():
        setattr(request, name, value)
    request.save(update_fields=["status", "status_changed_at", *fields])
    return _event(request, action, actor, from_status=from_status, to_status=to_status, at=at, note=note, data=data)
