"""Settings → Team: the owner invites by email (a signed link that expires and works once), changes
roles, removes members (their history stays), revokes invitations; the last owner stays; every
change is in the audit trail, on the page and in admin."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from core.actor import Actor
from orders import actions as order_actions
from orders.models import OrderEvent
from orders.tests.factories import make_order
from shops import roles, team
from shops.models import Invitation, Membership, TeamEvent
from shops.tests.factories import MembershipFactory, UserFactory
from tests.pages import assert_fragment, assert_redirect, fetch_both, hx

pytestmark = pytest.mark.django_db
R = roles.Role


@pytest.fixture
def owner(seller):
    return seller


@pytest.fixture
def invite(seller_client, shop, django_capture_on_commit_callbacks):
    """invite(email, role, **post kwargs): the owner's POST, with its email sent (on commit)."""

    def _invite(email, role, **kw):
        with django_capture_on_commit_callbacks(execute=True):
            return seller_client.post(url(shop), {"email": email, "role": role}, **kw)

    return _invite


def url(shop, name="page", **kw):
    return reverse(f"team:{name}", kwargs={"shop": shop.slug, **kw})


def _link(message):
    return re.search(r"http://testserver(/invite/[^/\s]+/)", message.body).group(1)


def _count(client, path, **kw):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert client.get(path, **kw).status_code == 200
    return len(queries)


def test_team_page_full_and_partial_with_fixed_queries(seller_client, shop, invite):
    for _ in range(3):
        MembershipFactory(shop=shop, role=R.FULFILMENT)
    invite("new@example.com", R.VIEWER)
    few = _count(seller_client, url(shop)), _count(seller_client, url(shop), headers=hx("team-panel"))
    for n in range(10):
        MembershipFactory(shop=shop, role=R.CUSTOMER_SERVICE)
        invite(f"x{n}@example.com", R.VIEWER)
    many = _count(seller_client, url(shop)), _count(seller_client, url(shop), headers=hx("team-panel"))
    assert few == many and many[0] <= 7, (few, many)
    full, partial = fetch_both(seller_client, url(shop), "team-panel")
    for body in (full.content.decode(), partial.content.decode()):
        assert "new@example.com" in body and "Invited new@example.com as Viewer" in body


def test_invite_a_new_person_who_sets_a_password_and_joins(seller_client, shop, owner, invite):
    response = invite("Carol@Example.com", R.FULFILMENT,
                                  headers=hx("team-panel"))
    assert "Invitation sent to Carol@Example.com as Fulfilment" in assert_fragment(response, "team-panel")
    (message,) = mail.outbox
    assert message.to == ["Carol@Example.com"] and shop.name in message.subject
    link = _link(message)
    visitor = Client()
    page = visitor.get(link)
    assert page.status_code == 200 and "Create my account and join" in page.content.decode()
    weak = visitor.post(link, {"username": "carol", "password1": "123", "password2": "123"})
    assert weak.status_code == 400 and not Membership.objects.filter(user__username="carol").exists()
    response = visitor.post(link, {"username": "carol", "password1": "long enough pass 9", "password2": "long enough pass 9"})
    assert_redirect(response, to=reverse("orders:list", kwargs={"shop": shop.slug}))
    carol = get_user_model().objects.get(username="carol")
    assert carol.email == "Carol@example.com" and carol.check_password("long enough pass 9")
    assert Membership.objects.get(shop=shop, user=carol).role == R.FULFILMENT
    assert visitor.get(reverse("orders:list", kwargs={"shop": shop.slug})).status_code == 200  # logged in
    # The link works once.
    again = Client().get(link)
    assert again.status_code == 400 and "used already" in again.content.decode()
    assert list(TeamEvent.objects.filter(shop=shop).values_list("action", flat=True)) == ["joined", "invited"]


def test_an_existing_account_logs_in_first_and_must_be_the_invited_address(seller_client, shop, invite):
    dave = UserFactory(username="dave", email="dave@example.com")
    invite("DAVE@example.com", R.CUSTOMER_SERVICE)
    link = _link(mail.outbox[-1])
    anonymous = Client().get(link).content.decode()
    assert "Log in to accept" in anonymous and "Create my account" not in anonymous
    stranger = Client()
    stranger.force_login(UserFactory(username="eve", email="eve@example.com"))
    refused = stranger.post(link)
    assert refused.status_code == 409 and "This invitation is for DAVE@example.com" in refused.content.decode()
    assert not Membership.objects.filter(shop=shop, user__username="eve").exists()
    client = Client()
    client.force_login(dave)
    assert_redirect(client.post(link), to=reverse("orders:list", kwargs={"shop": shop.slug}))
    assert Membership.objects.get(shop=shop, user=dave).role == R.CUSTOMER_SERVICE


