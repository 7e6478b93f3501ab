from django.urls import path

from . import views

app_name = "orders"

urlpatterns = [
    path("", views.order_list, name="list"),
    path("board", views.needs_action, name="board"),
    path("bulk", views.order_bulk, name="bulk"),
    path("export.csv", views.order_export, name="export"),
    path("tags", views.tag_create, name="tag_create"),
    path("columns", views.list_columns, name="columns"),
    path("views", views.view_save, name="view_save"),
    path("views/<int:pk>/rename", views.view_rename, name="view_rename"),
    path("views/<int:pk>/delete", views.view_delete, name="view_delete"),
    path("views/<int:pk>/count", views.view_count, name="view_count"),
    path("<number:number>/", views.order_detail, name="detail"),
    path("<number:number>/confirm", views.order_confirm, name="confirm"),
    path("<number:number>/cancel", views.order_cancel, name="cancel"),
    path("<number:number>/note", views.order_note, name="note"),
    path("<number:number>/pin", views.order_pin, name="pin"),
]
