from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Infrastructure with no domain and no models: signing, SQL and batching helpers, payload
    and parameter parsing, images, locks, the actor, the refusal base class, HTMX helpers.
    The lowest app: it imports no other app of the project."""

    name = "core"
    verbose_name = "Core"

    def ready(self):
        from django.urls import register_converter

        from .params import NumberConverter

        # <number:number> in the seller URLs: an order number path segment (see NumberConverter).
        register_converter(NumberConverter, "number")
