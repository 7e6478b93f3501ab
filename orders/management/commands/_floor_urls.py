"""bench_orders' yardstick: the least an authenticated page costs on this stack (the same
middleware, session and user lookups, one counter query, a one-line template), so that
the Manage Orders figures can be read against what Django itself takes."""

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpResponse
from django.template import engines
from django.urls import path

_PAGE = engines["django"].from_string("<!doctype html><title>floor</title><p>{{ user.get_username }}: {{ n }}</p>")


@login_required
def floor(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT SUM(count) FROM orders_orderstatuscount WHERE shop_id = %s", [request.GET.get("shop")])
        n = cursor.fetchone()[0]
    return HttpResponse(_PAGE.render({"user": request.user, "n": n}, request))


urlpatterns = [path("floor/", floor, name="floor")]
