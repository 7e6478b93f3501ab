"""Tenancy and permission: every seller page starts from a shop the signed-in user belongs to,
and every page, partial and action checks the member's role against a named permission
(shops.roles) here, on the server, whatever the page showed."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _

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


def removed_from(request, slug=None):
    """The user is signed in but no longer in this shop (slug) or in any: the shop their
    membership was removed from, else None. Read only when the shop lookup found nothing."""
    removed = Membership.objects.filter(user=request.user, removed_at__isnull=False).select_related("shop")
    if slug is not None:
        removed = removed.filter(shop__slug=slug)
    found = removed.order_by("-removed_at").first()
    return found.shop if found else None


def end_removed_session(request, shop):
    """A member removed from `shop`: with no shop left, their session ends now (logged out,
    sent to the login page); with other shops, they are told and sent to those."""
    if request.my_shops:
        messages.error(request, _("You are no longer a member of %(name)s.") % {"name": shop.name})
        return redirect("orders:list", shop=request.my_shops[0].slug)
    logout(request)
    messages.error(request, _("You were removed from %(name)s, so you have been logged out.") % {"name": shop.name})
    return redirect("login")


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
                # Membership is read on every request, so a member removed a moment ago is out
                # now, whatever their session says (docs/operations.md, "Teams").
                removed = removed_from(request, shop)
                if removed is not None:
                    return end_removed_session(request, removed)
                raise Http404("No such shop")
            require(request, perm)
            # Every time on a shop's pages reads in the shop's time zone (core.when).
            with timezone.override(request.shop.tzinfo):
                return view(request, request.shop, *args, **kwargs)

        wrapper.permission = perm
        return wrapper

    return decorate(view) if view is not None else decorate
