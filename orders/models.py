from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Case, Exists, F, OuterRef, Q, Value, When
from django.db.models.functions import Lower, Replace, Upper
from django.db.models.lookups import In
from django.utils.translation import gettext_lazy as _

from core.actor import ActorKind
from shops.models import SKU, Shop


def number_condition(tokens):
    """Order numbers equal to any token, whatever the case ("bor-100033" finds BOR-100033).

    Storefronts choose their numbers' case, so the match is on UPPER(number), which the
    order_number_upper index serves; the exact match stays for numbers SQL's UPPER and
    Python's upper() may case differently (non-ASCII ones; ASCII ones need only the one index)."""
    upper = Q(In(Upper("number"), sorted({t.upper() for t in tokens})))
    other = [t for t in tokens if not t.isascii()]
    return (Q(number__in=other) | upper) if other else upper


# The characters people write phone numbers with; a phone is searched by its digits only.
PHONE_SEPARATORS = (" ", "-", "(", ")", ".", "/", "+")


def phone_digits(expression="buyer_phone"):
    """The buyer's phone without separators, as the order_shop_phone index stores it: a full phone
    number typed in any layout finds the order (listing's search), the seller still sees it masked."""
    expression = F(expression) if isinstance(expression, str) else expression
    for char in PHONE_SEPARATORS:
        expression = Replace(expression, Value(char), Value(""))
    return expression


def email_key(expression="buyer_email"):
    """The buyer's email as the order_shop_email index stores it (lower case)."""
    return Lower(expression)


class OrderQuerySet(models.QuerySet):
    def for_shop(self, shop):
        """Every seller read starts here, so another shop's orders are never in reach."""
        return self.filter(shop=shop)

    def in_tab(self, tab):
        """A Manage Orders tab: 'all' or one status."""
        if not tab or tab == "all":
            return self
        return self.filter(status=tab)

    def with_sku(self, code):
        return self.filter(Exists(OrderLine.objects.filter(order=OuterRef("pk"), sku_code=code)))

    def before_shipment(self):
        from .transitions import BEFORE_SHIPMENT

        return self.filter(status__in=BEFORE_SHIPMENT)

    def ship_within(self, now, hours):
        """Still to ship, due in the next `hours` hours."""
        return self.before_shipment().filter(ship_by__gte=now, ship_by__lt=now + timedelta(hours=hours))

    def past_ship_by(self, now):
        return self.before_shipment().filter(ship_by__lt=now)

    def auto_cancel_within(self, now, hours):
        from .transitions import CANCELLABLE

        return self.filter(
            status__in=CANCELLABLE,
            auto_cancel_at__lt=now + timedelta(hours=hours),
        ).exclude(deadlines_paused_until__gt=now)


