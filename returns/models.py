from django.conf import settings
from django.db import models
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Cast, Concat, JSONObject, LPad
from django.utils.translation import gettext_lazy as _

from core.actor import ActorKind
from core.sql import MoneyText
from orders.models import History, Order, OrderLine, actor_words
from shops.models import Shop


class BuyerRequestQuerySet(models.QuerySet):
    def for_shop(self, shop):
        """Every seller read starts here, so another shop's requests are never in reach."""
        return self.filter(shop=shop)

    def open(self):
        from .transitions import OPEN

        return self.filter(status__in=OPEN)

    def awaiting_answer(self):
        from .transitions import AWAITING_ANSWER

        return self.filter(status__in=AWAITING_ANSWER)

    def awaiting_refund(self):
        from .transitions import AWAITING_REFUND

        return self.filter(status__in=AWAITING_REFUND)

    def in_tab(self, tab):
        if not tab or tab == "all":
            return self
        if tab == "open":
            return self.open()
        return self.filter(status=tab)


class BuyerRequest(models.Model):
    """A buyer's cancellation, refund-only or return-and-refund request on one order."""

    class Kind(models.TextChoices):
        CANCEL = "cancel", _("Cancellation")  # before shipment: cancel the whole order
        REFUND_ONLY = "refund_only", _("Refund only")  # after delivery, the buyer keeps the item
        RETURN = "return", _("Return and refund")  # after delivery, the buyer ships the item back

    class Reason(models.TextChoices):
        # After delivery (refund only, return and refund): what is wrong with the item.
        DAMAGED = "damaged", _("Damaged")
        WRONG_ITEM = "wrong_item", _("Wrong item")
        NOT_AS_DESCRIBED = "not_as_described", _("Not as described")
        MISSING_PARTS = "missing_parts", _("Missing parts")
        # Before shipment (cancellation): why the buyer no longer wants the order.
        ORDERED_BY_MISTAKE = "ordered_by_mistake", _("Ordered by mistake")
        CHANGE_ORDER = "change_order", _("Need to change the address or the items")
        BETTER_PRICE = "better_price", _("Found a better price")
        TOO_SLOW = "too_slow", _("Delivery would take too long")
        # Either.
        NO_LONGER_NEEDED = "no_longer_needed", _("No longer needed")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        REQUESTED = "REQUESTED", _("Awaiting the seller's answer")  # the seller (or P11) must answer by respond_by
        APPROVED = "APPROVED", _("Approved, awaiting the return")  # a return: the buyer ships the item back
        RETURN_SHIPPED = "RETURN_SHIPPED", _("Return shipped")  # the buyer entered the return tracking number
        RECEIVED = "RECEIVED", _("Return received")  # the seller confirmed receipt; refund next
        DISPUTED = "DISPUTED", _("Disputed, with platform staff")  # the seller says the return is not what was sent; staff rule
        REFUNDED = "REFUNDED", _("Refunded")  # closed with a refund (a cancellation: order cancelled too)
        REJECTED = "REJECTED", _("Rejected")  # closed: the seller or staff refused, with a reason
        WITHDRAWN = "WITHDRAWN", _("Withdrawn")  # closed: the buyer withdrew it
        LAPSED = "LAPSED", _("Closed, not shipped back")  # closed: an approved return not shipped back in time (P13)

    class RejectReason(models.TextChoices):
        # A refund or a return: the item.
        NO_DEFECT = "no_defect", _("The item shows no defect")
        EVIDENCE = "evidence", _("The photos or description do not support the request")
        USED = "used", _("The item was used or damaged after delivery")
        NOT_RECEIVED_BACK = "not_received_back", _("The returned item did not arrive")
        # A cancellation: the order is on its way.
        ALREADY_SHIPPED = "already_shipped", _("The order was already handed to the carrier")
        ALREADY_PACKED = "already_packed", _("The order is already packed and labelled for the carrier")
        OTHER = "other", _("Other")

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="requests")
    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="buyer_requests")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    reason = models.CharField(max_length=20, choices=Reason.choices)
    description = models.TextField(max_length=2000, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.REQUESTED)
    amount = models.DecimalField(max_digits=14, decimal_places=2, help_text="Value of the requested lines.")
    currency = models.CharField(max_length=3)

    created_at = models.DateTimeField()
    status_changed_at = models.DateTimeField()
    respond_by = models.DateTimeField(help_text="Answered by this time, else approved by the platform (P11).")
    extended_at = models.DateTimeField(null=True, blank=True, help_text="When the seller used their one extension.")
    answered_at = models.DateTimeField(null=True, blank=True)
    reject_reason = models.CharField(max_length=20, choices=RejectReason.choices, blank=True)
    reject_note = models.CharField(max_length=500, blank=True)
    return_carrier = models.CharField(max_length=60, blank=True)
    return_tracking = models.CharField(max_length=60, blank=True)
    return_shipped_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)
    ship_back_by = models.DateTimeField(null=True, blank=True, help_text="An approved return: shipped back by this "
                                        "time, else closed by the platform (P13).")
    refund_by = models.DateTimeField(null=True, blank=True, help_text="A return shipped back: refunded by this time, "
                                     "else refunded in full by the platform (P14).")
    closed_at = models.DateTimeField(null=True, blank=True)

    objects = BuyerRequestQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["shop", "status", "-created_at", "-id"], name="request_shop_status_created"),
            models.Index(fields=["shop", "-created_at", "-id"], name="request_shop_created"),
            models.Index(fields=["status", "respond_by"], name="request_status_respond_by"),
            models.Index(fields=["status", "ship_back_by"], name="request_status_ship_back_by"),
            models.Index(fields=["status", "refund_by"], name="request_status_refund_by"),
        ]
        constraints = [
            # One conversation at a time per order: the next opens when this one closes. The
            # statuses are transitions.OPEN (a test checks they agree; models cannot import it).
            models.UniqueConstraint(
                fields=["order"],
                condition=Q(status__in=["REQUESTED", "APPROVED", "RETURN_SHIPPED", "RECEIVED", "DISPUTED"]),
                name="request_one_open_per_order",
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="request_amount_not_negative"),
            models.CheckConstraint(condition=~Q(status="REJECTED") | ~Q(reject_reason=""), name="request_rejected_has_reason"),
        ]

    def __str__(self):
        return self.number

    @property
    def number(self):
        return f"R{self.pk:06d}" if self.pk else "R(new)"

    @property
    def is_open(self):
        from .transitions import OPEN

        return self.status in OPEN

    @property
    def awaiting_refund(self):
        """A return on its way back or back, not yet refunded (transitions.AWAITING_REFUND)."""
        from .transitions import AWAITING_REFUND

        return self.status in AWAITING_REFUND

    def can(self, action, staff=False):
        from .transitions import allowed

        return allowed(action, self, staff=staff)

    def can_approve(self):
        return self.can("approve")

    def can_reject(self):
        return self.can("reject")

    def can_extend(self):
        return self.can("extend")

    def can_withdraw(self):
        return self.can("withdraw")

    def can_ship_back(self):
        return self.can("ship_back")

    def can_receive(self):
        return self.can("receive")

    def can_refund(self):
        return self.can("refund")

    def can_dispute(self):
        return self.can("dispute")


