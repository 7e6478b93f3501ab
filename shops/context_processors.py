from django.utils.functional import SimpleLazyObject

from . import roles
from .models import Notification, Shop


def shop_nav(request):
    """The shop switcher and the bell. The switcher reuses the shops shop_required loaded;
    the bell's unread count is read only if a template shows it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    shops = getattr(request, "my_shops", None)
    # `can`: what the member may do in this shop ({% if can.orders.confirm %}), from the
    # membership shop_required resolved; nothing outside a shop.
    context = {"my_shops": shops if shops is not None else Shop.objects.for_user(user),
               "can": getattr(request, "can", roles.NOBODY)}
    shop = getattr(request, "shop", None)
    membership = getattr(request, "membership", None)
    if shop is not None:
        context["shop"] = shop
    if shop is not None and membership is not None:
        context["bell_unread"] = SimpleLazyObject(
            lambda: Notification.objects.for_member(membership).unread_by(user).count()
        )
    return context
