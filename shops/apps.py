from django.apps import AppConfig


class ShopsConfig(AppConfig):
    name = "shops"
    verbose_name = "Shops and catalog"

    def ready(self):
        from django.urls import register_converter

        from .params import NumberConverter

        # <number:number> in the seller URLs: an order number path segment (see NumberConverter).
        register_converter(NumberConverter, "number")
