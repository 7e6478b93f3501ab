"""Response headers every page carries (Content-Security-Policy, Permissions-Policy,
Cache-Control on private pages)."""

from csp.middleware import CSPMiddleware
from django.conf import settings
from django.utils.cache import patch_cache_control

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
