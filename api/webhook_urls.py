from django.urls import path

from . import webhook_views as views

app_name = "webhooks"

urlpatterns = [
    path("", views.webhooks, name="list"),
    path("<int:pk>/", views.webhook_log, name="log"),
    path("<int:pk>/<slug:action>", views.webhook_action, name="action"),
    path("<int:pk>/deliveries/<int:delivery_pk>/redeliver", views.redeliver, name="redeliver"),
]
