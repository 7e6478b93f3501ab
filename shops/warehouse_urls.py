from django.urls import path

from . import stock_views

app_name = "warehouses"

urlpatterns = [
    path("", stock_views.warehouses_page, name="page"),
    path("<int:pk>/<slug:action>", stock_views.warehouse_action, name="action"),
]
