"""The shop's order tags and the pinned note: labels and one internal note that change no
status, each change written to the order's history."""

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import payload
from core.locks import lock, lock_one

from .. import history
from ..models import Order, OrderTag, Tag
from .results import ActionRefused, BulkResult, _refuse_missing

MAX_TAGS = 50  # per shop: a tag is a filter choice and a bulk-bar choice, not free text
PINNED_NOTE_MAX = Order._meta.get_field("pinned_note").max_length


def create_tag(*, shop, name):
    """A new tag of the shop; refused when empty, too long, a duplicate or one too many."""
    name = " ".join((name or "").split())
    if not name:
        raise ActionRefused(_("Name the tag first."))
    if problem := payload.text_error(name):
        raise ActionRefused(f"The tag name {problem}.")  # not yet in the catalogs
    if len(name) > Tag._meta.get_field("name").max_length:
        raise ActionRefused(_("A tag name is at most %(n)d characters.") % {"n": Tag._meta.get_field("name").max_length})
    with transaction.atomic():
        if Tag.objects.filter(shop=shop).count() >= MAX_TAGS:
            raise ActionRefused(_("A shop has at most %(n)d tags.") % {"n": MAX_TAGS})
        if Tag.objects.filter(shop=shop, name__iexact=name).exists():
            raise ActionRefused(_("The shop already has a tag “%(name)s”.") % {"name": name})
        try:
            with transaction.atomic():
                return Tag.objects.create(shop=shop, name=name)
        except IntegrityError:  # the same name created a moment ago
            raise ActionRefused(_("The shop already has a tag “%(name)s”.") % {"name": name}) from None


@transaction.atomic
def tag_orders(*, shop, order_ids, tag, actor, add=True):
    """Add `tag` to (or remove it from) the shop's orders among `order_ids`, set-based: one
    INSERT (or DELETE) of the links and one INSERT ... SELECT of a history row per order that
    changed. Orders that already had it (or did not) are left alone and not reported as
    refused; ids of other shops' orders are "not found"."""
    if tag.shop_id != shop.pk:
        raise ActionRefused(_("No such tag in this shop."))
    order_ids = list(dict.fromkeys(order_ids))
    found = list(lock(Order.objects.for_shop(shop).filter(pk__in=order_ids)).values_list("pk", "number"))
    result = BulkResult()
    _refuse_missing(result, order_ids, [Order(pk=pk) for pk, _number in found])
    links = OrderTag.objects.filter(tag=tag, order_id__in=[pk for pk, _number in found])
    having = set(links.values_list("order_id", flat=True))
    if add:
        changed = [pk for pk, _number in found if pk not in having]
        OrderTag.objects.bulk_create([OrderTag(order_id=pk, tag=tag) for pk in changed])
    else:
        changed = [pk for pk, _number in found if pk in having]
        links.filter(order_id__in=changed).delete()
    if changed:
        history.bulk_record(changed, "tag" if add else "untag", actor, at=timezone.now(), note=tag.name,
                            data={"tag": tag.name})
    numbers = dict(found)
    result.done = [numbers[pk] for pk in changed]  # the report names them
    result.unchanged = len(found) - len(changed)
    return result


@transaction.atomic
def pin_note(*, order, actor, text):
    """Pin `text` as the order's one internal note (empty: unpin it). The same text again
    changes nothing and writes nothing."""
    text = " ".join((text or "").split())
    if problem := payload.text_error(text):
        raise ActionRefused(f"The pinned note {problem}.")  # not yet in the catalogs
    if len(text) > PINNED_NOTE_MAX:
        raise ActionRefused(_("A pinned note is at most %(n)d characters.") % {"n": PINNED_NOTE_MAX})
    order = lock_one(Order.objects.all(), order.pk)
    if text == order.pinned_note:
        return order, False
    if not text and not order.pinned_note:
        return order, False
    order.pinned_note = text
    order.save(update_fields=["pinned_note", "updated_at"])
    history.record(order, "pin_note" if text else "unpin_note", actor, from_status=order.status,
                   to_status=order.status, at=timezone.now(), note=text)
    return order, True
