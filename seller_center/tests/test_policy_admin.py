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


@pytest.mark.parametrize(("rule", "hours", "message"), [
    ("P1", "-5", "A window cannot be negative (-5 h): give 0 or more hours."),
    ("P11", "-0.5", "A window cannot be negative (-0.5 h): give 0 or more hours."),
    ("P5", "99999", "At most 8760 hours (a year); 99999 h looks like a typo."),
    ("P6", "1.5", "P6 counts failed delivery attempts: a whole number, 1 or more."),
    ("P6", "0", "P6 counts failed delivery attempts: a whole number, 1 or more."),
    ("P10", "2", "P10 is on or off: 1 for on, 0 for off."),
    ("P2", "lots", "Enter the window as a number of hours, e.g. 48 or 1.5."),
])
def test_policy_window_add_refuses_a_bad_window_in_words(admin_client, rule, hours, message):
    response = admin_client.post("/admin/shops/policywindow/add/",
                                 {"rule": rule, "hours": hours, "enabled": "on", "note": "typo"})
    assert response.status_code == 200
    body = response.content.decode()
    assert response.context["adminform"].form.errors == {"hours": [message]}
    assert "Constraint" not in body and "policy_window_not_negative" not in body
    assert not PolicyWindow.objects.exists()


def test_policy_window_zero_hours_and_on_off_rules_are_accepted(admin_client):
    for rule, hours in (("P9", "0"), ("P12", "0"), ("P6", "3")):
        response = admin_client.post("/admin/shops/policywindow/add/",
                                     {"rule": rule, "hours": hours, "enabled": "on", "note": "ok"})
        assert response.status_code == 302, rule
    assert PolicyWindow.objects.count() == 3


def test_policy_window_changelist_puts_the_add_button_clear_of_the_summary(admin_client):
    """Django floats "Add" up beside the title; the summary tables come after it (and clear
    it, admin.css), so the button no longer sits over their last row."""
    body = admin_client.get("/admin/shops/policywindow/").content.decode()
    tools, summary = body.index('class="object-tools"'), body.index('class="policy-summary"')
    assert tools < summary < body.index('id="changelist"')
    assert "css/admin.css" in body and "<style" not in body
    from pathlib import Path

    from django.contrib.staticfiles import finders

    assert ".policy-summary { clear: both; }" in Path(finders.find("css/admin.css")).read_text()
