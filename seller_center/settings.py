"""Seller Center settings: one module, the environment decides.

Every value has a safe development default so a fresh clone runs with nothing set;
production sets DEBUG=false and the secrets (see README "Environment").
"""

from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONCE, NONE, SELF
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=True)
DEV_SECRET = "dev-only-insecure-secret-key-change-me-in-production-0123456789"
SECRET_KEY = env.str("SECRET_KEY", default=DEV_SECRET)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Shared secrets of the machine endpoints (HMAC-SHA256 of the raw body).
STOREFRONT_SECRET = env.str("STOREFRONT_SECRET", default="dev-storefront-secret")
CARRIER_SECRET = env.str("CARRIER_SECRET", default="dev-carrier-secret")
# PostgreSQL only: carrier-feed transactions commit without waiting for the disk. Faster
# single events; a database crash may lose the last moments of events already answered 2xx.
CARRIER_FEED_ASYNC_COMMIT = env.bool("CARRIER_FEED_ASYNC_COMMIT", default=False)
# The demo's carrier simulator (shipping.tasks.simulate_carrier_tick); on while DEBUG is.
CARRIER_SIMULATOR = env.bool("CARRIER_SIMULATOR", default=DEBUG)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "django_q",
    "csp",
    "axes",
    "ninja",
    "core",
    "shops",
    "orders",
    "shipping",
    "returns",
    "api",
    "seller_center",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "seller_center.middleware.ProxyHeaderWatchMiddleware",
    "seller_center.middleware.PageCSPMiddleware",
    "seller_center.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language: the browser's (Accept-Language, or the switcher's cookie) ...
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # ... or the member's own choice (shops.MemberProfile), kept in their session.
    "seller_center.middleware.MemberLanguageMiddleware",
    # Before any view reads the body (CsrfViewMiddleware reads POST only in process_view).
    "seller_center.middleware.RequestBodyLimitMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last: it turns the lockout that authenticate() signalled into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "seller_center.urls"
WSGI_APPLICATION = "seller_center.wsgi.application"
ASGI_APPLICATION = "seller_center.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "shops.context_processors.shop_nav",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while the worker writes; IMMEDIATE takes the write
    # lock at BEGIN so two writers queue instead of failing with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;",
        }
    )
    DATABASES["default"]["TEST"] = {"NAME": env.str("SQLITE_TEST_NAME", default="") or None}
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Login throttle (django-axes): after LOGIN_FAILURE_LIMIT wrong passwords for one user name
# from one address, that pair is refused for LOGIN_COOLOFF_MINUTES (the seller page and
# admin's login alike). Only the pair: the real user logs in from their own address while
# someone elsewhere is guessing, and a guesser elsewhere cannot lock them out.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "core.client_ip.client_ip"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False  # no start-up banner on every manage.py command; failures are still logged
AXES_LOCKOUT_CALLABLE = "seller_center.login_throttle.lockout_response"  # 429, registration/locked_out.html
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# The languages of the seller pages, the buyer's page, emails and labels (locale/<code>/LC_MESSAGES).
# A member picks theirs (Settings, or the header's switcher); anyone else gets the browser's
# Accept-Language, and a buyer their order's language. Money and dates follow the language
# through Babel (core.money, core.when), in the shop's time zone.
LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", _("English")),
    ("vi", _("Vietnamese")),
    ("th", _("Thai")),
    ("id", _("Indonesian")),
    ("es", _("Spanish")),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Seller Center <no-reply@seller-center.invalid>")

# Task queue: django-q2 with its queue in the database (the ORM broker), on PostgreSQL shared
# by every worker machine. Redis, when there, is the cache only: django-q2's Redis broker
# has no delivery receipts, so a task whose worker dies is lost, while the ORM broker hands
# it out again `retry` seconds after it was taken. The numbers (docs/operations.md, "Tasks"):
# - timeout 45 s: a worker still busy after it is stopped (a full policy run over 1M orders
#   with 100k due takes about 30 s; a longer one is stopped and its retry carries on from
#   the batches it committed);
# - retry 55 s, more than the timeout: a task taken and not acknowledged (its worker was
#   killed, its machine died) is handed out again 55 s after it was taken, so it runs again
#   within a minute of the kill (the broker's poll and the worker's start take the rest),
#   and a live task is stopped before its copy is handed out;
# - ack_failures off, max_attempts 3: a task that raised or timed out is tried again after
#   `retry`, three times in all; a killed worker reports nothing and does not count;
# - queue_limit = workers and bulk 1: a task waits in a cluster's own queue at most while
#   its workers finish what they hold (that wait counts against `retry`).
# Two copies of a run at once (a retry of a task that waited too long, a schedule tick
# during a slow run) are stopped by the run itself (core.locks.run_alone).
REDIS_URL = env.str("REDIS_URL", default="")
Q_WORKERS = env.int("Q_WORKERS", default=2)
Q_CLUSTER = {
    "name": env.str("Q_CLUSTER_NAME", default="seller_center"),
    "workers": Q_WORKERS,
    "orm": "default",
    "timeout": 45,
    "retry": 55,
    "max_attempts": 3,
    "ack_failures": False,
    "queue_limit": Q_WORKERS,
    "bulk": 1,
    "poll": 1,  # seconds between the broker's looks at an empty queue
    "catch_up": False,
    "label": "Task queue",
}

