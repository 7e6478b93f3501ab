from django.urls import path

from . import api

app_name = "carrier_api"

urlpatterns = [
    path("events/", api.carrier_events, name="events"),
]
