"""Messages on the order between the seller and the buyer (both rate limited per order), and
the buyer's link to the return page on delivery."""

from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from core.locks import lock, lock_one
from orders import actions as order_actions
from orders.actions import ActionRefused
from orders.language import buyer_language
from orders.models import Order, OrderEvent, OrderMessage
from shops.actions import notify
from shops.models import Notification

from .. import links
from ..models import ReturnLinkEmail
from .notices import _email_buyer


class TooManyMessages(ActionRefused):
    """Each message emails the other side (and a buyer's rings the seller's bell): a burst about
    one order is refused, the buyer's (a public page: anyone who knows the order's number and
    contact) and the seller's (an API key could otherwise email a buyer hundreds of times a minute)."""

    http_status = 429
    code = "too_many_messages"


# Messages about one order in the last hour, per side, before the next is refused.
MESSAGES_PER_HOUR = {OrderMessage.Sender.BUYER: ("RETURNS_BUYER_MESSAGES_PER_HOUR", 10),
                     OrderMessage.Sender.SELLER: ("RETURNS_SELLER_MESSAGES_PER_HOUR", 30)}


def _check_message_rate(order, sender):
    setting, default = MESSAGES_PER_HOUR[sender]
    limit = getattr(settings, setting, default)  # settings.py reads both from the environment
    since = timezone.now() - timedelta(hours=1)
    # Locks the order row (the caller's transaction) so two messages at once count each other.
    lock(Order.objects.filter(pk=order.pk)).exists()
    sent = OrderMessage.objects.filter(order=order, sender=sender, created_at__gte=since).count()
    if sent >= limit:
        who = "You have" if sender == OrderMessage.Sender.BUYER else "The shop has"
        raise TooManyMessages(f"{who} sent {sent} messages about this order in the last hour; "
                              "wait a while before sending another.")


@transaction.atomic
def post_message(*, order, sender, body, author=None, actor=None):
    """A seller or buyer message on the order; the other side is told. `actor`, for a seller
    message no person wrote (the shop's app through an API key), is written to the order's
    history with the message's id, since the message row keeps only a user as its author."""
    body = (body or "").strip()
    if not body:
        raise ActionRefused("Write the message first.")
    if len(body) > 4000:
        raise ActionRefused("A message is at most 4000 characters.")
    if sender not in (OrderMessage.Sender.SELLER, OrderMessage.Sender.BUYER):
        raise ActionRefused("Only the seller or the buyer writes messages.")
    _check_message_rate(order, sender)
    message = order_actions.post_message(order=order, sender=sender, author=author, body=body)
    if actor is not None:
        order_actions.record_event(order=order, actor=actor, action=OrderEvent.Action.MESSAGE,
                                   data={"message": message.pk}, at=message.created_at)
    if sender == OrderMessage.Sender.BUYER:
        notify(shop=order.shop, kind=Notification.Kind.MESSAGE, text=f"Order {order.number}: the buyer wrote: {body[:200]}",
               about_order=order.pk,
               url=reverse("orders:detail", kwargs={"shop": order.shop.slug, "number": order.number}),
               email_subject=f"Message from the buyer of order {order.number}")
    else:
        _email_buyer(order, f"A message from the seller about order {order.number}", body)
    return message


@transaction.atomic
def send_return_link(*, order_id):
    """Email the buyer a signed link to the return page, once per order (on delivery)."""
    order = lock_one(Order.objects, order_id)
    _, created = ReturnLinkEmail.objects.get_or_create(order=order, defaults={"sent_at": timezone.now()})
    if created and order.buyer_email:
        url = links.url_for(order)
        to = order.buyer_email
        with buyer_language(order):  # the language the buyer shopped in
            subject = f"Order {order.number} delivered"
            body = (f"Your order {order.number} was delivered. If something is wrong, ask for a refund or a return "
                    f"here:\n{url}\n")
        transaction.on_commit(lambda: send_mail(subject, body, None, [to], fail_silently=True))
    return created
