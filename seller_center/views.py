from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from shops.models import Shop


@login_required
def home(request):
    """Send a seller to their first shop's orders; explain when they have none."""
    shop = Shop.objects.for_user(request.user).first()
    if shop is None:
        return render(request, "no_shop.html", status=200)
    return redirect("orders:list", shop=shop.slug)


def health(request):
    from django.db import connection
    from django.http import JsonResponse

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"ok": True})
