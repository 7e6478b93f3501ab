from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login, password_validation
from django.db import transaction
from django.db.models import F
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from core import params
from core.htmx import form_errors, toast
from core.payload import text_error

from . import actions, roles, team
from . import language as shop_language
from .access import shop_required
from .models import Invitation, Membership, Notification, TeamEvent

PAGE = 50


def _items(request):
    return list(Notification.objects.for_member(request.membership).with_read_by(request.user)[:PAGE])


@shop_required
@vary_on_headers("HX-Request")
def notifications(request, shop):
    template = "shops/notifications.html#notification-list" if request.htmx else "shops/notifications.html"
    return render(request, template, {"shop": shop, "items": _items(request)})


@require_POST
@shop_required
def notifications_read(request, shop):
    values = request.POST.getlist("ids")
    ids = params.parse_ids(values, limit=PAGE * 10) if values else None
    if values and ids is None:
        # Not "mark all": a list that is not ids marks nothing.
        messages.error(request, _("Those are not notifications; nothing was marked read."))
        return render(request, "shops/notifications.html", {"shop": shop, "items": _items(request)}, status=400)
    actions.mark_read(membership=request.membership, ids=ids)
    nxt = params.local_url(request, request.POST.get("next"))
    if nxt:
        return redirect(nxt)
    return redirect("shops:notifications", shop=shop.slug)


@require_POST
@shop_required
def notification_open(request, shop, pk):
    """Opening a notification (a POST, so a link elsewhere cannot mark it) marks it read for
    this member, then goes where it points: only a path on this site, never another host."""
    note = actions.open_notification(membership=request.membership, pk=pk)
    if note is None:
        raise Http404("No such notification")
    target = params.local_url(request, note.url)
    if target:
        return redirect(target)
    return redirect("shops:notifications", shop=shop.slug)


@require_POST
@shop_required
def notification_email(request, shop):
    """The member's own choice: email what their role hears about, or only the bell."""
    on = request.POST.get("email") == "on"
    actions.set_email_notifications(membership=request.membership, on=on)
    messages.success(request, "You get these by email too." if on else "Only the bell now: no more emails.")
    return redirect("shops:notifications", shop=shop.slug)


# --- Settings → Team: the owner's page -------------------------------------------------------------


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("Email"), max_length=254)
    role = forms.ChoiceField(label=_("Role"), choices=roles.Role.choices)


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=roles.Role.choices)


class RefundLimitForm(forms.Form):
    refund_limit = forms.DecimalField(label=_("Customer service may refund up to"), min_value=0,
                                      max_value=team.MAX_REFUND_LIMIT, decimal_places=2, max_digits=12)


ROLE_SUMMARIES = [
    (roles.Role(role).label, sorted(p for p in perms if not p.startswith("notify.")))
    for role, perms in roles.ROLE_PERMISSIONS.items()
]


def _team_page(request, shop, *, invite_form=None, limit_form=None, message=None, error=None, status=200):
    members = list(Membership.objects.filter(shop=shop).select_related("user")
                   .order_by(F("removed_at").asc(nulls_first=True), "user__username"))
    context = {
        "shop": shop, "nav": "team", "message": message, "error": error,
        "members": [m for m in members if m.active], "former": [m for m in members if not m.active],
        "owners": sum(1 for m in members if m.active and m.role == roles.Role.OWNER),
        "invitations": [i for i in Invitation.objects.filter(shop=shop, accepted_at__isnull=True,
                                                             revoked_at__isnull=True).select_related("invited_by")],
        "events": TeamEvent.objects.filter(shop=shop).select_related("actor", "member")[:50],
        "invite_form": invite_form or InviteForm(),
        "limit_form": limit_form or RefundLimitForm(initial={"refund_limit": shop.refund_limit}),
        "role_choices": roles.Role.choices, "role_summaries": ROLE_SUMMARIES,
        "days": team.INVITATION_DAYS,
    }
    template = "shops/team.html#team-panel" if request.htmx else "shops/team.html"
    return render(request, template, context, status=status)


