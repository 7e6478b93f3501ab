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
    if shop is not None:
        context["shop"] = shop
        context["bell_unread"] = SimpleLazyObject(
            lambda: Notification.objects.for_user(user, shop).unread().count()
        )
    return context
