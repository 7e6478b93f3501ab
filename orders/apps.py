from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "Orders"

    def ready(self):
        from . import registry
        from .models import Order

        registry.register_card(
            registry.BoardCard(
                key="ship_24h",
                label="Must ship within 24 h",
                count=lambda shop, now: Order.objects.for_shop(shop).ship_within(now, 24).count(),
                query={"deadline": "ship_24h", "sort": "ship_by"},
                order=10,
            )
        )
        registry.register_card(
            registry.BoardCard(
                key="past_ship_by",
                label="Past ship-by time",
                count=lambda shop, now: Order.objects.for_shop(shop).past_ship_by(now).count(),
                query={"deadline": "past_ship_by", "sort": "ship_by"},
                order=20,
            )
        )
        registry.register_card(
            registry.BoardCard(
                key="auto_cancel_24h",
                label="Will be auto-cancelled within 24 h",
                count=lambda shop, now: Order.objects.for_shop(shop).auto_cancel_within(now, 24).count(),
                query={"board": "auto_cancel_24h", "sort": "newest"},
                filter=lambda qs, shop, now: qs.auto_cancel_within(now, 24),
                order=30,
            )
        )