def _team_done(request, shop, *, ok=None, error=None, status=409):
    """HTMX: the panel again with the news; otherwise the message flashed and back to the page."""
    if request.htmx:
        response = _team_page(request, shop, message=ok, error=error, status=status if error else 200)
        return toast(response, error or ok, level="error" if error else "success")
    getattr(messages, "error" if error else "success")(request, error or ok)
    return redirect("team:page", shop=shop.slug)


def _member(shop, pk):
    return get_object_or_404(Membership.objects.filter(shop=shop).select_related("user", "shop"), pk=pk)


@shop_required(perm="team.manage")
@vary_on_headers("HX-Request")
@require_http_methods(["GET", "POST"])
def team_page(request, shop):
    """The team: members and their roles, open invitations, the refund limit, the audit trail;
    a POST invites."""
    if request.method == "GET":
        return _team_page(request, shop)
    form = InviteForm(request.POST)
    if not form.is_valid():
        return _team_page(request, shop, invite_form=form, error=form_errors(form), status=400)

    def accept_url(token):
        return request.build_absolute_uri(reverse("invitation", kwargs={"token": token}))

    try:
        invitation, _token = team.invite(shop=shop, email=form.cleaned_data["email"], role=form.cleaned_data["role"],
                                    actor=request.user, accept_url=accept_url)
    except team.TeamRefused as exc:
        return _team_page(request, shop, invite_form=form, error=str(exc), status=409)
    return _team_done(request, shop, ok=_("Invitation sent to %(email)s as %(role)s; the link works once, for %(invitation_days)s days.") % {"email": invitation.email, "role": invitation.get_role_display(), "invitation_days": team.INVITATION_DAYS})


@require_POST
@shop_required(perm="team.manage")
@vary_on_headers("HX-Request")
def member_role(request, shop, pk):
    membership = _member(shop, pk)
    form = RoleForm(request.POST)
    if not form.is_valid():
        return _team_done(request, shop, error=form_errors(form), status=400)
    try:
        team.change_role(membership=membership, role=form.cleaned_data["role"], actor=request.user)
    except team.TeamRefused as exc:
        return _team_done(request, shop, error=str(exc))
    return _team_done(request, shop, ok=_("%(username)s is now %(label)s.") % {"username": membership.user.get_username(), "label": roles.Role(form.cleaned_data['role']).label})


@require_POST
@shop_required(perm="team.manage")
@vary_on_headers("HX-Request")
def member_remove(request, shop, pk):
    membership = _member(shop, pk)
    try:
        team.remove_member(membership=membership, actor=request.user)
    except team.TeamRefused as exc:
        return _team_done(request, shop, error=str(exc))
    return _team_done(request, shop, ok=_("%(username)s was removed; their next request to %(name)s is refused, and their history stays.") % {"username": membership.user.get_username(), "name": shop.name})


@require_POST
@shop_required(perm="team.manage")
@vary_on_headers("HX-Request")
def invitation_revoke(request, shop, pk):
    invitation = get_object_or_404(Invitation.objects.filter(shop=shop).select_related("shop"), pk=pk)
    try:
        team.revoke_invitation(invitation=invitation, actor=request.user)
    except team.TeamRefused as exc:
        return _team_done(request, shop, error=str(exc))
    return _team_done(request, shop, ok=_("The invitation of %(email)s was revoked; its link no longer works.") % {"email": invitation.email})


@require_POST
@shop_required(perm="shop.settings")
@vary_on_headers("HX-Request")
def refund_limit(request, shop):
    form = RefundLimitForm(request.POST)
    if not form.is_valid():
        return _team_page(request, shop, limit_form=form, error=form_errors(form), status=400)
    team.set_refund_limit(shop=shop, amount=form.cleaned_data["refund_limit"], actor=request.user)
    return _team_done(request, shop, ok=_("Customer service may now refund up to %(refund_limit)s %(currency)s at a time.") % {"refund_limit": form.cleaned_data['refund_limit'], "currency": shop.currency})


