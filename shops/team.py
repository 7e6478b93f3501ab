"""The team's actions: invite by email, accept, revoke, change a role, remove a member, set the
customer-service refund limit. Each is atomic, locks what it changes and writes a TeamEvent; a
refused one raises TeamRefused and changes nothing. The owner's permission (team.manage,
shop.settings) is checked by the views; these check what holds for everyone (the last owner
stays, an invitation works once, before it expires, for its own address)."""

import secrets
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.core import signing
from django.core.mail import send_mail
from django.db import transaction
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.locks import lock, lock_one
from core.refusals import Refused

from .models import Invitation, Membership, TeamEvent
from .roles import Role

INVITATION_DAYS = 7
_SALT = "shops.invitation"
MAX_REFUND_LIMIT = Decimal("1000000")


class TeamRefused(Refused):
    pass


def _event(shop, actor, action, **fields):
    return TeamEvent.objects.create(shop=shop, actor=actor, actor_label=actor.get_username() if actor else "",
                                    action=action, **fields)


def invitation_token(invitation):
    """The signed link's token: which invitation and its nonce, timestamped (shops.team.INVITATION_DAYS)."""
    return signing.dumps({"i": invitation.pk, "n": invitation.nonce}, salt=_SALT, compress=True)


def read_token(token, *, now=None):
    """The open invitation a token names, or TeamRefused saying why it is no good."""
    try:
        data = signing.loads(token, salt=_SALT, max_age=timedelta(days=INVITATION_DAYS))
    except signing.SignatureExpired:
        raise TeamRefused(_("This invitation has expired. Ask the shop's owner for a new one.")) from None
    except (signing.BadSignature, ValueError, TypeError):
        raise TeamRefused(_("This invitation link is not valid. Check that you copied all of it.")) from None
    if not isinstance(data, dict) or not isinstance(data.get("i"), int) or not isinstance(data.get("n"), str):
        raise TeamRefused(_("This invitation link is not valid. Check that you copied all of it."))
    invitation = Invitation.objects.select_related("shop", "invited_by").filter(pk=data["i"]).first()
    if invitation is None or not secrets.compare_digest(invitation.nonce, data["n"]):
        raise TeamRefused(_("This invitation link is not valid. Check that you copied all of it."))
    _check_open(invitation, now)
    return invitation


def _check_open(invitation, now=None):
    if invitation.accepted_at:
        raise TeamRefused(_("This invitation has been used already. Log in to reach the shop."))
    if invitation.revoked_at:
        raise TeamRefused(_("This invitation was withdrawn by the shop's owner."))
    if invitation.expires_at <= (now or timezone.now()):
        raise TeamRefused(_("This invitation has expired. Ask the shop's owner for a new one."))


@transaction.atomic
def invite(*, shop, email, role, actor, accept_url):
    """Invite `email` to `shop` as `role`; `accept_url(token)` is the link the email carries.
    An open invitation to the same address is replaced (revoked) by this one. Returns the
    Invitation and its token."""
    email = (email or "").strip()
    if role not in Role.values:
        raise TeamRefused(_("Choose a role: %(items)s.") % {"items": ', '.join(Role.labels)})
    if Membership.objects.active().filter(shop=shop, user__email__iexact=email).exists():
        raise TeamRefused(_("%(email)s is a member of %(name)s already; change their role instead.") % {"email": email, "name": shop.name})
    now = timezone.now()
    older = list(lock(Invitation.objects.annotate(address=Lower("email")).filter(
        shop=shop, address=email.lower(), accepted_at__isnull=True, revoked_at__isnull=True)))
    for old in older:
        old.revoked_at, old.revoked_by = now, actor
        old.save(update_fields=["revoked_at", "revoked_by"])
    invitation = Invitation.objects.create(shop=shop, email=email, role=role, nonce=secrets.token_urlsafe(24),
                                           invited_by=actor, created_at=now,
                                           expires_at=now + timedelta(days=INVITATION_DAYS))
    _event(shop, actor, TeamEvent.Action.INVITED, email=email, to_value=role,
           note="replaces an earlier invitation" if older else "")
    token = invitation_token(invitation)
    link = accept_url(token)
    body = (_("%(who)s invites you to %(shop)s on Seller Center as %(role)s.") % {
                "who": actor.get_username(), "shop": shop.name, "role": Role(role).label}
            + "\n\n" + ngettext("Accept within %(days)s day (the link works once):",
                                "Accept within %(days)s days (the link works once):", INVITATION_DAYS) % {
                "days": INVITATION_DAYS}
            + f"\n{link}\n\n" + _("If you did not expect this, ignore this email."))
    transaction.on_commit(lambda: send_mail(_("Join %(name)s on Seller Center") % {"name": shop.name}, body, None, [email],
                                            fail_silently=True))
    return invitation, token


