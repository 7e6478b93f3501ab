"""Content-Security-Policy, Permissions-Policy and Cache-Control on the pages; htmx loaded
plain (not django-htmx's debug script) and configured so validation answers swap in place."""

import json
import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.http import HttpResponse
from django.test import RequestFactory

from returns.tests.factories import delivered_order, open_return, upload
from seller_center.middleware import PageCSPMiddleware

pytestmark = pytest.mark.django_db

TEMPLATES = Path(django_settings.BASE_DIR) / "templates"


def _csp(response):
    return dict(
        (part.split()[0], part.split()[1:]) for part in response["Content-Security-Policy"].split(";") if part.strip()
    )


def _pages(seller_client, shop):
    return [f"/s/{shop.slug}/orders/", f"/s/{shop.slug}/shipping/", f"/s/{shop.slug}/requests/",
            f"/s/{shop.slug}/health/", f"/s/{shop.slug}/notifications/"]


def test_seller_pages_carry_a_strict_csp_permissions_policy_and_no_store(seller_client, shop):
    for url in _pages(seller_client, shop):
        response = seller_client.get(url)
        assert response.status_code == 200, url
        csp = _csp(response)
        assert csp["script-src"][0] == "'self'" and "'unsafe-inline'" not in csp["script-src"], url
        assert "'unsafe-eval'" not in csp["script-src"]
        assert csp["style-src"] == ["'self'"]
        assert csp["object-src"] == ["'none'"] and csp["frame-ancestors"] == ["'none'"]
        assert csp["default-src"] == ["'self'"]
        assert "camera=()" in response["Permissions-Policy"] and "geolocation=()" in response["Permissions-Policy"]
        cache = response["Cache-Control"]
        assert "private" in cache and "no-store" in cache, url
        # The HTMX partial too.
        partial = seller_client.get(url, headers={"HX-Request": "true"})
        assert "no-store" in partial["Cache-Control"] and "Content-Security-Policy" in partial


def test_buyer_login_and_admin_pages_are_private_and_not_stored(client, admin_client, shop):
    order = delivered_order(shop, email="pat@example.com")
    for response in (
        client.get("/login/"),
        client.get("/returns/"),
        client.post("/returns/", {"number": order.number, "contact": "pat@example.com"}, follow=True),
        admin_client.get("/admin/"),
        admin_client.get("/admin/orders/order/"),
        client.get("/returns/order/", headers={"HX-Request": "true", "HX-Target": "buyer-main"}),  # the buyer's partial
    ):
        assert response.status_code == 200
        assert "private" in response["Cache-Control"] and "no-store" in response["Cache-Control"]
        assert "Content-Security-Policy" in response and "Permissions-Policy" in response


def test_buyer_photo_keeps_its_own_private_cache(client, shop):
    order = delivered_order(shop, email="pat@example.com")
    req = open_return(order, files=[upload()])
    client.post("/returns/", {"number": order.number, "contact": "pat@example.com"})
    photo = req.photos.get()
    response = client.get(f"/returns/order/requests/{req.pk}/photos/{photo.pk}")
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, max-age=3600"


def test_public_health_check_is_not_marked_private(client):
    response = client.get("/healthz")
    assert "no-store" not in response.get("Cache-Control", "")
    assert "Permissions-Policy" in response


def test_csp_is_for_documents_not_pdfs_or_json():
    request = RequestFactory().get("/s/x/shipping/print")
    middleware = PageCSPMiddleware(lambda r: None)
    middleware.process_request(request)
    pdf = middleware.process_response(request, HttpResponse(b"%PDF-1.4", content_type="application/pdf"))
    html = middleware.process_response(request, HttpResponse(b"<p>hi</p>"))
    assert "Content-Security-Policy" not in pdf
    assert "Content-Security-Policy" in html


def test_csp_report_uri_setting_adds_the_directive(monkeypatch):
    import subprocess
    import sys

    code = "import django; django.setup(); from django.conf import settings; " \
           "print(settings.CONTENT_SECURITY_POLICY['DIRECTIVES'].get('report-uri'))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=django_settings.BASE_DIR,
                         env={"DJANGO_SETTINGS_MODULE": "seller_center.settings", "PATH": "/usr/bin:/bin",
                              "CSP_REPORT_URI": "https://csp.example.com/r"})
    assert out.stdout.strip() == "['https://csp.example.com/r']", out.stderr


def _strip_comments(text):
    text = re.sub(r"{%\s*comment\s*%}.*?{%\s*endcomment\s*%}", "", text, flags=re.S)
    return re.sub(r"{#.*?#}", "", text, flags=re.S)


def test_templates_have_no_inline_script_style_or_handlers():
    offences = []
    for path in TEMPLATES.rglob("*.html"):
        text = _strip_comments(path.read_text())
        for pattern, what in [
            (r"<script(?![^>]*\bsrc=)", "inline <script>"),
            (r"<style\b", "<style> element"),
            (r"\sstyle\s*=", "style attribute"),
            (r"\son[a-z]+\s*=", "on… handler attribute"),
            (r"javascript:", "javascript: URL"),
            (r"\shx-on", "hx-on (needs eval)"),
        ]:
            for match in re.finditer(pattern, text, flags=re.I):
                line = text[: match.start()].count("\n") + 1
                offences.append(f"{path.relative_to(TEMPLATES)}:{line}: {what}")
    assert not offences, "\n".join(offences)


def _htmx_config(html):
    match = re.search(r"<meta name=\"htmx-config\" content='([^']*)'>", html)
    assert match, "no htmx-config meta"
    return json.loads(match.group(1))


def _handling(config, status):
    """What htmx 2 does with `status`: the first responseHandling rule whose code matches."""
    for rule in config["responseHandling"]:
        if re.search(rule["code"], str(status)):
            return rule.get("swap", False), rule.get("error", False)
    raise AssertionError(status)


@pytest.mark.parametrize("debug", [True, False])
def test_base_loads_plain_htmx_configured_for_validation_answers(client, settings, debug):
    settings.DEBUG = debug
    html = client.get("/login/").content.decode()
    assert "django-htmx.js" not in html and "django_htmx/" not in html
    assert re.search(r'<script src="/static/js/vendor/htmx-2\.\d+\.\d+\.min\.js" defer></script>', html)
    config = _htmx_config(html)
    assert config["includeIndicatorStyles"] is False and config["allowEval"] is False
    for status in (200, 201, 302):
        assert _handling(config, status) == (True, False)
    assert _handling(config, 204) == (False, False)
    for status in (400, 409, 422, 429):
        assert _handling(config, status) == (True, False), status
    for status in (401, 403, 404, 405, 413, 500, 502, 503):
        assert _handling(config, status) == (False, True), status


def test_vendored_htmx_is_htmx_2():
    vendored = list((Path(django_settings.BASE_DIR) / "static" / "js" / "vendor").glob("htmx-*.min.js"))
    assert len(vendored) == 1
    assert re.search(r'version:"2\.\d+\.\d+"', vendored[0].read_text())
