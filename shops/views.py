from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from core import params

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
    values = request.POST.getlist("ids")
    ids = params.parse_ids(values, limit=PAGE * 10) if values else None
    if values and ids is None:
        # Not "mark all": a list that is not ids marks nothing.
        messages.error(request, "Those are not notifications; nothing was marked read.")
        items = list(Notification.objects.for_user(request.user, shop)[:PAGE])
        return render(request, "shops/notifications.html", {"shop": shop, "items": items}, status=400)
    actions.mark_read(shop=shop, user=request.user, ids=ids)
    nxt = params.local_url(request, request.POST.get("next"))
    if nxt:
        return redirect(nxt)
    return redirect("shops:notifications", shop=shop.slug)


@require_POST
@shop_required
def notification_open(request, shop, pk):
    """Opening a notification (a POST, so a link elsewhere cannot mark it) marks it read,
    then goes where it points: only a path on this site, never another host."""
    note = actions.open_notification(shop=shop, user=request.user, pk=pk)
    if note is None:
        raise Http404("No such notification")
    target = params.local_url(request, note.url)
    if target:
        return redirect(target)
    return redirect("shops:notifications", shop=shop.slug)
