import pytest
from django.utils import timezone

from orders.tests.factories import make_order
from shops.models import PolicyWindow

pytestmark = pytest.mark.django_db


def test_policy_window_changelist_previews_the_next_run(admin_client):
    make_order(paid=False, placed_at=timezone.now() - timezone.timedelta(hours=30))
    response = admin_client.get("/admin/shops/policywindow/")
    assert response.status_code == 200
    assert b"P1 v0 (24 h): 1 would be unpaid orders cancelled" in response.content
    assert b"Windows in force" in response.content


def test_policy_window_add_makes_a_new_version_and_moves_deadlines(admin_client):
    order = make_order(paid=False)
    response = admin_client.post(
        "/admin/shops/policywindow/add/", {"rule": "P1", "hours": "36", "enabled": "on", "note": "peak season"}
    )
    assert response.status_code == 302
    window = PolicyWindow.objects.get(rule="P1")
    assert window.version == 1 and window.created_by.is_superuser
    order.refresh_from_db()
    assert order.auto_cancel_at == order.placed_at + timezone.timedelta(hours=36)
    admin_client.post("/admin/shops/policywindow/add/", {"rule": "P1", "hours": "30", "enabled": "on", "note": "x"})
    assert list(PolicyWindow.objects.filter(rule="P1").values_list("version", flat=True)) == [2, 1]


def test_policy_window_versions_cannot_be_edited(admin_client):
    admin_client.post("/admin/shops/policywindow/add/", {"rule": "P2", "hours": "48", "enabled": "on", "note": "x"})
    window = PolicyWindow.objects.get()
    assert admin_client.get(f"/admin/shops/policywindow/{window.pk}/delete/").status_code == 403
    with pytest.raises(ValueError):
        window.save()
