"""System checks of a deployment (`manage.py check --deploy`): mistakes that pass every test and
then let a guess, a forged request or a client's own address through in production."""

import os
import shlex

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

from core import client_ip

# The shared secrets machines sign their requests with: one line each. A secret shorter than
# MIN_MACHINE_SECRET characters is warned about (a human picked it, or it was cut short).
MACHINE_SECRETS = {
    "STOREFRONT_SECRET": "the storefront's orders and payments",
    "CARRIER_SECRET": "the carriers' tracking feed",
}
MIN_MACHINE_SECRET = 32
DEV_MACHINE_SECRETS = {"STOREFRONT_SECRET": "dev-storefront-secret", "CARRIER_SECRET": "dev-carrier-secret"}
# Cache backends each process keeps for itself (or not at all): counters in them do not add up
# across web workers.
PER_PROCESS_CACHES = {
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
}


@register(Tags.security, deploy=True)
def secrets_are_set(app_configs, **kwargs):
    """Refuse to deploy with the development defaults of the secrets."""
    errors = []
    if settings.SECRET_KEY == settings.DEV_SECRET:
        errors.append(Error("SECRET_KEY is the development default.", hint="Set SECRET_KEY.", id="sc.E001"))
    for name, default in DEV_MACHINE_SECRETS.items():
        if getattr(settings, name) == default:
            errors.append(Error(f"{name} is the development default.", hint=f"Set {name}.", id="sc.E002"))
    return errors


@register(Tags.security, deploy=True)
def machine_secrets_are_long(app_configs, **kwargs):
    warnings = []
    for name, signs in MACHINE_SECRETS.items():
        value = getattr(settings, name, "") or ""
        if value == DEV_MACHINE_SECRETS.get(name):
            continue  # sc.E002 says so
        if len(value) < MIN_MACHINE_SECRET:
            warnings.append(Warning(
                f"{name} is {len(value)} characters long; a machine secret should be at least "
                f"{MIN_MACHINE_SECRET}.",
                hint=f"It signs {signs}: generate one, e.g. `python -c \"import secrets; "
                     f"print(secrets.token_urlsafe(48))\"`, and give the same value to the other side.",
                id="sc.W010",
            ))
    return warnings


def web_workers(environ=None):
    """How many web worker processes serve from this machine, as gunicorn will count them:
    -w/--workers in GUNICORN_CMD_ARGS, else WEB_CONCURRENCY (gunicorn's default for
    --workers), else 1. A count given only on gunicorn's command line is not seen here:
    docs/operations.md asks for WEB_CONCURRENCY."""
    environ = os.environ if environ is None else environ
    args = shlex.split(environ.get("GUNICORN_CMD_ARGS", ""))
    for i, arg in enumerate(args):
        value = None
        if arg in ("-w", "--workers") and i + 1 < len(args):
            value = args[i + 1]
        elif arg.startswith("--workers="):
            value = arg.split("=", 1)[1]
        elif arg.startswith("-w") and len(arg) > 2:
            value = arg[2:]
        if value is not None and value.isascii() and value.isdigit():
            return int(value)
    value = environ.get("WEB_CONCURRENCY", "")
    return int(value) if value.isascii() and value.isdigit() else 1


@register(Tags.caches, deploy=True)
def cache_is_shared_by_web_workers(app_configs, **kwargs):
    workers = web_workers()
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    if workers > 1 and backend in PER_PROCESS_CACHES:
        return [Warning(
            f"{workers} web workers serve with a per-process cache ({backend.rsplit('.', 1)[1]}): each keeps its own "
            "counts, so the buyer page's rate limits and the API's per-key limit let through up to "
            f"{workers} times what they allow.",
            hint="Set REDIS_URL (one cache for every process), or serve with one worker.",
            id="sc.W020",
        )]
    return []


@register(Tags.security, deploy=True)
def requests_come_through_the_proxy(app_configs, **kwargs):
    """Requests the web processes saw without the proxy's X-Forwarded-For while TRUSTED_PROXIES
    says there is one (core.client_ip counts them in the cache). Only a shared cache (Redis)
    holds the web processes' counts; with a per-process one this check cannot see them and
    /healthz answers for its own process."""
    if settings.TRUSTED_PROXIES <= 0:
        return []
    missing = client_ip.missing_header_count()
    if not missing:
        return []
    return [Warning(
        f"{missing} request(s) in the last {client_ip.MISSING_DAYS} days reached the app without the "
        f"X-Forwarded-For entries of the {settings.TRUSTED_PROXIES} proxy(ies) TRUSTED_PROXIES names: a client "
        "that reaches the app directly is rate-limited by its own address, or one it chose.",
        hint="Let only the proxy reach the app (bind gunicorn to a private address or a firewall), or correct "
             "TRUSTED_PROXIES. The web processes log each such request's address (logger core.client_ip).",
        id="sc.W030",
    )]
