"""History rows and messages that change no status: notes, higher apps' named rows, the
order's messages."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import history
from .results import ActionRefused


@transaction.atomic
def add_note(*, order, actor, text):
    """A seller's or staff member's note: a history row that changes no status."""
    text = (text or "").strip()
    if not text:
        raise ActionRefused(_("Write the note first."))
    if len(text) > 2000:
        raise ActionRefused(_("A note is at most 2000 characters."))
    return history.record(order, "note", actor, from_status=order.status, to_status=order.status, at=timezone.now(),
                          note=text)


def record_event(*, order, actor, action, note="", data=None, at=None):
    """A named history row that changes no status (buyer requests, refunds)."""
    return history.record(order, action, actor, from_status=order.status, to_status=order.status,
                          at=at or timezone.now(), note=note, data=data)


def post_message(*, order, sender, body, author=None, at=None):
    """A message on the order between shop and buyer, or a platform notice."""
    body = (body or "").strip()
    if not body:
        raise ActionRefused(_("Write the message first."))
    if len(body) > 4000:
        raise ActionRefused(_("A message is at most 4000 characters."))
    return history.post_message(order, sender, body, author=author, at=at or timezone.now())
