from django.apps import AppConfig


class SellerCenterConfig(AppConfig):
    name = "seller_center"
    verbose_name = "Seller Center"

    def ready(self):
        from . import checks  # noqa: F401  (registers the deploy checks)
