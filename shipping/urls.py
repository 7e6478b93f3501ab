from django.urls import path

from . import views

app_name = "shipping"

urlpatterns = [
    path("", views.home, name="home"),
    path("ship", views.ship_bulk, name="ship_bulk"),
    path("upload", views.upload_csv, name="upload"),
    path("print", views.print_labels, name="print"),
    path("print/<int:pk>/reprint", views.reprint, name="reprint"),
    path("arrange", views.bulk_arrange, name="bulk_arrange"),
    path("ready", views.bulk_ready, name="bulk_ready"),
    path("pick-list", views.pick_list, name="pick_list"),
    path("packing-lists", views.packing_lists, name="packing_lists"),
    path("orders/<number:number>/split", views.split, name="split"),
    path("orders/<number:number>/arrange", views.arrange, name="arrange"),
    path("orders/<number:number>/ready", views.ready_all, name="ready_all"),
    path("orders/<number:number>/ship", views.order_ship, name="order_ship"),
    path("packages/<int:pk>/ready", views.package_ready, name="package_ready"),
    path("packages/<int:pk>/ship", views.package_ship, name="package_ship"),
    path("packages/<int:pk>/correct", views.package_correct, name="package_correct"),
    path("packages/<int:pk>/label-note", views.package_label_note, name="package_label_note"),
    path("packages/<int:pk>/photos", views.package_photo, name="package_photo"),
    path("combine", views.bulk_combine, name="combine"),
    path("packages/<int:pk>/uncombine", views.package_uncombine, name="package_uncombine"),
    path("packages/<int:pk>/void-label", views.package_void_label, name="package_void_label"),
    path("packages/<int:pk>/complaint", views.package_complaint, name="package_complaint"),
    path("photos/<int:pk>", views.photo, name="photo"),
    path("tickets/", views.tickets, name="tickets"),
    path("tickets/<int:pk>/", views.ticket, name="ticket"),
]
