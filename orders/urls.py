from django.urls import path

from . import views

app_name = "orders"

urlpatterns = [
    path("", views.order_list, name="list"),
    path("board", views.needs_action, name="board"),
    path("bulk", views.order_bulk, name="bulk"),
    path("export.csv", views.order_export, name="export"),
    path("<number:number>/", views.order_detail, name="detail"),
    path("<number:number>/confirm", views.order_confirm, name="confirm"),
    path("<number:number>/cancel", views.order_cancel, name="cancel"),
    path("<number:number>/note", views.order_note, name="note"),
]