Rs, RR, K = BuyerRequest.Reason, BuyerRequest.RejectReason, BuyerRequest.Kind
_ITEM_REASONS = (Rs.DAMAGED, Rs.WRONG_ITEM, Rs.NOT_AS_DESCRIBED, Rs.MISSING_PARTS, Rs.NO_LONGER_NEEDED, Rs.OTHER)
# The reasons a buyer may give, per kind of request: a cancellation is about the order, a
# refund or a return about the item that arrived.
REASONS_BY_KIND = {
    K.CANCEL: (Rs.ORDERED_BY_MISTAKE, Rs.CHANGE_ORDER, Rs.BETTER_PRICE, Rs.TOO_SLOW, Rs.NO_LONGER_NEEDED, Rs.OTHER),
    K.REFUND_ONLY: _ITEM_REASONS,
    K.RETURN: _ITEM_REASONS,
}
_ITEM_REJECTIONS = (RR.NO_DEFECT, RR.EVIDENCE, RR.USED, RR.OTHER)
# The reasons a seller (or staff) may reject with, per kind; a disputed return adds what
# the seller found in the box (DISPUTE_REASONS, in actions).
REJECT_REASONS_BY_KIND = {
    K.CANCEL: (RR.ALREADY_SHIPPED, RR.ALREADY_PACKED, RR.OTHER),
    K.REFUND_ONLY: _ITEM_REJECTIONS,
    K.RETURN: _ITEM_REJECTIONS,
}
del Rs, RR, K