class Order(models.Model):
    class Status(models.TextChoices):
        UNPAID = "UNPAID", _("Unpaid")  # placed at checkout, payment not yet received
        AWAITING_CONFIRMATION = "AWAITING_CONFIRMATION", _("Awaiting confirmation")  # paid, seller must confirm stock
        AWAITING_SHIPMENT = "AWAITING_SHIPMENT", _("Awaiting shipment")  # confirmed, stock reserved, to be packed
        AWAITING_COLLECTION = "AWAITING_COLLECTION", _("Awaiting collection")  # packed and ready, carrier not yet collected
        IN_TRANSIT = "IN_TRANSIT", _("In transit")  # every package handed to the carrier
        DELIVERED = "DELIVERED", _("Delivered")  # every package delivered; return window open
        COMPLETED = "COMPLETED", _("Completed")  # return window passed
        CANCELLED = "CANCELLED", _("Cancelled")  # cancelled by seller, buyer, staff or policy

    class ShippingModel(models.TextChoices):
        SELLER = "SELLER", _("Ship by seller")  # seller's own carrier and tracking number
        PLATFORM = "PLATFORM", _("Ship by platform")  # platform partner carrier and label

    class CancelReason(models.TextChoices):
        OUT_OF_STOCK = "out_of_stock", _("Out of stock")
        DAMAGED_OR_EXPIRED = "damaged_or_expired", _("Damaged or expired item")
        BUYER_REQUESTED = "buyer_requested", _("Buyer asked to cancel")
        PRICING_ERROR = "pricing_error", _("Pricing error")
        OTHER = "other", _("Other")
        # Set by the platform, never offered to sellers.
        UNPAID = "unpaid", _("Not paid in time")
        NO_TRACKING = "no_tracking", _("No tracking update in time")
        DELIVERY_FAILED = "delivery_failed", _("Lost or abnormal delivery")

    number = models.CharField(max_length=40, unique=True)
    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="orders")
    warehouse = models.ForeignKey("shops.Warehouse", null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="orders", help_text="Where its stock is reserved and it ships from "
                                  "(set on confirmation).")
    status = models.CharField(max_length=24, choices=Status.choices, default=Status.UNPAID)
    shipping_model = models.CharField(max_length=8, choices=ShippingModel.choices, default=ShippingModel.PLATFORM)

    placed_at = models.DateTimeField()
    paid_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    status_changed_at = models.DateTimeField()
    ship_by = models.DateTimeField(null=True, blank=True, help_text="Ready or shipped by this time, else late dispatch (P2).")
    handover_by = models.DateTimeField(null=True, blank=True, help_text="Handed to the carrier by this time, else overdue (P4).")
    auto_cancel_at = models.DateTimeField(
        null=True, blank=True, help_text="Cancelled by the platform at this time: unpaid (P1) or no tracking (P5)."
    )
    deadlines_paused_until = models.DateTimeField(null=True, blank=True, help_text="Force majeure (P12).")
    late_dispatch_at = models.DateTimeField(null=True, blank=True, help_text="When P2 found it late.")
    handover_overdue_at = models.DateTimeField(null=True, blank=True, help_text="When P4 found it overdue.")
    tracking_reminder_at = models.DateTimeField(null=True, blank=True, help_text="Last P5 reminder to the seller.")

    buyer_name = models.CharField(max_length=200)
    buyer_email = models.EmailField(blank=True)
    buyer_phone = models.CharField(max_length=40, blank=True)
    address_line1 = models.CharField(max_length=200)
    address_line2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100)
    region = models.CharField(max_length=100, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2)
    # Where the country's addresses have them (orders.addresses): Vietnam's quận/huyện and
    # phường/xã, Thailand's amphoe/khet and tambon/khwaeng, Indonesia's kecamatan and kelurahan.
    district = models.CharField(max_length=100, blank=True)
    subdistrict = models.CharField(max_length=100, blank=True)
    # The buyer's language (the storefront's `locale`): their emails and their page.
    language = models.CharField(max_length=8, choices=settings.LANGUAGES, blank=True)

    currency = models.CharField(max_length=3)
    total = models.DecimalField(max_digits=14, decimal_places=2)
    # Written once at creation so the order list shows items without reading lines.
    item_count = models.PositiveIntegerField(default=0)
    items_summary = models.CharField(max_length=200, blank=True)

    cancel_reason = models.CharField(max_length=24, choices=CancelReason.choices, blank=True)
    cancel_note = models.CharField(max_length=500, blank=True)
    # One internal note the shop pins on the order (shown in the list); the history keeps
    # every version of it, apart from the history's own notes.
    pinned_note = models.CharField(max_length=300, blank=True)
    tags = models.ManyToManyField("Tag", through="OrderTag", related_name="orders", blank=True)

    # SHA-256 of the storefront payload, so a repeat is told apart from a conflicting one.
    source_digest = models.CharField(max_length=64, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OrderQuerySet.as_manager()

    class Meta:
        ordering = ["-placed_at", "-id"]
        indexes = [
            models.Index(fields=["shop", "status", "-placed_at", "-id"], name="order_shop_status_placed"),
            models.Index(fields=["shop", "-placed_at", "-id"], name="order_shop_placed"),
            # Search matches order numbers whatever the case (OrderQuerySet.number_condition).
            models.Index(Upper("number"), name="order_number_upper"),
            # Search by a buyer's full email or phone (exact, within the shop): the seller types what
            # the buyer told them and finds the order, and still sees only the masked phone.
            models.Index(F("shop"), email_key(), name="order_shop_email"),
            models.Index(F("shop"), phone_digits(), name="order_shop_phone"),
            # The start or end of an order number and the start of a buyer's name are matched by
            # PostgreSQL pattern indexes that migration 0010 makes (order_shop_number_prefix, …).
            models.Index(fields=["shop", "status", "ship_by", "id"], name="order_shop_status_shipby"),
            models.Index(fields=["shop", "ship_by", "id"], name="order_shop_shipby"),
            models.Index(fields=["status", "auto_cancel_at"], name="order_status_autocancel"),
            models.Index(fields=["status", "ship_by"], name="order_status_shipby"),
            models.Index(fields=["status", "handover_by"], name="order_status_handover"),
            # The list's "paid time" and "total" sorts page by keyset like the others.
            models.Index(fields=["shop", "-paid_at", "-id"], name="order_shop_paid"),
            models.Index(fields=["shop", "status", "-paid_at", "-id"], name="order_shop_status_paid"),
            models.Index(fields=["shop", "-total", "-id"], name="order_shop_total"),
            models.Index(fields=["shop", "status", "-total", "-id"], name="order_shop_status_total"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(total__gte=0), name="order_total_not_negative"),
        ]

    def __str__(self):
        return self.number

    @property
    def masked_phone(self):
        digits = self.buyer_phone
        return f"{'*' * max(len(digits) - 4, 0)}{digits[-4:]}" if digits else ""

    @property
    def masked_address(self):
        """What a seller sees outside the label: city, region and country only."""
        return ", ".join(p for p in ["***", self.city, self.region, self.postal_code[:2] + "***" if self.postal_code else "", self.country] if p)

    @property
    def full_address(self):
        """The address written as its country writes it (orders.addresses), on one line."""
        from .addresses import address_lines

        return ", ".join(address_lines(self))

    @property
    def address_lines(self):
        """The address's lines as its country writes them (the label, the buyer's page)."""
        from .addresses import address_lines

        return address_lines(self)

    @property
    def next_deadline(self):
        """(what, when) of the deadline a seller should watch now, or None. Reads only the
        status and the deadlines (the order list calls it on light rows)."""
        from .transitions import BEFORE_SHIPMENT

        S = Order.Status
        if self.status == S.UNPAID:
            return ("auto-cancel", self.auto_cancel_at) if self.auto_cancel_at else None
        if self.status in BEFORE_SHIPMENT:
            return ("ship", self.ship_by) if self.ship_by else None
        if self.status == S.AWAITING_COLLECTION:
            return ("handover", self.handover_by) if self.handover_by else None
        return None

    @property
    def before_handover(self):
        """Placed and not yet with the carrier: its deadlines run (transitions.CANCELLABLE)."""
        from .transitions import CANCELLABLE

        return self.status in CANCELLABLE

    @property
    def paid_before_handover(self):
        """Paid and not yet with the carrier: the handover deadline applies (transitions.PRE_HANDOVER)."""
        from .transitions import PRE_HANDOVER

        return self.status in PRE_HANDOVER

    @property
    def ship_by_applies(self):
        """Paid and not yet packed: the ship-by deadline applies (transitions.BEFORE_SHIPMENT)."""
        from .transitions import BEFORE_SHIPMENT

        return self.status in BEFORE_SHIPMENT

    def can(self, action):
        from .transitions import allowed

        return allowed(action, self.status)

    def can_confirm(self):
        return self.can("confirm")

    def can_cancel(self):
        return self.can("cancel")

    def can_pay(self):
        return self.can("pay")


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="lines")
    sku = models.ForeignKey(SKU, on_delete=models.PROTECT, related_name="order_lines")
    sku_code = models.CharField(max_length=64)
    name = models.CharField(max_length=200)
    quantity = models.PositiveIntegerField()
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        ordering = ["order", "id"]
        indexes = [
            # Search by SKU: the orders of a SKU read from the index alone (listing.resolve_search).
            models.Index(fields=["sku", "order"], name="orderline_sku_order"),
            # The SKU filter and the admin's search match the code the order was placed with.
            models.Index(fields=["sku_code", "order"], name="orderline_skucode_order"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="line_quantity_positive"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="line_price_not_negative"),
        ]

    def __str__(self):
        return f"{self.quantity} x {self.sku_code}"

    @property
    def line_total(self):
        return self.unit_price * self.quantity


