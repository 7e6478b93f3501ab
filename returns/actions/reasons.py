"""The reasons a rejection or a dispute may give, and their note."""

from orders.actions import ActionRefused

from ..models import REJECT_REASONS_BY_KIND, BuyerRequest

R = BuyerRequest.Status


def _clean_reason(reason, allowed, note, *, unknown, missing, too_long):
    """A reason from a fixed list and its note (stripped): refused with `unknown`, with
    `missing` when the note is empty and must not be (None: it may be), with `too_long`."""
    if reason not in allowed:
        raise ActionRefused(unknown)
    note = (note or "").strip()
    if missing and not note:
        raise ActionRefused(missing)
    if len(note) > 500:
        raise ActionRefused(too_long)
    return note


DISPUTE_REASONS = (BuyerRequest.RejectReason.NOT_RECEIVED_BACK, BuyerRequest.RejectReason.USED,
                   BuyerRequest.RejectReason.EVIDENCE, BuyerRequest.RejectReason.OTHER)


def reject_reasons(request):
    """The reasons a rejection of `request` may give (its kind's; a disputed return's too)."""
    reasons = REJECT_REASONS_BY_KIND[request.kind]
    if request.status == R.DISPUTED:
        reasons = (*reasons, *(r for r in DISPUTE_REASONS if r not in reasons))
    return reasons
