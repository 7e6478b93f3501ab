from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from . import actions
from .access import shop_required
from .models import Notification

PAGE = 50


@shop_required
@vary_on_headers("HX-Request")
def notifications(request, shop):
    items = list(Notification.objects.for_user(request.user, shop)[:PAGE])
    template = "shops/notifications.html#notification-list" if request.htmx else "shops/notifications.html"
    return render(request, template, {"shop": shop, "items": items})


@require_POST
@shop_required
def notifications_read(request, shop):
    ids = request.POST.getlist("ids") or None
    if ids:
        ids = [int(i) for i in ids if i.isdigit()]
    actions.mark_read(shop=shop, user=request.user, ids=ids)
    nxt = request.POST.get("next", "")
    if nxt.startswith("/") and not nxt.startswith("//"):
        return redirect(nxt)
    return redirect("shops:notifications", shop=shop.slug)