@pytest.mark.parametrize("token", ["nonsense", "a" * 300, "x:y:z", "", "%00"])
def test_a_bad_link_is_a_clear_400(client, token):
    response = client.get(f"/invite/{token}/") if token else client.get("/invite/x/")
    assert response.status_code == 400 and "not valid" in response.content.decode()


def test_an_expired_or_revoked_invitation_no_longer_works(seller_client, shop, owner, invite):
    invite("late@example.com", R.VIEWER)
    invitation = Invitation.objects.get()
    link = _link(mail.outbox[-1])
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert "expired" in Client().get(link).content.decode()
    # A new invitation replaces the old one; revoking it kills its link.
    invite("late@example.com", R.VIEWER)
    assert Invitation.objects.filter(revoked_at__isnull=True, accepted_at__isnull=True).count() == 1
    newer = Invitation.objects.filter(revoked_at__isnull=True).get()
    link = _link(mail.outbox[-1])
    response = seller_client.post(url(shop, "revoke", pk=newer.pk), headers=hx("team-panel"))
    assert "revoked" in assert_fragment(response, "team-panel")
    page = Client().get(link)
    assert page.status_code == 400 and "withdrawn" in page.content.decode()
    assert seller_client.post(url(shop, "revoke", pk=newer.pk), headers=hx("team-panel")).status_code == 409


def test_signature_expiry_is_checked_too(shop, owner, invite):
    invitation, token = team.invite(shop=shop, email="a@example.com", role=R.VIEWER, actor=owner,
                                    accept_url=lambda t: t)
    later = timezone.now() + timedelta(days=team.INVITATION_DAYS, minutes=1)
    from unittest import mock

    with mock.patch("django.core.signing.time.time", return_value=later.timestamp()):
        with pytest.raises(team.TeamRefused, match="expired"):
            team.read_token(token)
    assert team.read_token(token) == invitation


def test_change_role_and_the_last_owner_stays(seller_client, shop, owner):
    me = Membership.objects.get(shop=shop, user=owner)
    response = seller_client.post(url(shop, "role", pk=me.pk), {"role": R.MANAGER}, headers=hx("team-panel"))
    assert "The shop needs an owner" in assert_fragment(response, "team-panel", status=409)
    assert seller_client.post(url(shop, "remove", pk=me.pk)).status_code == 302
    me.refresh_from_db()
    assert me.role == R.OWNER and me.active
    other = MembershipFactory(shop=shop, role=R.VIEWER)
    bad = seller_client.post(url(shop, "role", pk=other.pk), {"role": "boss"}, headers=hx("team-panel"))
    assert "Select a valid choice" in assert_fragment(bad, "team-panel", status=400)
    response = seller_client.post(url(shop, "role", pk=other.pk), {"role": R.OWNER}, headers=hx("team-panel"))
    assert "is now Owner" in assert_fragment(response, "team-panel")
    # With two owners, one may step down.
    assert "is now Manager" in assert_fragment(
        seller_client.post(url(shop, "role", pk=me.pk), {"role": R.MANAGER}, headers=hx("team-panel")), "team-panel")
    trail = [e.words for e in TeamEvent.objects.filter(shop=shop).order_by("at", "id")]
    assert trail == [f"Changed {other.user.username} from Viewer to Owner", f"Changed {owner.username} from Owner to Manager"]
    # A manager now: the team page is no longer theirs.
    assert seller_client.post(url(shop, "role", pk=other.pk), {"role": R.VIEWER}).status_code == 403
    other.refresh_from_db()
    assert other.role == R.OWNER


