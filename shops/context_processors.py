from .models import Shop


def shop_nav(request):
    """The shop switcher: the shops of the signed-in user (already loaded by shop_required)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    shops = getattr(request, "my_shops", None)
    return {"my_shops": shops if shops is not None else Shop.objects.for_user(user)}
