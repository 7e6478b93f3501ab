"""Refunds: one on a request (what was asked, or less with a reason), and a whole order's,
once, set-based for the rules."""

from decimal import Decimal

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import transaction
from django.db.models import Count, DecimalField, Exists, F, OuterRef, Subquery, Sum, TextField, Value
from django.db.models.functions import Coalesce, Concat
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core import money, sql
from core.locks import lock_one
from core.sql import InIds, MoneyText
from orders import history as order_history
from orders.actions import ActionRefused
from orders.models import Order, OrderEvent, OrderMessage

from .. import links, transitions
from ..models import BuyerRequest, Refund
from .moves import _move
from .notices import _money, _order_history, _tell_buyer, _tell_seller, _who

CENT = Decimal("0.01")


def _remaining(order):
    refunded = Refund.objects.filter(order=order).aggregate(s=Sum("amount"))["s"] or Decimal("0")
    return order.total - refunded


def _clean_amount(request, order, amount, note):
    """The amount of a request's refund: what was asked (capped by what is left), or less
    with a reason."""
    full = min(request.amount, _remaining(order))
    if amount in (None, ""):
        return full
    # The currency's own minor units (core.money): 0.5 VND or 12.345 USD is refused, not rounded.
    problem = money.precision_error(str(amount), order.currency)
    if problem:
        raise ActionRefused(problem)
    amount = Decimal(str(amount)).quantize(CENT)
    if amount <= 0:
        raise ActionRefused("A refund must be more than zero.")
    if amount > full:
        raise ActionRefused(f"At most {_money(full, order)} can be refunded on request {request.number}.")
    if amount < full and not (note or "").strip():
        raise ActionRefused("Say why the refund is partial.")
    return amount


def _issue_refund(order, *, amount, actor, request=None, note="", data=None, kind=Refund.Kind.REQUEST,
                  partial=False, at=None):
    """Write one refund on a locked order; the running total is read under the same lock."""
    if order.paid_at is None:
        raise ActionRefused(f"Order {order.number} was never paid; there is nothing to refund.")
    agg = Refund.objects.filter(order=order).aggregate(s=Sum("amount"), n=Count("pk"))
    before = agg["s"] or Decimal("0")
    seq = agg["n"] + 1
    if amount > order.total - before:
        raise ActionRefused(f"Order {order.number}: at most {_money(order.total - before, order)} is left to refund.")
    return Refund.objects.create(
        order=order, request=request, kind=kind, partial=partial, amount=amount, currency=order.currency, seq=seq,
        refunded_before=before, order_total=order.total, actor_kind=actor.kind, actor=actor.user,
        actor_label=actor.label, note=note[:500], data=data or {}, created_at=at or timezone.now(),
    )


@transaction.atomic
def refund_request(*, request, actor, amount=None, note="", data=None):
    """The seller refunds a received return: the amount asked for, or a partial amount with a
    reason. Staff may refund a return the seller never confirmed; the platform's rule (P14)
    refunds in full a return the seller left unrefunded."""
    staff = actor.kind == OrderEvent.ActorKind.STAFF
    platform = staff or actor.kind == OrderEvent.ActorKind.POLICY
    request = lock_one(BuyerRequest.objects, request.pk)
    order = lock_one(Order.objects, request.order_id)
    action = "refund"
    if actor.kind == OrderEvent.ActorKind.POLICY:
        action = "auto_refund"
    elif staff and not transitions.allowed("refund", request):
        action = "staff_refund"
    transitions.check(action, request, staff=platform)
    if Refund.objects.filter(request=request).exists():
        raise ActionRefused(f"Request {request.number} was already refunded.")
    amount = _clean_amount(request, order, amount, note)
    now = timezone.now()
    partial = amount < request.amount
    _issue_refund(order, amount=amount, actor=actor, request=request, note=note, partial=partial, at=now, data=data)
    _move(request, action, actor, note=note, at=now, staff=platform, closed_at=now,
          data={"amount": str(amount), "partial": partial, **(data or {})})
    who = _who(actor)
    _order_history(order, actor, f"Refunded {_money(amount, order)} for return {request.number} by {who}"
                   + (" (partial)" if partial else "") + "." + (f" {note}" if note else ""), action="refund")
    _tell_buyer(order, lambda: f"Return {request.number} refunded: {_money(amount, order)}"
                + (f" (partial: {note})" if partial else "") + ".", f"Return {request.number} refunded", at=now)
    if platform:
        _tell_seller(request, f"Order {order.number}: {who} refunded return {request.number} ({_money(amount, order)})."
                     + (f" {note}" if note and not staff else ""))
    return request


@transaction.atomic
def refund_order(*, order, actor, note="", explain=None):
    """Refund what is left of a paid order, once (a cancellation, or staff's full refund).

    Idempotent: a second call returns the first refund and changes nothing, so platform
    rules may call it on every run. Returns None if the order was never paid or nothing
    is left to refund."""
    order = lock_one(Order.objects, order.pk)
    existing = Refund.objects.filter(order=order, kind=Refund.Kind.ORDER).first()
    if existing is not None:
        return existing
    if not refund_orders(order_ids=[order.pk], actor=actor, note=note, explain=explain):
        return None
    return Refund.objects.get(order=order, kind=Refund.Kind.ORDER)