class AppendOnly(models.Model):
    """Rows written once and never changed or deleted (history, the carrier's feed): a
    dispute may need them. A queryset update() or delete() is not stopped here; the
    actions never issue one."""

    append_only_message = None  # default: "<Model> is append-only."

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError(self.append_only_message or f"{type(self).__name__} is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError(self.append_only_message or f"{type(self).__name__} is append-only.")


class HistoryQuerySet(models.QuerySet):
    def bulk_create(self, objs, *args, feed=True, **kwargs):
        """As Django's, refusing an action outside the table's choices, and writing the shop's
        change feed for the new rows in one more INSERT (feed=False: generated test data)."""
        objs = list(objs)
        actions = set(self.model.Action.values)
        for obj in objs:
            if obj.action not in actions:
                raise ValueError(obj.unknown_action())
        created = super().bulk_create(objs, *args, **kwargs)
        if feed and created:
            self.model.write_feed([o.pk for o in created], {o.action for o in created})
        return created


class History(AppendOnly):
    """The shape every history table shares (orders, packages, tickets, requests): who did
    what, of which kind of actor, from which status to which, when, with a note and data.

    Rows are append-only. Each concrete table adds its foreign key and indexes and
    redeclares `action` with its own choices (so its history cannot hold a typo) and the
    statuses with its model's; the columns keep one name and meaning across the four."""

    at = models.DateTimeField()
    actor_kind = models.CharField(max_length=12, choices=ActorKind.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    actor_label = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=40)
    from_status = models.CharField(max_length=24, blank=True)
    to_status = models.CharField(max_length=24, blank=True)
    note = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    Action = models.TextChoices  # each table names its own

    objects = HistoryQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["at", "id"]

    def save(self, *args, **kwargs):
        # An action outside the table's choices is refused here and in bulk_create, so a
        # typo fails the test that writes it instead of reaching the history.
        new = self.pk is None
        if new and self.action not in self.Action.values:
            raise ValueError(self.unknown_action())
        super().save(*args, **kwargs)
        if new:
            type(self).write_feed([self.pk], {self.action})

    @classmethod
    def write_feed(cls, ids, actions):
        """The shop's change feed (shops.feed) for the history rows `ids`, written in the same
        transaction. Each table says what its rows mean there; a table outside the feed (tickets)
        writes nothing."""

    @classmethod
    def _history_rows(cls, ids):
        from core.sql import InIds

        return cls.objects.filter(InIds(models.F("pk"), list(ids)))

    def unknown_action(self):
        return f"{type(self).__name__}: {self.action!r} is not one of its actions ({type(self).__name__}.Action)."

    @property
    def label(self):
        """The action in words ("Shipment arranged"), never its code: each table's Action
        choices are its words; a row whose action has none reads as its code spelled out."""
        try:
            return self.Action(self.action).label
        except ValueError:
            return action_words({}, self.action)

    @property
    def who(self):
        return actor_words(self.actor_kind, self.actor_label)

    @property
    def why(self):
        """Why the platform did it, in words, or "": sellers and buyers never see rule ids."""
        return why_words(getattr(self, "data", None))


class OrderEvent(History):
    """The append-only history of an order: who moved it, from where to where, and why."""

    ActorKind = ActorKind

    class Action(models.TextChoices):
        # Labels are the words sellers and buyers read in the order's history.
        PLACE = "place", _("Order placed")
        PAY = "pay", _("Payment received")
        CONFIRM = "confirm", _("Confirmed")
        ARRANGE_SHIPMENT = "arrange_shipment", _("Shipment arranged")
        MARK_IN_TRANSIT = "mark_in_transit", _("Handed to the carrier")
        MARK_DELIVERED = "mark_delivered", _("Delivered")
        COMPLETE = "complete", _("Completed")
        CANCEL = "cancel", _("Cancelled")
        CANCEL_IN_TRANSIT = "cancel_in_transit", _("Cancelled during delivery")
        NOTE = "note", _("Note")
        MESSAGE = "message", _("Message to the buyer")
        LATE_DISPATCH = "late_dispatch", _("Late dispatch")
        HANDOVER_OVERDUE = "handover_overdue", _("Handover overdue")
        TRACKING_REMINDER = "tracking_reminder", _("Reminder: no tracking update yet")
        DEADLINES_PAUSED = "deadlines_paused", _("Deadlines paused")
        TAG = "tag", _("Tagged")
        UNTAG = "untag", _("Tag removed")
        PIN_NOTE = "pin_note", _("Note pinned")
        UNPIN_NOTE = "unpin_note", _("Pinned note removed")
        BUYER_REQUEST = "buyer_request", _("Buyer request")
        REFUND = "refund", _("Refund")
        GENERATED = "generated", _("Order created (test data)")

    # Indexes are what make history writes cost (policies write thousands of rows a run):
    # the order's lookups use orderevent_order_at, and only rows written by a person are
    # indexed by actor.
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="events", db_index=False)
    at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    actor_label = models.CharField(max_length=150, blank=True, help_text="Who, in words: a user name, a carrier, a rule.")
    action = models.CharField(max_length=40, choices=Action.choices)
    from_status = models.CharField(max_length=24, choices=Order.Status.choices, blank=True)
    to_status = models.CharField(max_length=24, choices=Order.Status.choices, blank=True)

    append_only_message = "Order history is append-only."

    class Meta(History.Meta):
        indexes = [
            models.Index(fields=["order", "at", "id"], name="orderevent_order_at"),
            models.Index(fields=["actor"], name="orderevent_actor", condition=Q(actor__isnull=False)),
        ]

    def __str__(self):
        return f"{self.order_id} {self.action} {self.from_status}->{self.to_status}"

    @classmethod
    def write_feed(cls, ids, actions):
        """A placed order is order.created; a payment is order.paid and a status change; any other
        move order.status_changed; a row that keeps the status (a note, a flag) order.updated.
        (orders.history.record_each says the same in SQL, for its one statement on PostgreSQL.)"""
        from shops import feed

        rows = cls._history_rows(ids)
        common = dict(shop_id=F("order__shop_id"), object_type="order", object_id=F("order_id"),
                      object_key=F("order__number"), order_number=F("order__number"), action=F("action"),
                      from_status=F("from_status"), to_status=F("to_status"), at=F("at"))
        feed.insert_from(rows, type=Case(
            When(action=cls.Action.PLACE, then=Value(feed.Type.ORDER_CREATED)),
            When(~Q(from_status=F("to_status")), then=Value(feed.Type.ORDER_STATUS_CHANGED)),
            default=Value(feed.Type.ORDER_UPDATED)), **common)
        if cls.Action.PAY in actions:
            feed.insert_from(rows.filter(action=cls.Action.PAY), type=feed.Type.ORDER_PAID, **common)

    @property
    def is_status_change(self):
        return bool(self.to_status) and self.to_status != self.from_status


