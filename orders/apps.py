from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def units_sold(shop, sku_ids, since):
    """{sku_id: units} on the shop's paid orders placed since `since` (cancelled ones too: they were
    demand), as the shop health forecast counts them; one query."""
    from django.db.models import Sum

    from .models import OrderLine

    rows = (OrderLine.objects.filter(order__shop=shop, sku_id__in=sku_ids, order__paid_at__isnull=False,
                                     order__placed_at__gte=since)
            .values("sku_id").order_by().annotate(units=Sum("quantity")).values_list("sku_id", "units"))
    return dict(rows)


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "Orders"

    def ready(self):
        from shops import inventory, warehouses

        from . import actions, registry
        from .models import Order

        # A warehouse's approved holiday pauses its orders' deadlines (shops sits below orders).
        warehouses.HOLIDAY_HOOKS["orders"] = lambda **kw: actions.pause_for_holiday(**kw)
        # The Inventory page's days of cover read the units sold from the orders.
        inventory.SALES_HOOKS["orders"] = units_sold

        registry.register_card(
            registry.BoardCard(
                key="ship_24h",
                label=_("Must ship within 24 h"),
                count=lambda shop, now: Order.objects.for_shop(shop).ship_within(now, 24).count(),
                query={"deadline": "ship_24h", "sort": "ship_by"},
                order=10,
            )
        )
        registry.register_card(
            registry.BoardCard(
                key="past_ship_by",
                label=_("Past ship-by time"),
                count=lambda shop, now: Order.objects.for_shop(shop).past_ship_by(now).count(),
                query={"deadline": "past_ship_by", "sort": "ship_by"},
                order=20,
            )
        )
        registry.register_card(
            registry.BoardCard(
                key="auto_cancel_24h",
                label=_("Will be auto-cancelled within 24 h"),
                count=lambda shop, now: Order.objects.for_shop(shop).auto_cancel_within(now, 24).count(),
                query={"board": "auto_cancel_24h", "sort": "newest"},
                filter=lambda qs, shop, now: qs.auto_cancel_within(now, 24),
                order=30,
            )
        )