# --- the invitation link ------------------------------------------------------------------------


class JoinForm(forms.Form):
    """A new account for the invited address: a user name and a password (Django's validators)."""

    username = forms.CharField(label=_("Username"), max_length=150)
    password1 = forms.CharField(label=_("Password"), strip=False, widget=forms.PasswordInput)
    password2 = forms.CharField(label=_("Password again"), strip=False, widget=forms.PasswordInput)

    def __init__(self, *args, email="", **kwargs):
        super().__init__(*args, **kwargs)
        self.email = email

    def clean_username(self):
        username = self.cleaned_data["username"].strip()
        if problem := text_error(username):
            raise forms.ValidationError(_("The username %(problem)s.") % {"problem": problem})
        User = get_user_model()
        User.username_validator(username)
        if User.objects.filter(username__iexact=username).exists():
            raise forms.ValidationError(_("That username is taken; choose another."))
        return username

    def clean(self):
        data = super().clean()
        one, two = data.get("password1"), data.get("password2")
        if one and two and one != two:
            self.add_error("password2", _("The two passwords differ."))
        elif one:
            user = get_user_model()(username=data.get("username") or "", email=self.email)
            try:
                password_validation.validate_password(one, user)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return data


@require_http_methods(["GET", "POST"])
def invitation(request, token):
    """The invited person's page (no shop yet, so no shop_required): join with the account they
    are logged in with, log in first, or set a password for a new account of the invited address."""
    try:
        invite = team.read_token(token)
    except team.TeamRefused as exc:
        return render(request, "shops/invitation.html", {"problem": str(exc)}, status=400)
    User = get_user_model()
    has_account = User.objects.filter(email__iexact=invite.email).exists()
    context = {"invite": invite, "has_account": has_account, "form": None,
               "login_url": f"{reverse('login')}?{urlencode({'next': request.path})}"}
    if not request.user.is_authenticated and not has_account:
        context["form"] = JoinForm(request.POST or None, email=invite.email)
    if request.method == "GET":
        return render(request, "shops/invitation.html", context)
    if request.user.is_authenticated:
        user = request.user
    elif has_account:
        return redirect(context["login_url"])
    else:
        form = context["form"]
        if not form.is_valid():
            return render(request, "shops/invitation.html", context, status=400)
        user = None
    try:
        with transaction.atomic():
            if user is None:
                user = User.objects.create_user(username=form.cleaned_data["username"], email=invite.email,
                                                password=form.cleaned_data["password1"])
            membership = team.accept(invitation=invite, user=user)
    except team.TeamRefused as exc:
        context["problem"] = str(exc)
        return render(request, "shops/invitation.html", context, status=409)
    if not request.user.is_authenticated:
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    messages.success(request, _("Welcome to %(name)s: you are %(role)s.") % {"name": membership.shop.name, "role": membership.get_role_display()})
    return redirect("orders:list", shop=membership.shop.slug)


@require_POST
def set_language(request):
    """The language switcher (every page's header, and the login page): a member's choice is
    saved on their profile and follows them to any browser; anyone else's is a cookie. An empty
    choice goes back to the browser's language. Answers with a redirect to `next` (this site only)."""
    language = request.POST.get("language", "")
    if language and not shop_language.valid(language):
        return HttpResponseBadRequest(
            gettext("Unknown language %(code)s; choose one of %(codes)s.")
            % {"code": language[:20], "codes": ", ".join(shop_language.codes())},
            content_type="text/plain; charset=utf-8",
        )
    next_url = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        next_url = "/"
    if request.user.is_authenticated:
        shop_language.set_member_language(user=request.user, language=language, session=request.session)
    response = redirect(next_url)
    if language:
        response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language, max_age=365 * 24 * 3600, samesite="Lax",
                            secure=request.is_secure(), httponly=True)
    else:
        response.delete_cookie(settings.LANGUAGE_COOKIE_NAME, samesite="Lax")
    return response
