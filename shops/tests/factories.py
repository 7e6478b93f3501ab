from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from shops.models import SKU, Membership, Shop


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"seller{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("pw")


class ShopFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Shop
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Shop {n}")
    slug = factory.Sequence(lambda n: f"shop-{n}")
    time_zone = "UTC"
    currency = "USD"
    email = factory.LazyAttribute(lambda s: f"{s.slug}@example.com")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    shop = factory.SubFactory(ShopFactory)
    user = factory.SubFactory(UserFactory)
    role = Membership.Role.OWNER


class SKUFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SKU

    shop = factory.SubFactory(ShopFactory)
    code = factory.Sequence(lambda n: f"SKU-{n:04d}")
    name = factory.Sequence(lambda n: f"Item {n}")
    price = Decimal("10.00")
    stock_on_hand = 100
    reserved = 0