def reason_choices(reasons, blank=None):
    """(value, label) pairs for a <select>, with an empty first choice when `blank` says what to do."""
    return ([("", blank)] if blank else []) + [(r.value, r.label) for r in reasons]


class RequestLine(models.Model):
    request = models.ForeignKey(BuyerRequest, on_delete=models.PROTECT, related_name="lines")
    order_line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="request_lines")
    quantity = models.PositiveIntegerField()

    class Meta:
        ordering = ["request", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="request_line_quantity_positive"),
            models.UniqueConstraint(fields=["request", "order_line"], name="request_line_unique"),
        ]

    def __str__(self):
        return f"{self.quantity} x {self.order_line_id}"


def _photo_path(instance, filename):
    # The name is chosen by the server; the buyer's file name and extension are never used.
    return f"returns/photos/{instance.request_id}/{filename}"


class RequestPhoto(models.Model):
    """A photo the buyer attached, checked by its content (decoded as an image)."""

    request = models.ForeignKey(BuyerRequest, on_delete=models.PROTECT, related_name="photos")
    file = models.FileField(upload_to=_photo_path, max_length=200)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["request", "id"]

    def __str__(self):
        return self.file.name


class RequestEvent(History):
    """The append-only timeline of a request, shown to the seller and the buyer."""

    class Action(models.TextChoices):
        # Labels are the words the seller and the buyer read in the request's timeline.
        OPEN = "open", _("Requested")
        APPROVE = "approve", _("Approved")
        REJECT = "reject", _("Rejected")
        EXTEND = "extend", _("Deadline extended")
        WITHDRAW = "withdraw", _("Withdrawn")
        SHIP_BACK = "ship_back", _("Return shipped")
        RECEIVE = "receive", _("Return received")
        REFUND = "refund", _("Refunded")
        AUTO_REFUND = "auto_refund", _("Refunded by the platform")
        LAPSE = "lapse", _("Closed, not shipped back")
        DEADLINE_PAUSED = "deadline_paused", _("Deadline moved (force majeure)")
        REMIND_SHIP_BACK = "remind_ship_back", _("Buyer reminded to ship it back")
        REMIND_REFUND = "remind_refund", _("Seller reminded to refund")
        DISPUTE = "dispute", _("Disputed by the seller")
        STAFF_REJECT = "staff_reject", _("Rejected by platform staff")
        STAFF_REFUND = "staff_refund", _("Refunded by platform staff")
        STAFF_APPROVE = "staff_approve", _("Approved by platform staff")
        REFUND_APPROVED = "refund_approved", _("Refunded")
        DEADLINES_RECOMPUTED = "deadlines_recomputed", _("Deadline moved (new platform window)")

    request = models.ForeignKey(BuyerRequest, on_delete=models.PROTECT, related_name="events")
    action = models.CharField(max_length=30, choices=Action.choices)
    from_status = models.CharField(max_length=16, choices=BuyerRequest.Status.choices, blank=True)
    to_status = models.CharField(max_length=16, choices=BuyerRequest.Status.choices, blank=True)

    append_only_message = "Request history is append-only."

    class Meta(History.Meta):
        indexes = [models.Index(fields=["request", "at", "id"], name="requestevent_request_at")]

    @classmethod
    def write_feed(cls, ids, actions):
        """A move of a cancellation, return or refund request is request.status_changed; a row
        that keeps its status (a reminder, a paused deadline) request.updated."""
        from shops import feed

        feed.insert_from(
            cls._history_rows(ids), shop_id=F("request__order__shop_id"),
            type=Case(When(~Q(from_status=F("to_status")), then=Value(feed.Type.REQUEST_STATUS_CHANGED)),
                      default=Value(feed.Type.REQUEST_UPDATED)),
            object_type="request", object_id=F("request_id"),
            object_key=Concat(Value("R"), LPad(Cast("request_id", output_field=models.CharField()), 6, Value("0"))),
            order_number=F("request__order__number"), action=F("action"), from_status=F("from_status"),
            to_status=F("to_status"), at=F("at"))

    def __str__(self):
        return f"{self.request_id} {self.action}"

    @property
    def who_for_buyer(self):
        """The buyer reads "the seller", not a seller's user name."""
        return "the seller" if self.actor_kind == ActorKind.SELLER else self.who


