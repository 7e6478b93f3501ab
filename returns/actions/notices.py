"""Telling each side: a row in the order's history, the seller's bell (and email), the
buyer's message on the order (and email), and the words that name who acted."""

from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from core.money import format_money
from core.when import format_when
from orders import actions as order_actions
from orders.language import buyer_language
from orders.models import OrderEvent, OrderMessage
from shops.actions import notify
from shops.models import Notification

from .. import links
from ..models import BuyerRequest


def _order_history(order, actor, text, action="buyer_request"):
    """A row in the order's own history (the order page's timeline)."""
    order_actions.record_event(order=order, actor=actor, action=action, note=text[:2000])


def _seller_url(request):
    return reverse("returns:detail", kwargs={"shop": request.shop.slug, "pk": request.pk})


def _tell_seller(request, text, *, kind=Notification.Kind.REQUEST, subject=None):
    notify(shop=request.shop, kind=kind, text=text, url=_seller_url(request), about_order=request.order_id,
           email_subject=subject or f"Seller Center: request {request.number} on order {request.order.number}")


def _tell_buyer(order, text, subject, *, at=None):
    """A platform message on the order (the buyer reads it on the return page) and an email.
    `text` and `subject` may be callables: they are then composed in the buyer's language and
    the shop's time zone (orders.language.buyer_language), as the buyer reads them."""
    with buyer_language(order):
        text = text() if callable(text) else text
        subject = subject() if callable(subject) else subject
    order_actions.post_message(order=order, sender=OrderMessage.Sender.PLATFORM, body=text, at=at)
    _email_buyer(order, subject, text)


def _email_buyer(order, subject, text):
    """An email to the buyer in their language (callables are composed in it, see _tell_buyer)."""
    if not order.buyer_email:
        return
    with buyer_language(order):
        text = text() if callable(text) else text
        subject = str(subject() if callable(subject) else subject)
        body = "{text}\n\n{follow}\n".format(
            text=text, follow=_("Follow your order and requests here: %(url)s") % {"url": links.url_for(order)})
    to = order.buyer_email
    transaction.on_commit(lambda: send_mail(subject, body, None, [to], fail_silently=True))


def _money(amount, order):
    """An amount of the order's currency as the active language writes it."""
    return format_money(amount, order.currency)


def _shop_time(shop, at):
    """A time for the shop's members: in the shop's time zone, its zone named."""
    return format_when(at, tz=shop.tzinfo)


def _who(actor):
    return {
        OrderEvent.ActorKind.SELLER: "the seller",
        OrderEvent.ActorKind.APP: "the seller",
        OrderEvent.ActorKind.STAFF: "platform staff",
        OrderEvent.ActorKind.BUYER: "the buyer",
        # A rule's id is for staff; the seller and the buyer read "the platform".
        OrderEvent.ActorKind.POLICY: "the platform",
    }.get(actor.kind, actor.label or actor.kind)


def _kind_label(request):
    return BuyerRequest.Kind(request.kind).label.lower()
