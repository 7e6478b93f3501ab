from django.urls import path

from . import views

app_name = "returns"

urlpatterns = [
    path("", views.request_list, name="list"),
    path("<int:pk>/", views.request_detail, name="detail"),
    path("<int:pk>/approve", views.request_approve, name="approve"),
    path("<int:pk>/reject", views.request_reject, name="reject"),
    path("<int:pk>/extend", views.request_extend, name="extend"),
    path("<int:pk>/receive", views.request_receive, name="receive"),
    path("<int:pk>/refund", views.request_refund, name="refund"),
    path("<int:pk>/dispute", views.request_dispute, name="dispute"),
    path("<int:pk>/photos/<int:photo>", views.request_photo, name="photo"),
    path("orders/<number:number>/message", views.order_message, name="message"),
]
