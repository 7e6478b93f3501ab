"""Who in a shop may do what: the roles, the named permissions, and which role holds which.

Every seller view, the views' calls into actions and the seller API check these names (through
shops.access.require / shop_required(perm) and api.common.need); templates read them through
`can` (shops.context_processors). A permission is a string "area.verb"; a role is a frozenset of
them. Changing what a role may do is an edit of ROLE_PERMISSIONS, nothing else.
"""

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")  # everything, the team and the API keys included
    MANAGER = "manager", _("Manager")  # everything but the team, API keys and shop settings
    FULFILMENT = "fulfilment", _("Fulfilment")  # confirm, pack, print, ship; no cancel, refund, export or messages
    CUSTOMER_SERVICE = "customer_service", _("Customer service")  # messages, answers requests, small refunds
    FINANCE = "finance", _("Finance")  # reads, refunds, exports
    VIEWER = "viewer", _("Viewer")  # reads only


# name -> what it lets a member do (shown on the team page and in a refusal).
PERMISSIONS = {
    "orders.view": "see orders, packages, tickets and shop health",
    "requests.view": "see buyer requests and refunds",
    "orders.confirm": "confirm orders",
    "orders.cancel": "cancel orders",
    "orders.note": "add notes to an order",
    "orders.message": "message buyers",
    "orders.export": "export orders as CSV",
    "orders.tags": "create the shop's order tags",
    "orders.views": "rename and delete the team's saved views of Manage Orders",
    "shipping.split": "split an order into packages",
    "shipping.arrange": "arrange platform shipment and mark packages ready",
    "shipping.ship": "enter tracking numbers and ship",
    "shipping.labels": "print labels, packing slips and pick lists, and edit label text",
    "shipping.photos": "add handover photos",
    "shipping.tickets": "file logistics complaints and force-majeure tickets",
    "requests.answer": "approve, reject and extend buyer requests",
    "requests.receive": "confirm a returned item was received",
    "requests.dispute": "dispute a return",
    "requests.refund": "refund a return (up to the shop's limit without requests.refund_over_limit)",
    "requests.refund_over_limit": "refund above the shop's customer-service refund limit",
    "buyer.full_address": "see the buyer's full address and phone",
    "inventory.view": "see stock",
    "inventory.change": "change stock",
    "warehouses.manage": "manage warehouses, their addresses and holiday mode",
    "webhooks.manage": "manage webhooks",
    "api_keys.manage": "manage API keys",
    "team.manage": "invite, change and remove members",
    "shop.settings": "change shop settings (the refund limit)",
    # What a member hears about (the bell and email; shops.notify routes by these).
    "notify.new_orders": "hear about new orders",
    "notify.requests": "hear about buyer requests",
    "notify.messages": "hear about buyer messages",
    "notify.policy": "hear about platform actions on orders",
    "notify.reminders": "hear about deadline reminders",
    "notify.shipping": "hear about complaints and tickets",
}

_READ = {"orders.view", "requests.view", "inventory.view"}
_FULFIL = {"orders.confirm", "orders.note", "shipping.split", "shipping.arrange", "shipping.ship", "shipping.labels",
           "shipping.photos", "shipping.tickets", "requests.receive", "inventory.change", "buyer.full_address",
           "notify.new_orders", "notify.reminders", "notify.shipping"}
_SERVICE = {"orders.note", "orders.message", "requests.answer", "requests.receive", "requests.dispute",
            "requests.refund", "buyer.full_address", "notify.requests", "notify.messages", "notify.reminders"}
# Managers hold warehouses.manage too (everything but _OWNER_ONLY); fulfilment staff do not.
_OWNER_ONLY = {"team.manage", "api_keys.manage", "shop.settings", "webhooks.manage"}

ROLE_PERMISSIONS = {
    Role.OWNER: frozenset(PERMISSIONS),
    Role.MANAGER: frozenset(PERMISSIONS) - _OWNER_ONLY,
    Role.FULFILMENT: frozenset(_READ | _FULFIL),
    Role.CUSTOMER_SERVICE: frozenset(_READ | _SERVICE),
    Role.FINANCE: frozenset(_READ | {"orders.export", "requests.refund", "requests.refund_over_limit"}),
    Role.VIEWER: frozenset(_READ),
}

# Which permission makes a member hear about each kind of notification (shops.models.Notification.Kind).
NOTIFY_PERMISSION = {
    "new_order": "notify.new_orders",
    "policy": "notify.policy",
    "reminder": "notify.reminders",
    "request": "notify.requests",
    "message": "notify.messages",
    "shipping": "notify.shipping",
    "integration": "webhooks.manage",  # a webhook turned off: whoever may fix it (the owner)
}


def kinds_heard_by(role):
    """The notification kinds a role hears about."""
    perms = permissions_of(role)
    return [kind for kind, permission in NOTIFY_PERMISSION.items() if permission in perms]


def roles_hearing(kind):
    return roles_with(NOTIFY_PERMISSION[kind]) if kind in NOTIFY_PERMISSION else list(Role)


def permissions_of(role):
    """The permissions of a role (none for a role that is not in the table)."""
    return ROLE_PERMISSIONS.get(role, frozenset())


def has(role, permission):
    if permission not in PERMISSIONS:
        raise KeyError(f"no permission named {permission!r}")
    return permission in permissions_of(role)


def roles_with(permission):
    """The roles holding a permission, in the table's order."""
    if permission not in PERMISSIONS:
        raise KeyError(f"no permission named {permission!r}")
    return [role for role, perms in ROLE_PERMISSIONS.items() if permission in perms]


@dataclass(frozen=True)
class Can:
    """What templates read: {% if can.orders.confirm %}. Any lookup of a name that is not a
    permission is False, so a typo hides a button rather than showing it."""

    permissions: frozenset

    def __getitem__(self, area):
        return _Area(self.permissions, area)

    def __contains__(self, permission):
        return permission in self.permissions

    def __bool__(self):
        return bool(self.permissions)


@dataclass(frozen=True)
class _Area:
    permissions: frozenset
    area: str

    def __getitem__(self, verb):
        return f"{self.area}.{verb}" in self.permissions


NOBODY = Can(frozenset())
