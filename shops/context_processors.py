from .models import Shop


def shop_nav(request):
    """The shop switcher: the shops of the signed-in user (one query, lazily)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"my_shops": Shop.objects.for_user(user).only("id", "name", "slug")}
