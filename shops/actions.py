from django.core.mail import send_mass_mail
from django.db import transaction
from django.utils import timezone

from .models import Notification


def notify(*, shop, kind, text, url="", user=None, email_subject=None):
    """Ring the shop's bell; with email_subject, also email the shop after commit."""
    note = Notification.objects.create(shop=shop, user=user, kind=kind, text=text[:300], url=url)
    if email_subject and shop.email:
        transaction.on_commit(lambda: send_mass_mail([(email_subject, text, None, [shop.email])], fail_silently=True))
    return note


def notify_many(notes, emails=()):
    """Set-based notify: bulk-create Notification rows, send (subject, body, to) emails after commit."""
    Notification.objects.bulk_create(notes)
    emails = [(subject, body, None, [to]) for subject, body, to in emails if to]
    if emails:
        transaction.on_commit(lambda: send_mass_mail(emails, fail_silently=True))


def mark_read(*, shop, user, ids=None):
    qs = Notification.objects.for_user(user, shop).unread()
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=timezone.now())


def notify_shops(deadlines_by_shop, *, kind, message, email=True):
    """One bell notification (and email) per shop for a batch of automated actions.
    `deadlines_by_shop` maps shop id -> the deadlines that fired; `message` may use {n}
    (how many) and {first} (the earliest deadline)."""
    from .models import Shop

    if not deadlines_by_shop:
        return
    shops = Shop.objects.in_bulk(list(deadlines_by_shop))
    notes, emails = [], []
    for shop_id, deadlines in deadlines_by_shop.items():
        firsts = [d for d in deadlines if d]
        text = message.format(n=len(deadlines), first=min(firsts).strftime("%Y-%m-%d %H:%M UTC") if firsts else "—")
        notes.append(Notification(shop_id=shop_id, kind=kind, text=text[:300]))
        if email:
            emails.append(("Seller Center: action needed", text, shops[shop_id].email))
    notify_many(notes, emails)
