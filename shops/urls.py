from django.urls import path

from . import views

app_name = "shops"

urlpatterns = [
    path("", views.notifications, name="notifications"),
    path("read", views.notifications_read, name="notifications-read"),
    path("email", views.notification_email, name="notifications-email"),
    path("<int:pk>/open", views.notification_open, name="notification-open"),
]