def _refundable(order_ids, explain_time=None):
    """The paid orders of `order_ids` with no whole-order refund yet, each with its refunds so
    far (r_before, r_count), what is left (r_left) and, if asked, its `explain_time` field
    (r_time): the rows refund_orders' INSERT reads, as an Order queryset."""
    earlier = Refund.objects.filter(order=OuterRef("pk")).order_by().values("order")
    before = Coalesce(Subquery(earlier.annotate(s=Sum("amount")).values("s")), Value(Decimal("0")),
                      output_field=DecimalField(max_digits=14, decimal_places=2))
    count = Coalesce(Subquery(earlier.annotate(n=Count("pk")).values("n")), Value(0))
    columns = {"r_order": F("pk"), "r_total": F("total"), "r_currency": F("currency"), "r_before": before,
               "r_count": count}
    if explain_time:
        columns["r_time"] = F(explain_time)
    return (Order.objects.filter(InIds(F("pk"), order_ids), paid_at__isnull=False)
            .exclude(Exists(Refund.objects.filter(order=OuterRef("pk"), kind=Refund.Kind.ORDER)))
            .annotate(**columns).annotate(r_left=F("r_total") - F("r_before"))
            .order_by().values(*columns, "r_left"))


@transaction.atomic
def refund_orders(*, order_ids, actor, note="", explain=None, explain_time=None):
    """refund_order for many orders the caller has locked, in a fixed number of statements:
    the database writes each refund (what is left of the order), its history row and the
    buyer's message from the order itself. Unpaid, fully refunded and already refunded
    orders are skipped, and the unique "whole order once" constraint refuses a second
    refund even if two callers raced. `explain` (and the order's timestamp field
    `explain_time`) go into each refund's data. Returns how many were refunded now."""
    if not order_ids:
        return 0
    at = timezone.now()
    source, source_params = _refundable(order_ids, explain_time).query.sql_with_params()
    data_sql, data_params = (sql.json_with_time(explain or {}, explain_time, "o.r_time") if explain_time
                             else sql.json_constant(explain or {}))
    refunded = [row[0] for row in sql.fetch(
        f"INSERT INTO {Refund._meta.db_table} (order_id, request_id, kind, partial, amount, currency, seq, "
        f"refunded_before, order_total, actor_kind, actor_id, actor_label, note, data, created_at) "
        f"SELECT o.r_order, NULL, %s, %s, o.r_left, o.r_currency, o.r_count + 1, o.r_before, o.r_total, "
        f"%s, %s, %s, %s, {data_sql}, %s FROM ({source}) o WHERE o.r_left > 0 "
        f"ON CONFLICT DO NOTHING RETURNING order_id",
        [Refund.Kind.ORDER.value, False, actor.kind, getattr(actor.user, "pk", None), actor.label, note[:500],
         *data_params, sql.when(at), *source_params],
    )]
    if not refunded:
        return 0
    Refund.write_feed(Refund.objects.filter(order_id__in=refunded, kind=Refund.Kind.ORDER))
    # The order's history and the buyer's message read each refund's amount from its row.
    refund = Refund.objects.filter(order=OuterRef("pk"), kind=Refund.Kind.ORDER)

    def refund_text(*parts):
        return Subquery(refund.values(t=Concat(*parts, output_field=TextField()))[:1])

    amount = (MoneyText("amount", "currency"), Value(" "), F("currency"))
    note = refund_text(Value("Refunded "), *amount, Value(" to the buyer." + (f" {note}" if note else "")))
    body = Concat(Value("Order "), F("number"), Value(" was refunded: "), refund_text(*amount, Value(".")),
                  output_field=TextField())
    order_history.bulk_record(refunded, "refund", actor, at=at, note=note)
    order_history.bulk_post_messages(refunded, OrderMessage.Sender.PLATFORM, body, at=at)
    refunds = list(Refund.objects.filter(order_id__in=refunded, kind=Refund.Kind.ORDER).exclude(
        order__buyer_email="").order_by().values_list("order_id", "order__number", "order__buyer_email", "amount",
                                                      "currency", "order__language", "order__shop__time_zone"))
    urls = links.urls_for((pk, number) for pk, number, *_ in refunds)
    emails = []
    for pk, number, email, amount, currency, language, time_zone in refunds:
        # Each buyer's email in their own language (orders.language), the amount in its currency's format.
        with translation.override(language or settings.LANGUAGE_CODE), timezone.override(time_zone):
            emails.append((
                f"Order {number} refunded",
                f"Order {number} was refunded: {money.format_money(amount, currency)}.\n\n"
                + _("Follow your order and requests here: %(url)s") % {"url": urls[pk]} + "\n",
                None, [email]))
    if emails:
        transaction.on_commit(lambda: send_mass_mail(emails, fail_silently=True))
    return len(refunded)
