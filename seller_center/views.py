from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views import defaults
from django.views.decorators.vary import vary_on_headers

from core import params
from core.htmx import toast
from shops import access
from shops.access import shop_required
from shops.models import Shop

from . import health as shop_health


@login_required
def home(request):
    """Send a seller to their first shop's orders; explain when they have none."""
    shop = Shop.objects.for_user(request.user).first()
    if shop is None:
        removed = access.removed_from(request)
        if removed is not None and not request.user.is_staff:
            request.my_shops = []
            return access.end_removed_session(request, removed)
        return render(request, "no_shop.html", status=200)
    return redirect("orders:list", shop=shop.slug)


def health(request):
    """For the load balancer: 200 when the database answers. Behind proxies (TRUSTED_PROXIES),
    also how many requests reached the app without their X-Forwarded-For: in this process
    since it started, and over the last days in the cache (every process's with Redis)."""
    from django.conf import settings
    from django.db import connection

    from core import client_ip

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    answer = {"ok": True}
    if settings.TRUSTED_PROXIES > 0:
        answer["proxy_header_missing"] = {
            "this_process": client_ip.missing_header_in_process(),
            f"last_{client_ip.MISSING_DAYS}_days": client_ip.missing_header_count(),
        }
    return JsonResponse(answer)


@shop_required
@vary_on_headers("HX-Request")
def health_page(request, shop):
    """Shop health: the rates over a period (7, 30 or 90 days), week by week, and the
    demand forecast with restock hints. The period travels in the URL."""
    days = params.parse_int(request.GET.get("days"), 30)
    days = days if days in shop_health.PERIODS else 30
    context = {"shop": shop, "nav": "health", "days": days, "periods": shop_health.PERIODS}
    if request.htmx:
        context.update(shop_health.figures(shop, days=days, parts=("summary",)))
        return render(request, "health/shop_health.html#health-summary", context)
    context.update(
        shop_health.figures(shop, days=days),
        forecast_days=shop_health.FORECAST_DAYS, history_days=shop_health.HISTORY_DAYS,
        cover_days=shop_health.COVER_TARGET_DAYS,
    )
    return render(request, "health/shop_health.html", context)


def forbidden(request, exception=None):
    """A refused page or action (shops.access.MissingPermission names the permission). htmx
    swaps no 403 (includes/_htmx_config.html), so its answer carries the reason as a toast."""
    reason = str(exception) if exception and str(exception) else "You may not do that here."
    if request.path.startswith("/api/"):
        return JsonResponse({"type": "about:blank", "title": "Forbidden", "status": 403, "code": "forbidden",
                             "detail": reason}, status=403, content_type="application/problem+json")
    if getattr(request, "htmx", False):
        response = render(request, "403.html#reason", {"reason": reason}, status=403)
        return toast(response, reason, level="error")
    return render(request, "403.html", {"reason": reason}, status=403)


def not_found(request, exception=None):
    """Machines get a 404 they can parse; people get the site's page."""
    if request.path.startswith("/api/"):
        detail = f"no endpoint at {request.path}"
        return JsonResponse({"type": "about:blank", "title": "Not found", "status": 404, "code": "not_found",
                             "detail": detail, "error": detail}, status=404, content_type="application/problem+json")
    return defaults.page_not_found(request, exception)