@transaction.atomic
def revoke_invitation(*, invitation, actor):
    invitation = lock_one(Invitation.objects, invitation.pk)
    if invitation.accepted_at or invitation.revoked_at:
        raise TeamRefused(_("The invitation of %(email)s is %(state)s already.") % {"email": invitation.email, "state": invitation.state})
    invitation.revoked_at, invitation.revoked_by = timezone.now(), actor
    invitation.save(update_fields=["revoked_at", "revoked_by"])
    _event(invitation.shop, actor, TeamEvent.Action.INVITATION_REVOKED, email=invitation.email,
           from_value=invitation.role)
    return invitation


@transaction.atomic
def accept(*, invitation, user):
    """`user` joins the shop with the invitation's role (a removed member's row comes back).
    The signed-in user's email must be the invited address."""
    invitation = lock_one(Invitation.objects.select_related("shop"), invitation.pk)
    _check_open(invitation)
    if (user.email or "").strip().lower() != invitation.email.strip().lower():
        raise TeamRefused(_("This invitation is for %(email)s; you are logged in as %(username)s (%(value)s). Log out and use that address.") % {"email": invitation.email, "username": user.get_username(), "value": user.email or _("no email")})
    now = timezone.now()
    membership = Membership.objects.filter(shop=invitation.shop, user=user).select_for_update().first()
    if membership is not None and membership.active:
        raise TeamRefused(_("You are a member of %(name)s already.") % {"name": invitation.shop.name})
    if membership is None:
        membership = Membership.objects.create(shop=invitation.shop, user=user, role=invitation.role, joined_at=now)
    else:
        membership.role, membership.removed_at, membership.joined_at = invitation.role, None, now
        membership.save(update_fields=["role", "removed_at", "joined_at"])
    invitation.accepted_at, invitation.accepted_by = now, user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    _event(invitation.shop, user, TeamEvent.Action.JOINED, member=user, email=invitation.email,
           to_value=invitation.role)
    return membership


def _lock_owners(shop):
    """The shop's active owners, locked: two owners demoting each other at once cannot leave none."""
    return list(lock(Membership.objects.active().filter(shop=shop, role=Role.OWNER)))


@transaction.atomic
def change_role(*, membership, role, actor):
    if role not in Role.values:
        raise TeamRefused(_("Choose a role: %(items)s.") % {"items": ', '.join(Role.labels)})
    owners = _lock_owners(membership.shop)
    membership = lock_one(Membership.objects.select_related("user", "shop"), membership.pk)
    if not membership.active:
        raise TeamRefused(_("%(username)s is no longer a member.") % {"username": membership.user.get_username()})
    if membership.role == role:
        raise TeamRefused(_("%(username)s is %(label)s already.") % {"username": membership.user.get_username(), "label": Role(role).label})
    if membership.role == Role.OWNER and len(owners) <= 1:
        raise TeamRefused(_("The shop needs an owner: make another member Owner first."))
    old = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    _event(membership.shop, actor, TeamEvent.Action.ROLE_CHANGED, member=membership.user, from_value=old,
           to_value=role)
    return membership


@transaction.atomic
def remove_member(*, membership, actor):
    """Mark the member removed: their history stays, and every request they make to this shop
    from now on is refused (shops.access checks the membership on each request)."""
    owners = _lock_owners(membership.shop)
    membership = lock_one(Membership.objects.select_related("user", "shop"), membership.pk)
    if not membership.active:
        raise TeamRefused(_("%(username)s is no longer a member.") % {"username": membership.user.get_username()})
    if membership.role == Role.OWNER and len(owners) <= 1:
        raise TeamRefused(_("The shop needs an owner: the last owner cannot be removed."))
    membership.removed_at = timezone.now()
    membership.save(update_fields=["removed_at"])
    _event(membership.shop, actor, TeamEvent.Action.REMOVED, member=membership.user, from_value=membership.role)
    return membership


@transaction.atomic
def set_refund_limit(*, shop, amount, actor):
    try:
        amount = Decimal(str(amount)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise TeamRefused(_("Enter the limit as an amount, e.g. 50.00.")) from None
    if not amount.is_finite() or amount < 0 or amount > MAX_REFUND_LIMIT:
        raise TeamRefused(_("The limit is an amount from 0 to %(max_refund_limit)s.") % {"max_refund_limit": MAX_REFUND_LIMIT})
    shop = lock_one(type(shop).objects, shop.pk)
    old = shop.refund_limit
    if old == amount:
        return shop
    shop.refund_limit = amount
    shop.save(update_fields=["refund_limit"])
    _event(shop, actor, TeamEvent.Action.REFUND_LIMIT, from_value=str(old), to_value=str(amount))
    return shop