# Every order history action in words; an unknown one (a row written before its action
# had a label) reads as its code spelled out, never "Arrange_shipment".
HISTORY_LABELS = dict(OrderEvent.Action.choices)


def action_words(labels, action):
    return labels.get(action) or action.replace("_", " ").strip().capitalize()


def actor_words(kind, label):
    """Who did it, as a seller or buyer reads it: "seller alice", "the platform" (a rule's
    id stays in the data, for staff), "carrier UPS"."""
    K = OrderEvent.ActorKind
    if kind == K.POLICY:
        return "the platform"
    if kind == K.STAFF:
        return "platform staff"
    if kind == K.BUYER:
        return "the buyer"
    if kind == K.STOREFRONT:
        return "the storefront"
    if kind == K.SELLER:
        return f"seller {label}" if label else "the seller"
    if kind == K.CARRIER:
        return f"carrier {label}" if label else "the carrier"
    if kind == K.APP:
        return f"the shop's app {label}" if label else "the shop's app"
    return label or kind


def why_words(data):
    """"Not paid within 1 day of checkout; deadline ..." from an automated action's data."""
    from shops.policy_windows import from_explain

    window = from_explain(data or {})
    if window is None:
        return ""
    return window.reason[:1].upper() + window.reason[1:]


class OrderMessage(models.Model):
    """Messages on an order between the shop and the buyer; platform notices go here too."""

    class Sender(models.TextChoices):
        SELLER = "seller", _("Seller")
        BUYER = "buyer", _("Buyer")
        PLATFORM = "platform", _("Platform")

    # As on OrderEvent: the order's lookups use ordermessage_order_at; platform notices
    # (no author) are not indexed by author.
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="messages", db_index=False)
    sender = models.CharField(max_length=8, choices=Sender.choices)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+", db_index=False)
    body = models.TextField(max_length=4000)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["order", "created_at"], name="ordermessage_order_at"),
            models.Index(fields=["author"], name="ordermessage_author", condition=Q(author__isnull=False)),
        ]

    def __str__(self):
        return f"{self.order_id} {self.sender}: {self.body[:40]}"


