from django.apps import AppConfig


class ShopsConfig(AppConfig):
    name = "shops"
    verbose_name = "Shops and catalog"

    def ready(self):
        from . import language  # noqa: F401  (its login receiver)