def test_remove_keeps_the_history_and_refuses_the_member_at_once(seller_client, shop, owner, invite):
    packer = MembershipFactory(shop=shop, role=R.FULFILMENT)
    packer_client = Client()
    packer_client.force_login(packer.user)
    order = make_order(shop)
    order_actions.confirm_order(order=order, actor=Actor.seller(packer.user))
    response = seller_client.post(url(shop, "remove", pk=packer.pk), headers=hx("team-panel"))
    assert "was removed" in assert_fragment(response, "team-panel")
    packer.refresh_from_db()
    assert packer.removed_at is not None
    assert OrderEvent.objects.filter(order=order, actor=packer.user).exists()  # history stays
    detail = reverse("orders:detail", kwargs={"shop": shop.slug, "number": order.number})
    # Their next request ends the session: logged out, at the login page.
    assert_redirect(packer_client.get(detail), to=reverse("login"))
    assert "_auth_user_id" not in packer_client.session
    assert packer_client.get(reverse("home")).status_code == 302  # to the login page, not a shop
    assert Membership.objects.filter(pk=packer.pk).exists()
    assert TeamEvent.objects.filter(shop=shop, action="removed", member=packer.user).exists()
    # Invited again, the same row comes back with the new role.
    invite(packer.user.email, R.VIEWER)
    packer_client.force_login(packer.user)
    packer_client.post(_link(mail.outbox[-1]))
    packer.refresh_from_db()
    assert packer.active and packer.role == R.VIEWER


def test_a_member_removed_from_one_shop_keeps_their_other_shop(seller_client, shop):
    member = MembershipFactory(shop=shop, role=R.MANAGER)
    elsewhere = MembershipFactory(user=member.user, role=R.OWNER)
    client = Client()
    client.force_login(member.user)
    seller_client.post(url(shop, "remove", pk=member.pk))
    response = client.get(reverse("orders:list", kwargs={"shop": shop.slug}))
    assert_redirect(response, to=reverse("orders:list", kwargs={"shop": elsewhere.shop.slug}))
    assert client.session.get("_auth_user_id") == str(member.user.pk)
    page = client.get(response["Location"]).content.decode()
    assert f"You are no longer a member of {shop.name}" in page and shop.name not in page.split("</header>")[0]


def test_inviting_a_current_member_is_refused(seller_client, shop, invite):
    member = MembershipFactory(shop=shop, role=R.VIEWER)
    response = invite(member.user.email.upper(), R.MANAGER,
                                  headers=hx("team-panel"))
    assert "is a member of" in assert_fragment(response, "team-panel", status=409)
    assert not Invitation.objects.exists() and mail.outbox == []


@pytest.mark.parametrize("value", ["-1", "abc", "1e9", "NaN", ""])
def test_refund_limit_refuses_what_is_no_amount(seller_client, shop, value):
    response = seller_client.post(url(shop, "refund_limit"), {"refund_limit": value}, headers=hx("team-panel"))
    assert_fragment(response, "team-panel", status=400)
    shop.refresh_from_db()
    assert str(shop.refund_limit) == "0.00" and not TeamEvent.objects.exists()


def test_refund_limit_is_set_and_audited(seller_client, shop):
    response = seller_client.post(url(shop, "refund_limit"), {"refund_limit": "25.50"}, headers=hx("team-panel"))
    assert "up to 25.50" in assert_fragment(response, "team-panel")
    shop.refresh_from_db()
    assert str(shop.refund_limit) == "25.50"
    assert TeamEvent.objects.get().words == "Set the customer-service refund limit from 0.00 to 25.50"


def test_staff_read_the_trail_in_admin_and_cannot_change_it(admin_client, seller_client, shop, invite):
    invite("new@example.com", R.VIEWER)
    event = TeamEvent.objects.get()
    listing = admin_client.get(reverse("admin:shops_teamevent_changelist"))
    assert listing.status_code == 200 and "Invited new@example.com as Viewer" in listing.content.decode()
    assert admin_client.get(reverse("admin:shops_teamevent_change", args=[event.pk])).status_code == 200
    assert admin_client.post(reverse("admin:shops_teamevent_delete", args=[event.pk]), {"post": "yes"}).status_code == 403
    assert TeamEvent.objects.filter(pk=event.pk).exists()
    with pytest.raises(ValueError):
        event.save()
    assert admin_client.get(reverse("admin:shops_invitation_changelist")).status_code == 200


def test_staff_changing_a_role_in_admin_is_audited(admin_client, shop):
    member = MembershipFactory(shop=shop, role=R.VIEWER)
    response = admin_client.post(reverse("admin:shops_membership_change", args=[member.pk]),
                                 {"shop": shop.pk, "user": member.user_id, "role": R.FINANCE})
    assert response.status_code == 302
    event = TeamEvent.objects.get()
    assert (event.action, event.to_value, event.note) == ("role_changed", R.FINANCE, "by platform staff")
