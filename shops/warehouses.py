"""A shop's warehouses: the addresses other apps print (sender_for, return_address_for) and the
actions that change them, each written to the warehouse's audit trail (WarehouseEvent).

Holiday mode follows force majeure (SPEC P12): the seller asks for it with the dates and a reason,
platform staff approve or reject it (with a reason); approving pauses the ship-by and other deadlines
of the warehouse's open orders until the holiday ends. The pausing is the orders app's: it registers
a hook here (HOLIDAY_HOOKS) from its AppConfig.ready(), since shops sits below orders.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.locks import lock_one
from core.refusals import Refused

from .models import ADDRESS_PARTS, Warehouse, WarehouseEvent, WarehouseStock
from .stock import default_warehouse

MAX_HOLIDAY = timedelta(days=30)
EDITABLE = ("name", "contact_name", "phone", *ADDRESS_PARTS, "return_same", "return_name",
            *(f"return_{p}" for p in ADDRESS_PARTS), "opening_hours")

# name -> callable(warehouse=, until=, actor=, note=) -> how many orders it paused.
HOLIDAY_HOOKS = {}


class WarehouseRefused(Refused):
    """A warehouse change that cannot be made; the message says why."""


@dataclass(frozen=True)
class Sender:
    """What a label prints as FROM, and where the carrier collects."""

    name: str
    lines: tuple
    phone: str
    warehouse: str


def _order_warehouse(order):
    if order.warehouse_id:
        return order.warehouse
    return default_warehouse(order.shop_id)


def sender_for(order):
    """The sender of `order`'s packages: its warehouse's pickup address under the shop's name (the
    order's warehouse, or the shop's default before one is recorded). A query only when the order
    has no warehouse or it was not select_related."""
    warehouse = _order_warehouse(order)
    return Sender(name=order.shop.name, lines=tuple(warehouse.pickup_lines), phone=warehouse.phone,
                  warehouse=warehouse.name)


def return_address_for(order):
    """Where the buyer sends a return of `order`: its warehouse's return address."""
    warehouse = _order_warehouse(order)
    contact = warehouse.return_contact or order.shop.name
    return [contact, *warehouse.return_lines]


def _event(warehouse, action, actor, *, note="", data=None, at=None):
    return WarehouseEvent.objects.create(warehouse=warehouse, at=at or timezone.now(), actor_kind=actor.kind,
                                         actor=actor.user, actor_label=actor.label, action=action, note=note,
                                         data=data or {})


def _clean(values):
    out = {}
    for field in EDITABLE:
        if field not in values:
            continue
        value = values[field]
        if field == "return_same":
            out[field] = bool(value)
            continue
        value = (value or "").strip()
        limit = Warehouse._meta.get_field(field).max_length
        if len(value) > limit:
            raise WarehouseRefused(_("%(field)s is at most %(n)s characters.") % {
                "field": Warehouse._meta.get_field(field).verbose_name, "n": limit})
        if field.endswith("country") and value:
            if not (len(value) == 2 and value.isalpha()):
                raise WarehouseRefused(_("Give the country as its two-letter code (US, GB, VN)."))
            value = value.upper()
        out[field] = value
    if "name" in out and not out["name"]:
        raise WarehouseRefused(_("Give the warehouse a name."))
    return out


def _check_address(warehouse):
    if not (warehouse.line1 and warehouse.city and warehouse.country):
        raise WarehouseRefused(_("The pickup address needs at least a first line, a city and a country."))
    if not warehouse.return_same and not (warehouse.return_line1 and warehouse.return_city and warehouse.return_country):
        raise WarehouseRefused(_("The return address needs at least a first line, a city and a country "
                                 "(or send returns to the pickup address)."))


def _name_free(shop, name, exclude=None):
    taken = Warehouse.objects.filter(shop=shop, name=name)
    if exclude is not None:
        taken = taken.exclude(pk=exclude.pk)
    if taken.exists():
        raise WarehouseRefused(_("The shop already has a warehouse named %(name)s.") % {"name": name})


@transaction.atomic
def create_warehouse(*, shop, actor, values, make_default=False):
    data = _clean(values)
    if not data.get("name"):
        raise WarehouseRefused(_("Give the warehouse a name."))
    _name_free(shop, data["name"])
    warehouse = Warehouse(shop=shop, **data)
    _check_address(warehouse)
    first = not Warehouse.objects.filter(shop=shop, is_default=True).exists()
    warehouse.save()
    _event(warehouse, WarehouseEvent.Action.CREATED, actor, data={"values": data})
    if make_default or first:
        set_default(warehouse=warehouse, actor=actor)
    return warehouse


@transaction.atomic
def edit_warehouse(*, warehouse, actor, values):
    warehouse = lock_one(Warehouse.objects, warehouse.pk)
    if warehouse.archived_at:
        raise WarehouseRefused(_("An archived warehouse cannot be edited."))
    data = _clean(values)
    changes = {f: [getattr(warehouse, f), v] for f, v in data.items() if getattr(warehouse, f) != v}
    if not changes:
        return warehouse
    if "name" in changes:
        _name_free(warehouse.shop, data["name"], exclude=warehouse)
    for f, (_before, after) in changes.items():
        setattr(warehouse, f, after)
    _check_address(warehouse)
    warehouse.save(update_fields=list(changes))
    _event(warehouse, WarehouseEvent.Action.EDITED, actor, data={"changes": changes})
    return warehouse


