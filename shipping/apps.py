from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ShippingConfig(AppConfig):
    name = "shipping"
    verbose_name = "Shipping"

    def ready(self):
        from orders import registry

        from . import panel
        from .models import Package

        registry.register_panel(
            registry.OrderPanel(key="shipping", template="shipping/_order_panel.html", context=panel.order_panel, order=10)
        )
        registry.register_filter(
            registry.ListFilter(key="package_status", label=_("Package status"), choices=panel.PACKAGE_FILTERS,
                                apply=panel.apply_package_filter)
        )
        registry.register_search(registry.SearchResolver(key="tracking_number", resolve=panel.search_tracking,
                                                        found=panel.found_tracking, example=panel.example_tracking))
        registry.register_row_value(registry.RowValue(key="tracking", expression=panel.row_tracking))
        registry.register_row_value(registry.RowValue(key="label", expression=panel.row_has_label))
        registry.register_row_choices("carriers", panel.carriers.SELLER_CARRIERS)
        registry.register_override_guard("packages", _override_refusal)
        registry.register_card(
            registry.BoardCard(
                key="late_to_collect",
                label=_("Carrier late to collect"),
                count=lambda shop, now: Package.objects.for_shop(shop).late_to_collect(now).values("order_id").distinct().count(),
                query={"board": "late_to_collect"},
                filter=lambda qs, shop, now: qs.filter(
                    pk__in=Package.objects.for_shop(shop).late_to_collect(now).values("order_id")
                ),
                order=40,
            )
        )


def _override_refusal(order, name):
    from .actions import order_override_refusal

    return order_override_refusal(order, name)