class OrderStatusCount(models.Model):
    """How many orders a shop has in each status, changed in the same transaction as the
    orders themselves so the Manage Orders tabs read exact counts without scanning."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="status_counts")
    status = models.CharField(max_length=24, choices=Order.Status.choices)
    count = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "status"], name="status_count_unique"),
            models.CheckConstraint(condition=Q(count__gte=0), name="status_count_not_negative"),
        ]

    def __str__(self):
        return f"{self.shop_id} {self.status}={self.count}"


class Tag(models.Model):
    """A label a shop defines for its orders ("gift wrap", "VIP"), to filter and act on."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="order_tags")
    name = models.CharField(max_length=40)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["shop", "name"], name="tag_shop_name_unique")]

    def __str__(self):
        return self.name


class OrderTag(models.Model):
    """An order carrying a tag. Adding and removing one writes the order's history."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="tag_links", db_index=False)
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="order_links", db_index=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["order", "tag"], name="ordertag_unique")]
        # The unique constraint's (order, tag) index serves the rows' tag names; this one the
        # "tag" filter.
        indexes = [models.Index(fields=["tag", "order"], name="ordertag_tag_order")]

    def __str__(self):
        return f"{self.order_id}: {self.tag_id}"


class SavedView(models.Model):
    """A named filter and sort of Manage Orders, pinned as a tab for the whole shop's team.

    Its count is an exact status counter when the view is a plain tab, else an "about" count
    kept here (counted_at says how old it is), counted at most up to ABOUT_LIMIT by its own
    request after the page has rendered, so the list never counts per view."""

    ABOUT_LIMIT = 1000

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="saved_views")
    name = models.CharField(max_length=60)
    query = models.CharField(max_length=2000, help_text="The list's query string, without page cursors.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    about_count = models.PositiveIntegerField(null=True, blank=True)
    counted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["shop", "name"], name="savedview_shop_name_unique")]

    def __str__(self):
        return self.name


class ListPreference(models.Model):
    """What one member chose to see in Manage Orders (the columns), per shop."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    columns = models.CharField(max_length=200, help_text="The shown columns, comma-separated.")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["shop", "user"], name="listpreference_unique")]

    def __str__(self):
        return self.columns
