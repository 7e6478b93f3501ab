"""Who does something: the actor every action takes and every history row records."""

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _


class ActorKind(models.TextChoices):
    SELLER = "seller", _("Seller")
    STAFF = "staff", _("Platform staff")
    BUYER = "buyer", _("Buyer")
    CARRIER = "carrier", _("Carrier")
    STOREFRONT = "storefront", _("Storefront")
    POLICY = "policy", _("Platform policy")
    APP = "app", _("Seller's app (API key)")  # the shop's own system, acting for the seller


@dataclass(frozen=True)
class Actor:
    """Who does something: a kind from ActorKind, the user if any, and a label."""

    kind: str
    user: object = None
    label: str = ""

    @classmethod
    def seller(cls, user):
        return cls(ActorKind.SELLER, user, user.get_username())

    @classmethod
    def staff(cls, user):
        return cls(ActorKind.STAFF, user, user.get_username())

    @classmethod
    def buyer(cls, label="buyer"):
        return cls(ActorKind.BUYER, None, label)

    @classmethod
    def carrier(cls, name):
        return cls(ActorKind.CARRIER, None, name)

    @classmethod
    def storefront(cls):
        return cls(ActorKind.STOREFRONT, None, "storefront")

    @classmethod
    def policy(cls, rule):
        return cls(ActorKind.POLICY, None, rule)

    @classmethod
    def app(cls, api_key):
        """The shop's own system (ERP, OMS, 3PL) through an API key, labelled with the key's name."""
        return cls(ActorKind.APP, None, f"{api_key.name} (API key {api_key.prefix}…)")

    @property
    def for_seller(self):
        """The seller in person or their system: held to what a seller may do."""
        return self.kind in (ActorKind.SELLER, ActorKind.APP)
