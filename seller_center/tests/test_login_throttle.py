"""Login throttle (django-axes): per user name and client address, the seller login and
admin's alike; the real user is never locked out from another address."""

import logging
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib import admin
from django.contrib.auth import authenticate
from django.http import HttpRequest
from django.test import Client, RequestFactory
from django.urls import reverse

from core.client_ip import client_ip

pytestmark = pytest.mark.django_db

PASSWORD = "right-password-1"


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user("alice", password=PASSWORD)


def _post(client, username="alice", password="wrong", url="/login/"):
    return client.post(url, {"username": username, "password": password})


def _fail(client, times, **kwargs):
    return [_post(client, **kwargs).status_code for _ in range(times)]


def test_login_wrong_password_limit_locks_that_pair_with_429_page(user, settings, caplog):
    client = Client(REMOTE_ADDR="10.0.0.1")
    caplog.set_level(logging.WARNING)
    codes = _fail(client, settings.AXES_FAILURE_LIMIT)
    assert codes[:-1] == [200] * (settings.AXES_FAILURE_LIMIT - 1)
    assert codes[-1] == 429
    # Locked: even the right password is refused from this address.
    response = _post(client, password=PASSWORD)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    html = response.content.decode()
    assert "Too many failed logins" in html and "15 minutes" in html and "alice" in html
    assert "registration/locked_out.html" in [t.name for t in response.templates]
    assert any("locked out" in r.getMessage().lower() for r in caplog.records)
    assert AccessAttempt.objects.get(username="alice", ip_address="10.0.0.1").failures_since_start >= 5


def test_login_locked_pair_other_address_still_logs_in(user, settings):
    _fail(Client(REMOTE_ADDR="10.0.0.1"), settings.AXES_FAILURE_LIMIT + 3)
    real = Client(REMOTE_ADDR="192.0.2.7")
    response = _post(real, password=PASSWORD)
    assert response.status_code == 302
    assert real.session["_auth_user_id"] == str(user.pk)


def test_login_locked_pair_other_user_name_same_address_not_locked(user, django_user_model, settings):
    django_user_model.objects.create_user("bob", password=PASSWORD)
    client = Client(REMOTE_ADDR="10.0.0.1")
    _fail(client, settings.AXES_FAILURE_LIMIT)
    assert _post(client, username="bob", password=PASSWORD).status_code == 302


def test_login_lockout_ends_after_cooloff(user, settings):
    client = Client(REMOTE_ADDR="10.0.0.1")
    _fail(client, settings.AXES_FAILURE_LIMIT)
    assert _post(client, password=PASSWORD).status_code == 429
    AccessAttempt.objects.update(attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(minutes=16))
    assert _post(client, password=PASSWORD).status_code == 302


def test_login_success_resets_the_count(user, settings):
    client = Client(REMOTE_ADDR="10.0.0.1")
    _fail(client, settings.AXES_FAILURE_LIMIT - 1)
    assert _post(client, password=PASSWORD).status_code == 302
    client.logout()
    assert _fail(client, settings.AXES_FAILURE_LIMIT - 1) == [200] * (settings.AXES_FAILURE_LIMIT - 1)


def test_login_limit_follows_setting(user, settings):
    settings.AXES_FAILURE_LIMIT = 2
    assert _fail(Client(REMOTE_ADDR="10.0.0.1"), 2) == [200, 429]


def test_admin_login_is_throttled_too(django_user_model, settings):
    django_user_model.objects.create_superuser("root", "root@example.com", PASSWORD)
    client = Client(REMOTE_ADDR="10.0.0.2")
    codes = _fail(client, settings.AXES_FAILURE_LIMIT, username="root", url="/admin/login/")
    assert codes[-1] == 429
    assert _post(client, username="root", password=PASSWORD, url="/admin/login/").status_code == 429
    other = Client(REMOTE_ADDR="10.0.0.3")
    assert _post(other, username="root", password=PASSWORD, url="/admin/login/").status_code == 302


def test_login_behind_proxy_throttles_the_client_not_the_proxy(user, settings):
    settings.TRUSTED_PROXIES = 1
    attacker = Client(REMOTE_ADDR="10.9.9.9", HTTP_X_FORWARDED_FOR="198.51.100.1")
    _fail(attacker, settings.AXES_FAILURE_LIMIT)
    assert _post(attacker, password=PASSWORD).status_code == 429
    # The same proxy, another client: not locked.
    real = Client(REMOTE_ADDR="10.9.9.9", HTTP_X_FORWARDED_FOR="203.0.113.5")
    assert _post(real, password=PASSWORD).status_code == 302
    # A spoofed left-hand entry changes nothing: the proxy's own entry decides.
    spoof = Client(REMOTE_ADDR="10.9.9.9", HTTP_X_FORWARDED_FOR="203.0.113.99, 198.51.100.1")
    assert _post(spoof, password=PASSWORD).status_code == 429


def test_axes_admin_lists_render(admin_client, user, settings):
    _fail(Client(REMOTE_ADDR="10.0.0.1"), settings.AXES_FAILURE_LIMIT)
    _post(Client(REMOTE_ADDR="10.0.0.4"), password=PASSWORD)
    axes_models = [m for m in admin.site._registry if m._meta.app_label == "axes"]
    assert axes_models
    for model in axes_models:
        meta = model._meta
        assert admin_client.get(reverse(f"admin:axes_{meta.model_name}_changelist")).status_code == 200
        first = model.objects.first()
        if first is not None:
            assert admin_client.get(reverse(f"admin:axes_{meta.model_name}_change", args=[first.pk])).status_code == 200


def test_authenticate_with_a_request_works(user):
    # What code outside the login views must do: axes needs the request.
    request = HttpRequest()
    request.META["REMOTE_ADDR"] = "127.0.0.1"
    assert authenticate(request=request, username="alice", password=PASSWORD) == user


@pytest.mark.parametrize(
    ("proxies", "remote", "forwarded", "expected"),
    [
        (0, "10.0.0.1", "1.2.3.4", "10.0.0.1"),  # no proxy: the header is the client's own words
        (1, "10.0.0.1", "1.2.3.4", "1.2.3.4"),
        (1, "10.0.0.1", "6.6.6.6, 1.2.3.4", "1.2.3.4"),
        (2, "10.0.0.1", "6.6.6.6, 1.2.3.4, 10.0.0.9", "1.2.3.4"),
        (2, "10.0.0.1", "1.2.3.4", "10.0.0.1"),  # fewer entries than proxies: the nearest hop
        (1, "10.0.0.1", "not-an-ip", "10.0.0.1"),
        (1, "10.0.0.1", "1.2.3.4:5678", "1.2.3.4"),
        (1, "10.0.0.1", "[2001:db8::1]:443", "2001:db8::1"),
        (1, "10.0.0.1", "2001:DB8:0:0::1", "2001:db8::1"),
        (0, "garbage", "", None),
    ],
)
def test_client_ip_honours_only_the_trusted_proxy_count(settings, proxies, remote, forwarded, expected):
    settings.TRUSTED_PROXIES = proxies
    request = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


def test_login_without_a_readable_client_address_still_answers(user, settings):
    # gunicorn on a unix socket passes an empty REMOTE_ADDR: no 500, the throttle still counts.
    client = Client(REMOTE_ADDR="")
    codes = _fail(client, settings.AXES_FAILURE_LIMIT)
    assert codes[-1] == 429 and set(codes[:-1]) == {200}
