"""Tenancy: every seller page starts from a shop the signed-in user belongs to."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404

from .models import Shop


def shop_required(view):
    """Resolve the `shop` URL slug among the user's own shops (404 otherwise) and pass
    the Shop to the view instead of the slug."""

    @login_required
    @wraps(view)
    def wrapper(request, shop, *args, **kwargs):
        request.shop = get_object_or_404(Shop.objects.for_user(request.user), slug=shop)
        return view(request, request.shop, *args, **kwargs)

    return wrapper
