"""Staff's policy windows page in a browser: the "Add" button sits clear of the summary
tables (it used to cover the last row of "Windows in force"), and a negative window is
refused in words."""

import pytest
from playwright.sync_api import expect

from shops.tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _overlap(a, b):
    return not (a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"]
                or a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"])


@pytest.mark.parametrize("width", [1280, 800])
def test_policy_windows_add_button_clear_of_the_tables_and_bad_window_in_words(page, width):
    UserFactory(username="root", is_staff=True, is_superuser=True)
    page.set_viewport_size({"width": width, "height": 900})
    page.goto("/admin/login/?next=/admin/shops/policywindow/")
    page.get_by_label("Username").fill("root")
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/admin/shops/policywindow/")
    add = page.locator(".object-tools a.addlink").bounding_box()
    for row in page.locator(".policy-summary tr").all():
        assert not _overlap(add, row.bounding_box()), row.inner_text()
    page.locator(".object-tools a.addlink").click()
    page.get_by_label("Rule").select_option("P1")
    page.get_by_label("Hours").fill("-5")
    page.get_by_label("Note").fill("typo")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".errorlist")).to_contain_text("A window cannot be negative (-5 h): give 0 or more hours.")
    assert "Constraint" not in page.content()
