from django.core.mail import send_mass_mail
from django.db import transaction
from django.utils import timezone

from .models import Notification


def notify(*, shop, kind, text, url="", user=None, email_subject=None, about_order=None, at=None):
    """Ring the shop's bell; with email_subject, also email the shop after commit.
    `about_order` (an order id) lets the bell settle it once the order has moved on;
    `at` is when (default now)."""
    note = Notification.objects.create(shop=shop, user=user, kind=kind, text=text[:300], url=url,
                                       about_order=about_order, created_at=at or timezone.now())
    if email_subject and shop.email:
        transaction.on_commit(lambda: send_mass_mail([(email_subject, text, None, [shop.email])], fail_silently=True))
    return note


def notify_many(notes, emails=()):
    """Set-based notify: bulk-create Notification rows, send (subject, body, to) emails after commit."""
    Notification.objects.bulk_create(notes)
    emails = [(subject, body, None, [to]) for subject, body, to in emails if to]
    if emails:
        transaction.on_commit(lambda: send_mass_mail(emails, fail_silently=True))


def settle_new_orders(order_ids, *, at=None):
    """The orders no longer await confirmation (confirmed or cancelled): their "new order"
    notifications have nothing left to ask, so they no longer count in the bell. One UPDATE."""
    return Notification.objects.filter(about_order__in=list(order_ids), kind=Notification.Kind.NEW_ORDER,
                                       read_at__isnull=True).update(read_at=at or timezone.now())


def open_notification(*, shop, user, pk):
    """The seller opens one notification: it is read from now on. Returns it (None if it is
    not one of theirs)."""
    note = Notification.objects.for_user(user, shop).filter(pk=pk).first()
    if note is not None and note.read_at is None:
        note.read_at = timezone.now()
        note.save(update_fields=["read_at"])
    return note


def mark_read(*, shop, user, ids=None):
    qs = Notification.objects.for_user(user, shop).unread()
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=timezone.now())


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
    """One bell notification (and email) per shop for a batch of automated actions.
    `tallies` maps shop id -> (how many, the earliest deadline that fired) (see tally());
    `message` may use {n} and {first}."""
    from .models import Shop

    if not tallies:
        return
    shops = Shop.objects.in_bulk(list(tallies))
    notes, emails = [], []
    for shop_id, (n, first) in tallies.items():
        text = message.format(n=n, first=first.strftime("%Y-%m-%d %H:%M UTC") if first else "—")
        notes.append(Notification(shop_id=shop_id, kind=kind, text=text[:300]))
        if email:
            emails.append(("Seller Center: action needed", text, shops[shop_id].email))
    notify_many(notes, emails)
