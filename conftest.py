import shutil
import subprocess
from pathlib import Path

import pytest
from django.db import connection


def pytest_configure(config):
    """Compile the translation catalogs (locale/*/LC_MESSAGES/*.po) that are newer than their
    .mo, once, before any worker starts: a bare `pytest` then tests what `make test` builds.
    Without msgfmt (GNU gettext) the pages stay English and the catalog tests say why."""
    if hasattr(config, "workerinput") or shutil.which("msgfmt") is None:
        return
    for po in Path(__file__).resolve().parent.glob("locale/*/LC_MESSAGES/*.po"):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            subprocess.run(["msgfmt", "--check-format", "-o", str(mo), str(po)], check=True)


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache (rate limits, shop health), whatever ran before."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the default language: a page a test fetched activates the language it
    was asked in (LocaleMiddleware), and that would otherwise stay on for the next test."""
    from django.utils import translation

    translation.activate("en")
    yield
    translation.activate("en")


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def on_postgres():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (row locks); set DATABASE_URL=postgres://...")


@pytest.fixture
def seller(db):
    from shops.tests.factories import MembershipFactory

    return MembershipFactory().user


@pytest.fixture
def shop(seller):
    return seller.memberships.get().shop


@pytest.fixture
def seller_client(client, seller):
    client.force_login(seller)
    return client


# --- browser journeys (Playwright driving Debian's chromium) --------------------------
import os  # noqa: E402

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# Playwright's sync API runs an event loop in the test thread; the ORM calls the tests
# make around it are still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def _browser():
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        reason = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI needs browser tests: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium"),
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


# Run in every page before its own scripts (init scripts are not subject to the page's CSP):
# a violation is also reported as an event, with the directive and what was blocked.
_CSP_WATCH = """document.addEventListener("securitypolicyviolation", (e) => console.error(
  "CSP violation: " + e.violatedDirective + " blocked " + (e.blockedURI || "inline") +
  " in " + (e.sourceFile || document.location.href) + ":" + e.lineNumber));"""
# What Chromium writes to the console when the Content-Security-Policy or the
# Permissions-Policy header refuses something, or cannot be read.
_POLICY_MESSAGES = ("Content Security Policy", "Content-Security-Policy", "CSP violation", "Permissions-Policy")


@pytest.fixture
def browser_context(_browser, live_server):
    """new_context(**options): a browser context on the live server whose pages fail the
    test (at teardown) on any CSP or Permissions-Policy message in their console."""
    contexts = []

    def new_context(**options):
        options = {"viewport": {"width": 1280, "height": 900}, **options}
        context = _browser.new_context(base_url=live_server.url, **options)
        context.set_default_timeout(10_000)
        context.add_init_script(_CSP_WATCH)
        context.policy_messages = []

        def on_console(msg, context=context):
            if any(word in msg.text for word in _POLICY_MESSAGES):
                context.policy_messages.append(f"{msg.type}: {msg.text} ({msg.location.get('url', '')})")

        context.on("console", on_console)
        contexts.append(context)
        return context

    yield new_context
    messages = [m for c in contexts for m in c.policy_messages]
    for context in contexts:
        context.close()
    if messages:
        pytest.fail("The page broke its security policy (CSP / Permissions-Policy):\n" + "\n".join(messages))


@pytest.fixture
def page(browser_context, live_server):
    """A fresh browser page; `page.base_url` is the live server's address."""
    pg = browser_context().new_page()
    pg.base_url = live_server.url
    return pg


@pytest.fixture
def login(page):
    """login(username, password) through the real login form."""

    def _login(username, password="pw"):
        page.goto("/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_load_state()

    return _login