ACTION_LABELS = dict(RequestEvent.Action.choices)


class Refund(models.Model):
    """Money given back to the buyer. Each refund records what was refunded before it, so
    the database itself refuses a refund that would exceed the order total, and
    (order, seq) being unique means two concurrent refunds cannot both build on the same
    running total."""

    class Kind(models.TextChoices):
        ORDER = "order", _("Whole order")  # cancellation or full refund: at most once per order
        REQUEST = "request", _("Request")  # a return's or refund-only request's refund, full or partial

    # Lookups by order use refund_seq_unique, by request refund_request_once (see Meta).
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="refunds", db_index=False)
    request = models.ForeignKey(BuyerRequest, null=True, blank=True, on_delete=models.PROTECT, related_name="refunds",
                                db_index=False)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    partial = models.BooleanField(default=False, help_text="Less than the request's value, by the seller's choice.")
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3)
    seq = models.PositiveIntegerField(help_text="1 for the order's first refund, 2 for the next, ...")
    refunded_before = models.DecimalField(max_digits=14, decimal_places=2)
    order_total = models.DecimalField(max_digits=14, decimal_places=2)
    actor_kind = models.CharField(max_length=12, choices=ActorKind.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+", db_index=False)
    actor_label = models.CharField(max_length=150, blank=True)
    note = models.CharField(max_length=500, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["order", "seq"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive"),
            models.CheckConstraint(condition=Q(refunded_before__gte=0), name="refund_before_not_negative"),
            models.CheckConstraint(
                condition=Q(amount__lte=F("order_total") - F("refunded_before")), name="refund_within_order_total"
            ),
            models.UniqueConstraint(fields=["order", "seq"], name="refund_seq_unique"),
            models.UniqueConstraint(fields=["order"], condition=Q(kind="order"), name="refund_whole_order_once"),
            models.UniqueConstraint(fields=["request"], condition=Q(request__isnull=False), name="refund_request_once"),
        ]
        indexes = [models.Index(fields=["actor"], name="refund_actor", condition=Q(actor__isnull=False))]

    def __str__(self):
        return f"{self.order_id} #{self.seq}: {self.amount} {self.currency}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Refunds are never edited.")
        super().save(*args, **kwargs)
        Refund.write_feed(Refund.objects.filter(pk=self.pk))

    def delete(self, *args, **kwargs):
        raise ValueError("Refunds are never deleted.")

    @staticmethod
    def write_feed(refunds):
        """refund.created in the shop's change feed for each refund of the queryset (one INSERT ...
        SELECT): the amount and currency ride along, as text in the currency's precision."""
        from shops import feed

        feed.insert_from(refunds, shop_id=F("order__shop_id"), type=feed.Type.REFUND_CREATED, object_type="refund",
                         object_id=F("id"), object_key=Cast("id", output_field=models.CharField()),
                         order_number=F("order__number"), action=F("kind"), at=F("created_at"),
                         data=JSONObject(amount=MoneyText("amount", "currency"), currency=F("currency"),
                                         request=F("request_id"), partial=F("partial"), seq=F("seq")))

    @property
    def who(self):
        return actor_words(self.actor_kind, self.actor_label)


class ReturnLinkEmail(models.Model):
    """The buyer was emailed a signed link to the return page (once per order)."""

    order = models.OneToOneField(Order, on_delete=models.PROTECT, related_name="return_link_email")
    sent_at = models.DateTimeField()

    def __str__(self):
        return f"{self.order_id} {self.sent_at:%Y-%m-%d}"
