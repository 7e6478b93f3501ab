"""The deploy checks (`check --deploy`) fire on the mistakes they name, and stay quiet otherwise."""

import json
import logging
import subprocess
import sys

import pytest

from core import client_ip
from seller_center import checks
from tests.services import ROOT

LOCMEM = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
REDIS = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}}


def ids(messages):
    return [m.id for m in messages]


# --- machine secrets -------------------------------------------------------------------


def test_a_short_machine_secret_is_warned_about_by_name(settings):
    settings.STOREFRONT_SECRET = "s" * 31
    settings.CARRIER_SECRET = "c" * 32
    (warning,) = checks.machine_secrets_are_long(None)
    assert warning.id == "sc.W010"
    assert warning.msg.startswith("STOREFRONT_SECRET is 31 characters long")


def test_long_machine_secrets_pass(settings):
    settings.STOREFRONT_SECRET = "s" * 32
    settings.CARRIER_SECRET = "c" * 64
    assert checks.machine_secrets_are_long(None) == []


def test_a_development_default_is_the_error_only(settings):
    settings.STOREFRONT_SECRET = "dev-storefront-secret"
    settings.CARRIER_SECRET = "c" * 40
    assert checks.machine_secrets_are_long(None) == []
    assert "sc.E002" in ids(checks.secrets_are_set(None))


def test_every_machine_secret_is_a_setting():
    from django.conf import settings

    for name in checks.MACHINE_SECRETS:
        assert isinstance(getattr(settings, name), str), name


# --- per-process cache with several web workers -------------------------------------------


@pytest.mark.parametrize("environ, workers", [
    ({}, 1),
    ({"WEB_CONCURRENCY": "4"}, 4),
    ({"WEB_CONCURRENCY": "4", "GUNICORN_CMD_ARGS": "--bind 0.0.0.0:8000 --workers 2"}, 2),
    ({"GUNICORN_CMD_ARGS": "-w 3"}, 3),
    ({"GUNICORN_CMD_ARGS": "-w5 --timeout 30"}, 5),
    ({"GUNICORN_CMD_ARGS": "--workers=6"}, 6),
    ({"WEB_CONCURRENCY": "lots"}, 1),
])
def test_web_workers_are_counted_as_gunicorn_counts_them(environ, workers):
    assert checks.web_workers(environ) == workers


def test_a_per_process_cache_with_several_web_workers_is_warned_about(settings, monkeypatch):
    settings.CACHES = LOCMEM
    monkeypatch.setenv("WEB_CONCURRENCY", "4")
    (warning,) = checks.cache_is_shared_by_web_workers(None)
    assert warning.id == "sc.W020" and warning.msg.startswith("4 web workers serve with a per-process cache (LocMemCache)")


def test_one_worker_or_a_shared_cache_passes(settings, monkeypatch):
    settings.CACHES = LOCMEM
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    monkeypatch.delenv("GUNICORN_CMD_ARGS", raising=False)
    assert checks.cache_is_shared_by_web_workers(None) == []
    settings.CACHES = REDIS
    monkeypatch.setenv("WEB_CONCURRENCY", "4")
    assert checks.cache_is_shared_by_web_workers(None) == []


# --- requests that bypass the proxy ------------------------------------------------------


@pytest.mark.django_db
def test_requests_without_the_proxy_header_are_counted_logged_and_reported(client, settings, caplog):
    settings.TRUSTED_PROXIES = 1
    assert checks.requests_come_through_the_proxy(None) == []
    before = client_ip.missing_header_in_process()
    client.get("/login/", HTTP_X_FORWARDED_FOR="203.0.113.9")  # through the proxy
    client.get("/healthz")  # the load balancer's probe: not counted
    assert client_ip.missing_header_count() == 0
    assert checks.requests_come_through_the_proxy(None) == []
    with caplog.at_level(logging.WARNING, logger="core.client_ip"):
        client_ip._missing["logged_at"] = None
        client.get("/login/")  # straight to the app
        client.get("/login/")
    assert client_ip.missing_header_count() == 2
    assert client_ip.missing_header_in_process() == before + 2
    logged = [r.getMessage() for r in caplog.records if r.name == "core.client_ip"]
    assert len(logged) == 1 and "came from 127.0.0.1 without the X-Forwarded-For" in logged[0]
    (warning,) = checks.requests_come_through_the_proxy(None)
    assert warning.id == "sc.W030" and warning.msg.startswith("2 request(s) in the last 7 days")
    health = json.loads(client.get("/healthz").content)
    assert health == {"ok": True, "proxy_header_missing": {"this_process": before + 2, "last_7_days": 2}}


@pytest.mark.django_db
def test_without_trusted_proxies_nothing_is_counted(client, settings):
    settings.TRUSTED_PROXIES = 0
    client.get("/login/")
    assert client_ip.missing_header_count() == 0
    assert checks.requests_come_through_the_proxy(None) == []
    assert json.loads(client.get("/healthz").content) == {"ok": True}


@pytest.mark.django_db
def test_two_proxies_need_two_entries(client, settings):
    settings.TRUSTED_PROXIES = 2
    client.get("/login/", HTTP_X_FORWARDED_FOR="203.0.113.9")  # only one proxy added its entry
    client.get("/login/", HTTP_X_FORWARDED_FOR="203.0.113.9, 10.0.0.2")
    assert client_ip.missing_header_count() == 1


# --- the command, as a deployment runs it ----------------------------------------------------


def _check_deploy(**env):
    base = {
        "DEBUG": "false",
        "SECRET_KEY": "x" * 20 + "a-long-random-production-secret-key-0123456789",
        "STOREFRONT_SECRET": "prod-storefront-" + "s" * 32,
        "CARRIER_SECRET": "prod-carrier-" + "c" * 32,
        "ALLOWED_HOSTS": "seller.example.com",
        "PATH": "/usr/bin:/bin",
    }
    return subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                          cwd=ROOT, env={**base, **env}, capture_output=True, text=True)


def test_check_deploy_fires_on_short_secrets_and_a_per_process_cache_with_workers():
    out = _check_deploy(CARRIER_SECRET="short-carrier", WEB_CONCURRENCY="4")
    assert out.returncode != 0
    assert "sc.W010" in out.stderr and "CARRIER_SECRET is 13 characters long" in out.stderr
    assert "sc.W020" in out.stderr and "4 web workers" in out.stderr


def test_check_deploy_passes_with_long_secrets_and_one_worker():
    out = _check_deploy()
    assert out.returncode == 0, out.stdout + out.stderr
