from django.core.mail import send_mass_mail
from django.db import transaction
from django.utils import timezone

from . import roles
from .models import Membership, Notification, NotificationRead


def _recipients(shop_ids, kind, user=None):
    """(shop id, email) of the members who hear about `kind` (their role handles it) and want it
    by email, one query for any number of shops; `user`: only that member."""
    members = Membership.objects.active().filter(shop_id__in=list(shop_ids), email_notifications=True)
    members = members.filter(user=user) if user is not None else members.filter(role__in=roles.roles_hearing(kind))
    return [(shop_id, email) for shop_id, email in members.exclude(user__email="").values_list("shop_id", "user__email")]


def notify(*, shop, kind, text, url="", user=None, email_subject=None, about_order=None, at=None):
    """Ring the bell of the members whose role handles `kind` (one row for the shop; each
    member reads it on their own), or of `user` alone; with email_subject, also email those of
    them who want email, after commit. `about_order` (an order id) lets the bell settle it once
    the order has moved on; `at` is when (default now)."""
    note = Notification.objects.create(shop=shop, user=user, kind=kind, text=text[:300], url=url,
                                       about_order=about_order, created_at=at or timezone.now())
    if email_subject:
        emails = [(email_subject, text, None, [to]) for _, to in _recipients([shop.pk], kind, user)]
        if emails:
            transaction.on_commit(lambda: send_mass_mail(emails, fail_silently=True))
    return note


def notify_many(notes, emails=()):
    """Set-based notify: bulk-create Notification rows, send (subject, body, to) emails after commit."""
    Notification.objects.bulk_create(notes)
    emails = [(subject, body, None, [to]) for subject, body, to in emails if to]
    if emails:
        transaction.on_commit(lambda: send_mass_mail(emails, fail_silently=True))


def settle_new_orders(order_ids, *, at=None):
    """The orders no longer await confirmation (confirmed or cancelled): their "new order"
    notifications have nothing left to ask, so they no longer count in anyone's bell. One UPDATE."""
    return Notification.objects.filter(about_order__in=list(order_ids), kind=Notification.Kind.NEW_ORDER,
                                       read_at__isnull=True).update(read_at=at or timezone.now())


def open_notification(*, membership, pk):
    """The member opens one notification: it is read, for them, from now on. Returns it (None if
    it is not one they hear)."""
    note = Notification.objects.for_member(membership).filter(pk=pk).first()
    if note is not None:
        NotificationRead.objects.get_or_create(notification=note, user_id=membership.user_id)
    return note


def mark_read(*, membership, ids=None):
    """Mark the member's unread notifications (all, or those of `ids`) read for them: two
    queries whatever the number."""
    qs = Notification.objects.for_member(membership).unread_by(membership.user_id)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    now = timezone.now()
    reads = [NotificationRead(notification_id=pk, user_id=membership.user_id, read_at=now)
             for pk in qs.values_list("pk", flat=True)]
    NotificationRead.objects.bulk_create(reads, ignore_conflicts=True)
    return len(reads)


@transaction.atomic
def set_email_notifications(*, membership, on):
    Membership.objects.filter(pk=membership.pk).update(email_notifications=bool(on))
    membership.email_notifications = bool(on)
    return membership


def tally(rows, into=None):
    """{shop_id: (how many, earliest deadline)} from (shop_id, deadline) pairs, added to
    `into` if given (a rule's run adds up its batches)."""
    into = {} if into is None else into
    for shop_id, deadline in rows:
        add_to_tally(into, shop_id, 1, deadline)
    return into


def add_to_tally(into, shop_id, n, first):
    count, earliest = into.get(shop_id, (0, None))
    into[shop_id] = (count + n, min((d for d in (earliest, first) if d), default=None))


def notify_shops(tallies, *, kind, message, email=True):
    """One bell notification per shop for a batch of automated actions, and an email to each
    member of those shops whose role handles `kind` and who wants email (one query for all).
    `tallies` maps shop id -> (how many, the earliest deadline that fired) (see tally());
    `message` may use {n} and {first}."""
    if not tallies:
        return
    notes, texts = [], {}
    for shop_id, (n, first) in tallies.items():
        texts[shop_id] = message.format(n=n, first=first.strftime("%Y-%m-%d %H:%M UTC") if first else "—")[:300]
        notes.append(Notification(shop_id=shop_id, kind=kind, text=texts[shop_id]))
    emails = [("Seller Center: action needed", texts[shop_id], to)
              for shop_id, to in _recipients(tallies, kind)] if email else ()
    notify_many(notes, emails)
