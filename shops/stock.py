"""Stock on hand, changed by a seller or their system: one SKU at a time, locked, checked against
the version the writer read (a stale write is refused), never below what confirmed orders have
reserved, and recorded as a StockChange."""

from django.db import transaction
from django.utils import timezone

from core.locks import lock_one
from core.refusals import Refused

from . import feed
from .models import SKU, StockChange

MAX_STOCK = 10**9


class StockRefused(Refused):
    """A stock change that cannot be applied; the message says why."""


class StaleStock(StockRefused):
    def __init__(self, sku):
        self.current = sku.stock_version
        super().__init__(f"SKU {sku.code} changed since you read it (now version {sku.stock_version}, "
                         f"{sku.stock_on_hand} on hand); read it again and resend.")


@transaction.atomic
def change_stock(*, sku, actor, reason, on_hand=None, delta=None, note="", expected_version=None, at=None):
    """Set stock on hand to `on_hand`, or move it by `delta`. `actor` has kind, user and label."""
    if (on_hand is None) == (delta is None):
        raise StockRefused("Give either the new stock on hand or the change, not both.")
    if reason not in StockChange.Reason.values:
        raise StockRefused(f"Choose a reason: {', '.join(StockChange.Reason.values)}.")
    if reason == StockChange.Reason.OTHER and not note.strip():
        raise StockRefused("Say why when the reason is “other”.")
    locked = lock_one(SKU.objects, sku.pk)
    if expected_version is not None and expected_version != locked.stock_version:
        raise StaleStock(locked)
    after = on_hand if on_hand is not None else locked.stock_on_hand + delta
    if not 0 <= after <= MAX_STOCK:
        raise StockRefused(f"Stock on hand must be between 0 and {MAX_STOCK:,}.")
    if after < locked.reserved:
        raise StockRefused(f"SKU {locked.code}: {locked.reserved} are reserved by confirmed orders; "
                           f"stock on hand cannot go below that.")
    before = locked.stock_on_hand
    locked.stock_on_hand, locked.stock_version = after, locked.stock_version + 1
    locked.save(update_fields=["stock_on_hand", "stock_version"])
    at = at or timezone.now()
    StockChange.objects.create(sku=locked, at=at, actor_kind=actor.kind, actor=actor.user,
                               actor_label=actor.label, reason=reason, note=note.strip(),
                               on_hand_before=before, on_hand_after=after, version=locked.stock_version)
    available_before = before - locked.reserved
    feed.write([feed.sku_row(locked, feed.Type.STOCK_CHANGED, at=at, action=reason,
                             available_before=available_before),
                *feed.low_stock([locked], {locked.pk: available_before}, at=at, action=reason)])
    return locked
