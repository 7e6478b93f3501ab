from django.urls import path

from . import public_views as views

app_name = "returns_public"

urlpatterns = [
    path("", views.find_order, name="find"),
    path("o/<str:token>/", views.open_link, name="link"),
    path("order/", views.buyer_order, name="order"),
    path("order/request", views.buyer_open_request, name="open"),
    path("order/requests/<int:pk>/withdraw", views.buyer_withdraw, name="withdraw"),
    path("order/requests/<int:pk>/ship-back", views.buyer_ship_back, name="ship_back"),
    path("order/requests/<int:pk>/photos/<int:photo>", views.buyer_photo, name="photo"),
    path("order/message", views.buyer_message, name="message"),
    path("leave", views.buyer_leave, name="leave"),
]
