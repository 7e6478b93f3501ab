from django.urls import path

from . import stock_views

app_name = "inventory"

urlpatterns = [
    path("", stock_views.inventory_page, name="page"),
    path("import", stock_views.inventory_import, name="import"),
    path("<int:pk>/", stock_views.sku_page, name="sku"),
]
