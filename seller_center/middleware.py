"""Response headers every page carries (Content-Security-Policy, Permissions-Policy,
Cache-Control on private pages), the request body limit, and the count of requests that
did not come through the trusted proxies."""

from csp.middleware import CSPMiddleware
from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.cache import patch_cache_control
from django.utils.http import url_has_allowed_host_and_scheme

from core import client_ip
from core.htmx import toast
from shops import language as shop_language

# Pages that show one person's data: a seller's shop, a buyer's order, admin, the login form
# (its CSRF token). No shared cache keeps them and no browser writes them to disk, so the back
# button after logging out on a shared computer shows nothing.
PRIVATE_PREFIXES = ("/s/", "/returns/", "/admin/", "/login/", "/logout/")


class PageCSPMiddleware(CSPMiddleware):
    """django-csp's middleware, for documents only: a PDF label or a JSON answer runs no
    script, and a policy on a PDF can stop a browser's built-in viewer from showing it."""

    def process_response(self, request, response):
        content_type = response.get("Content-Type", "")
        if content_type and not content_type.startswith(("text/html", "application/xhtml+xml")):
            return response
        return super().process_response(request, response)


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if settings.PERMISSIONS_POLICY:
            response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        if request.path_info.startswith(PRIVATE_PREFIXES):
            # A view that said "private" itself (the buyer's photos, cached for an hour in that
            # browser only) has decided; every other answer here is private and not stored.
            if "private" not in response.get("Cache-Control", ""):
                patch_cache_control(response, private=True, no_store=True)
        return response


def _mb(size):
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.0f} MB"
    return f"{size // 1024} KB" if size >= 1024 else f"{size} bytes"


class RequestBodyLimitMiddleware:
    """A body whose Content-Length is over MAX_REQUEST_BODY is answered 413 at once: nothing
    of it is read, so nothing is spooled to memory or disk. The proxy in front should refuse
    the same size itself (README, client_max_body_size); this holds without one."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0  # Django reads no body it cannot size
        limit = settings.MAX_REQUEST_BODY
        if length > limit:
            return self.too_large(request, length, limit)
        return self.get_response(request)

    def too_large(self, request, length, limit):
        message = (f"What you sent is {_mb(length)}; at most {_mb(limit)} can be sent at once. "
                   "Photos are at most 5 MB each: attach fewer or smaller ones.")
        if request.path_info.startswith("/api/"):
            return JsonResponse({"type": "https://seller-center.invalid/problems/body_too_large",
                                 "title": "Request body too large", "status": 413, "code": "body_too_large",
                                 "detail": message, "limit": limit}, status=413,
                                content_type="application/problem+json")
        if request.headers.get("HX-Request") == "true":
            return toast(HttpResponse(status=413), message, level="error")
        back = request.headers.get("Referer", "")
        if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()},
                                               require_https=request.is_secure()):
            back = "/"
        return render(request, "request_too_large.html", {"message": message, "back": back}, status=413)


class ProxyHeaderWatchMiddleware:
    """With TRUSTED_PROXIES set, counts and logs every request that lacks the proxies'
    X-Forwarded-For (core.client_ip.note_missing_header): a client reaching the app directly
    is rate-limited by an address it controls. The request is served as before. /healthz is
    not counted: a load balancer's probe comes straight to the app."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if (settings.TRUSTED_PROXIES > 0 and request.path_info != "/healthz"
                and not client_ip.came_through_proxies(request)):
            client_ip.note_missing_header(request)
        return self.get_response(request)


class MemberLanguageMiddleware:
    """After authentication: a member who chose a language (shops.MemberProfile, copied into the
    session at login and when they change it) gets it on every page, whatever the browser asks;
    LocaleMiddleware has already activated the browser's for everyone else. A request without a
    session cookie (the storefront, carriers, the API) reads nothing."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if settings.SESSION_COOKIE_NAME in request.COOKIES:
            language = request.session.get(shop_language.SESSION_KEY)
            if language and shop_language.valid(language):
                translation.activate(language)
                request.LANGUAGE_CODE = language
        return self.get_response(request)
