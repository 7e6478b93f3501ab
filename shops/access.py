"""Tenancy: every seller page starts from a shop the signed-in user belongs to."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import Http404

from .models import Shop


def shop_required(view):
    """Resolve the `shop` URL slug among the user's own shops (404 otherwise) and pass
    the Shop to the view instead of the slug. One query serves both the check and the
    shop switcher (request.my_shops)."""

    @login_required
    @wraps(view)
    def wrapper(request, shop, *args, **kwargs):
        request.my_shops = list(Shop.objects.for_user(request.user))
        request.shop = next((s for s in request.my_shops if s.slug == shop), None)
        if request.shop is None:
            raise Http404("No such shop")
        return view(request, request.shop, *args, **kwargs)

    return wrapper
