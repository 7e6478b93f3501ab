"""Password reset by email, through Django's views and the site's own pages."""

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from shops.tests.factories import UserFactory
from tests.pages import assert_full_page

pytestmark = pytest.mark.django_db


def test_reset_by_email_sets_a_new_password_once(client):
    user = UserFactory(username="carol", email="carol@example.com")
    login = assert_full_page(client.get(reverse("login")))
    assert reverse("password_reset") in login
    assert "Reset your password" in assert_full_page(client.get(reverse("password_reset")))
    response = client.post(reverse("password_reset"), {"email": "CAROL@example.com"})
    assert response.status_code == 302 and response["Location"] == reverse("password_reset_done")
    (message,) = mail.outbox
    assert message.to == ["carol@example.com"] and "\n" not in message.subject
    link = re.search(r"http://testserver(/password-reset/\S+/)", message.body).group(1)
    page = client.get(link, follow=True)
    assert "Set a new password" in assert_full_page(page)
    form_url = page.redirect_chain[-1][0]
    weak = client.post(form_url, {"new_password1": "123", "new_password2": "123"})
    assert weak.status_code == 200 and 'role="alert"' in weak.content.decode()
    done = client.post(form_url, {"new_password1": "a fresh long one 7", "new_password2": "a fresh long one 7"})
    assert done["Location"] == reverse("password_reset_complete")
    user.refresh_from_db()
    assert user.check_password("a fresh long one 7")
    again = client.get(link, follow=True).content.decode()
    assert "This link is not valid" in again
    fresh = Client()
    assert fresh.post(reverse("login"), {"username": "carol", "password": "a fresh long one 7"}).status_code == 302


def test_an_unknown_address_says_the_same_and_sends_nothing(client):
    response = client.post(reverse("password_reset"), {"email": "nobody@example.com"})
    assert response["Location"] == reverse("password_reset_done") and mail.outbox == []
    assert "If an account has that address" in assert_full_page(client.get(reverse("password_reset_done")))
