"""Every model in the admin lists, and opens one of its rows, for a superuser."""

import pytest
from django.contrib import admin
from django.urls import reverse

from orders.tests.factories import advance, make_order
from shipping.tests.factories import arranged, order_to_ship

pytestmark = pytest.mark.django_db


def test_every_admin_changelist_and_change_page_renders(admin_client):
    order = advance(make_order(), "CANCELLED")
    arranged(order_to_ship())
    assert order.pk
    for model, model_admin in admin.site._registry.items():
        meta = model._meta
        url = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
        response = admin_client.get(url)
        assert response.status_code == 200, url
        first = model_admin.get_queryset(response.wsgi_request).first()
        if first is not None:
            change = reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[first.pk])
            assert admin_client.get(change).status_code == 200, change