@transaction.atomic
def set_default(*, warehouse, actor):
    """New orders reserve in this warehouse first. Orders already confirmed keep theirs."""
    warehouses = list(Warehouse.objects.filter(shop_id=warehouse.shop_id).select_for_update().order_by("pk"))
    target = next(w for w in warehouses if w.pk == warehouse.pk)
    if target.archived_at:
        raise WarehouseRefused(_("An archived warehouse cannot be the default."))
    if target.is_default:
        return target
    Warehouse.objects.filter(shop_id=warehouse.shop_id, is_default=True).update(is_default=False)
    Warehouse.objects.filter(pk=target.pk).update(is_default=True)
    target.is_default = True
    _event(target, WarehouseEvent.Action.MADE_DEFAULT, actor)
    return target


@transaction.atomic
def archive_warehouse(*, warehouse, actor, note=""):
    """Stops using a warehouse. Refused while it is the default or holds stock or reservations."""
    warehouse = lock_one(Warehouse.objects, warehouse.pk)
    if warehouse.archived_at:
        return warehouse
    if warehouse.is_default:
        raise WarehouseRefused(_("Make another warehouse the default before archiving this one."))
    if WarehouseStock.objects.filter(warehouse=warehouse, on_hand__gt=0).exists():
        raise WarehouseRefused(_("%(name)s still holds stock; move it or count it to zero first.") % {
            "name": warehouse.name})
    warehouse.archived_at = timezone.now()
    warehouse.save(update_fields=["archived_at"])
    _event(warehouse, WarehouseEvent.Action.ARCHIVED, actor, note=note)
    return warehouse


@transaction.atomic
def request_holiday(*, warehouse, actor, start, end, reason, now=None):
    """The seller asks for holiday mode: from `start` to `end` (at most 30 days), with a reason.
    Nothing pauses until platform staff approve it."""
    now = now or timezone.now()
    warehouse = lock_one(Warehouse.objects, warehouse.pk)
    reason = (reason or "").strip()
    if warehouse.archived_at:
        raise WarehouseRefused(_("An archived warehouse cannot go on holiday."))
    if warehouse.holiday == Warehouse.Holiday.REQUESTED:
        raise WarehouseRefused(_("A holiday is already waiting for the platform's answer; withdraw it first."))
    if warehouse.holiday == Warehouse.Holiday.APPROVED and warehouse.holiday_until and warehouse.holiday_until > now:
        raise WarehouseRefused(_("The warehouse already has an approved holiday until %(until)s.") % {
            "until": timezone.localtime(warehouse.holiday_until, warehouse.shop.tzinfo).strftime("%Y-%m-%d %H:%M")})
    if start is None or end is None or end <= start:
        raise WarehouseRefused(_("Give when the holiday starts and when it ends (after it starts)."))
    if end <= now:
        raise WarehouseRefused(_("The holiday must end in the future."))
    if end - start > MAX_HOLIDAY:
        raise WarehouseRefused(_("A holiday is at most 30 days."))
    if len(reason) < 10 or len(reason) > 500:
        raise WarehouseRefused(_("Say why (10 to 500 characters): staff approve holidays like force majeure."))
    warehouse.holiday, warehouse.holiday_from, warehouse.holiday_until = Warehouse.Holiday.REQUESTED, start, end
    warehouse.holiday_reason, warehouse.holiday_ruled_by, warehouse.holiday_ruled_at = reason, None, None
    warehouse.holiday_ruling_note = ""
    warehouse.save(update_fields=["holiday", "holiday_from", "holiday_until", "holiday_reason", "holiday_ruled_by",
                                  "holiday_ruled_at", "holiday_ruling_note"])
    _event(warehouse, WarehouseEvent.Action.HOLIDAY_REQUESTED, actor, note=reason,
           data={"from": start.isoformat(), "until": end.isoformat()})
    return warehouse


@transaction.atomic
def withdraw_holiday(*, warehouse, actor):
    warehouse = lock_one(Warehouse.objects, warehouse.pk)
    if warehouse.holiday != Warehouse.Holiday.REQUESTED:
        raise WarehouseRefused(_("Only a holiday still waiting for the platform can be withdrawn."))
    warehouse.holiday = Warehouse.Holiday.NONE
    warehouse.save(update_fields=["holiday"])
    _event(warehouse, WarehouseEvent.Action.HOLIDAY_WITHDRAWN, actor)
    return warehouse


@transaction.atomic
def rule_holiday(*, warehouse, approve, actor, note="", now=None):
    """Platform staff answer a holiday request. Approving pauses the deadlines of the warehouse's
    open orders until the holiday ends (the orders app's hook); rejecting needs a reason."""
    now = now or timezone.now()
    warehouse = lock_one(Warehouse.objects, warehouse.pk)
    note = (note or "").strip()
    if warehouse.holiday != Warehouse.Holiday.REQUESTED:
        raise WarehouseRefused(_("There is no holiday request waiting on this warehouse."))
    if not approve and not note:
        raise WarehouseRefused(_("Say why the holiday is rejected."))
    if approve and warehouse.holiday_until <= now:
        raise WarehouseRefused(_("The holiday has already ended; the seller can ask again."))
    warehouse.holiday = Warehouse.Holiday.APPROVED if approve else Warehouse.Holiday.REJECTED
    warehouse.holiday_ruled_by, warehouse.holiday_ruled_at, warehouse.holiday_ruling_note = actor.user, now, note
    warehouse.save(update_fields=["holiday", "holiday_ruled_by", "holiday_ruled_at", "holiday_ruling_note"])
    paused = 0
    if approve:
        for hook in HOLIDAY_HOOKS.values():
            paused += hook(warehouse=warehouse, until=warehouse.holiday_until, actor=actor,
                           note=_("Warehouse %(name)s on holiday (approved).") % {"name": warehouse.name})
    _event(warehouse, WarehouseEvent.Action.HOLIDAY_APPROVED if approve else WarehouseEvent.Action.HOLIDAY_REJECTED,
           actor, note=note, data={"orders_paused": paused} if approve else {})
    return warehouse