# One cache for every process when Redis is there (the buyer page's rate limits must be
# shared by all web workers); a per-process memory cache otherwise.
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Request bodies: one larger than MAX_REQUEST_BODY (by its Content-Length) is answered 413 before
# a byte of it is read (seller_center.middleware.RequestBodyLimitMiddleware); the proxy in
# front refuses the same size (nginx: client_max_body_size, README). The largest honest body
# is the buyer's request with 5 photos of 5 MB. Form fields and JSON bodies (everything but
# files) are at most DATA_UPLOAD_MAX_MEMORY_SIZE (Django answers 400); an uploaded file
# over FILE_UPLOAD_MAX_MEMORY_SIZE is spooled to a temporary file instead of memory.
MAX_REQUEST_BODY = env.int("MAX_REQUEST_BODY", default=26 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=2_621_440)  # 2.5 MB
FILE_UPLOAD_MAX_MEMORY_SIZE = env.int("FILE_UPLOAD_MAX_MEMORY_SIZE", default=2_621_440)
# Photos (buyers' evidence, handover proof) of more pixels are refused from their header,
# before any decoding: a 40-megapixel PNG costs seconds of CPU to decode and re-encode.
PHOTO_MAX_PIXELS = env.int("PHOTO_MAX_PIXELS", default=25_000_000)
# The buyer's page: requests one order may open in 24 hours (each rings the seller's bell and
# sends emails, and withdrawing one makes room for another), and photos stored on one order
# across all its requests, withdrawn ones included.
RETURNS_REQUESTS_PER_ORDER_PER_DAY = env.int("RETURNS_REQUESTS_PER_ORDER_PER_DAY", default=3)
RETURNS_PHOTOS_PER_ORDER = env.int("RETURNS_PHOTOS_PER_ORDER", default=20)
RETURNS_BUYER_MESSAGES_PER_HOUR = env.int("RETURNS_BUYER_MESSAGES_PER_HOUR", default=10)
RETURNS_SELLER_MESSAGES_PER_HOUR = env.int("RETURNS_SELLER_MESSAGES_PER_HOUR", default=30)

# How many reverse proxies in front of the app add X-Forwarded-For (0: none, trust no header).
TRUSTED_PROXIES = env.int("TRUSTED_PROXIES", default=0)
# Where buyers' emailed links point.
RETURNS_PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://127.0.0.1:8000")

# Content-Security-Policy (django-csp): scripts, styles, images and requests from this site
# only; no inline script or style anywhere (htmx is told not to add its own <style>, see
# templates/includes/_htmx_config.html). A script that cannot be a file takes the request's
# nonce: <script nonce="{{ request.csp_nonce }}">. CSP_REPORT_URI, when set, receives the
# browsers' violation reports.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],  # admin's icons in its stylesheets
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "object-src": [NONE],
    },
}
if csp_report_uri := env.str("CSP_REPORT_URI", default=""):
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["report-uri"] = [csp_report_uri]
# Browser features no page here uses are off for the site and anything it could embed.
PERMISSIONS_POLICY = env.str(
    "PERMISSIONS_POLICY",
    default="accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), "
    "midi=(), payment=(), usb=(), serial=(), hid=(), display-capture=(), browsing-topics=()",
)

SESSION_COOKIE_HTTPONLY = True
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# Seller API: requests a minute per key (429 with Retry-After beyond it).
API_RATE_LIMIT_PER_MINUTE = env.int("API_RATE_LIMIT_PER_MINUTE", default=600)

# A SKU is low on stock when its available stock (on hand minus reserved) falls below this; the
# feed and webhooks then carry a stock.low event.
STOCK_LOW_THRESHOLD = env.int("STOCK_LOW_THRESHOLD", default=5)

# Webhooks (api/outbox.py). Receivers on loopback or private addresses are refused unless this is
# on: on by default while DEBUG is (the demo and the tests run their receivers on 127.0.0.1).
WEBHOOKS_ALLOW_PRIVATE_URLS = env.bool("WEBHOOKS_ALLOW_PRIVATE_URLS", default=DEBUG)
# Seconds a receiver has to answer one delivery before it counts as failed and is retried.
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=10.0)
# Deliveries sent at once by one pump (threads, each with its own keep-alive connections).
WEBHOOK_CONCURRENCY = env.int("WEBHOOK_CONCURRENCY", default=16)
