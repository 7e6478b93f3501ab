"""Tenancy and permission: every seller page starts from a shop the signed-in user belongs to,
and every page, partial and action checks the member's role against a named permission
(shops.roles) here, on the server, whatever the page showed."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404

from . import roles
from .models import Membership


class MissingPermission(PermissionDenied):
    """A member asked for something their role does not allow: a 403 naming the permission."""

    def __init__(self, permission, role, detail=""):
        self.permission, self.role = permission, role
        what = roles.PERMISSIONS.get(permission, permission)
        role_label = roles.Role(role).label if role in roles.Role.values else (role or "no role")
        super().__init__(detail or f"Your role ({role_label}) may not {what}: it needs the permission {permission}.")


def can(request, permission):
    """Whether the member behind this request holds `permission` in the request's shop."""
    membership = getattr(request, "membership", None)
    return membership is not None and roles.has(membership.role, permission)


def require(request, permission, detail=""):
    """Refuse (403, nothing done) unless the member holds `permission` in the request's shop."""
    if not can(request, permission):
        membership = getattr(request, "membership", None)
        raise MissingPermission(permission, membership.role if membership else None, detail)


def _resolve(request, slug):
    """The user's active memberships in one query (it also feeds the shop switcher), and the
    one of the shop in the URL."""
    memberships = list(Membership.objects.active().filter(user=request.user).select_related("shop")
                       .order_by("shop__name", "shop_id"))
    request.my_shops = [m.shop for m in memberships]
    request.membership = next((m for m in memberships if m.shop.slug == slug), None)
    request.shop = request.membership.shop if request.membership else None
    request.can = roles.Can(roles.permissions_of(request.membership.role)) if request.membership else roles.NOBODY


def shop_required(view=None, *, perm="orders.view"):
    """Resolve the `shop` URL slug among the user's own shops (404 otherwise), check the
    member's role holds `perm` (403 naming it otherwise), and pass the Shop to the view instead
    of the slug. Used bare (@shop_required: any member may read) or with a permission
    (@shop_required(perm="orders.confirm"))."""

    def decorate(view):
        @login_required
        @wraps(view)
        def wrapper(request, shop, *args, **kwargs):
            _resolve(request, shop)
            if request.shop is None:
                raise Http404("No such shop")
            require(request, perm)
            return view(request, request.shop, *args, **kwargs)

        wrapper.permission = perm
        return wrapper

    return decorate(view) if view is not None else decorate
