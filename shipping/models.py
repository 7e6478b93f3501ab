from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Cast
from django.utils.translation import gettext_lazy as _

from orders.models import AppendOnly, History, Order, OrderLine
from shops.models import Shop

from .carriers import ALL_CARRIERS


class PackageQuerySet(models.QuerySet):
    def for_shop(self, shop):
        """Every seller read starts here: another shop's packages are never in reach."""
        return self.filter(shop=shop)

    def active(self):
        """Packages that count for their order (a re-split voids the old ones)."""
        return self.exclude(status=Package.Status.VOID)

    def of_open_orders(self):
        """Packages whose order still goes to the buyer: a seller may cancel an order
        while its package waits for the carrier, and nothing may then chase that box."""
        return self.exclude(order__status=Order.Status.CANCELLED)

    def print_queue(self, kind, *, printed=False):
        """The labels (kind "label") or packing slips ("slip") to print, or printed, of packages
        still with the seller. A label needs a tracking number; a package combined into another
        prints with it, so only the parcel is in the queue."""
        from .transitions import AT_SELLER

        qs = self.active().of_open_orders().filter(status__in=AT_SELLER, parcel=None)
        if kind == PrintJob.Kind.LABEL:
            return qs.exclude(tracking_number="").filter(label_printed_at__isnull=not printed)
        return qs.filter(slip_printed_at__isnull=not printed)

    def late_to_collect(self, now):
        return self.of_open_orders().filter(status=Package.Status.READY, collect_by__lt=now)


class Package(models.Model):
    """One box of an order: the lines (or parts of lines) it holds, its carrier and tracking."""

    class Status(models.TextChoices):
        PACKING = "PACKING", _("Packing")  # created, being packed; carrier and label may be set
        READY = "READY", _("Ready for handover")  # packed; the carrier collects or the seller drops off
        COLLECTED = "COLLECTED", _("Picked up")  # handed to the carrier (collected, dropped off or shipped)
        IN_TRANSIT = "IN_TRANSIT", _("In transit")  # moving through the carrier's network
        OUT_FOR_DELIVERY = "OUT_FOR_DELIVERY", _("Out for delivery")  # on the last-mile vehicle
        AVAILABLE_FOR_PICKUP = "AVAILABLE_FOR_PICKUP", _("Available for pickup")  # waits at a point for the buyer
        FAILED_ATTEMPT = "FAILED_ATTEMPT", _("Delivery attempt failed")  # the carrier tried and could not deliver
        EXCEPTION = "EXCEPTION", _("Exception")  # damaged, held or returned to sender
        DELIVERED = "DELIVERED", _("Delivered")  # the buyer has it
        LOST = "LOST", _("Lost")  # the platform declared it lost (policies or staff)
        VOID = "VOID", _("Replaced")  # replaced by a re-split before handover; kept for the record

    class Handover(models.TextChoices):
        PICKUP = "PICKUP", _("Pickup")  # the platform's carrier collects at the seller's address
        DROP_OFF = "DROP_OFF", _("Drop-off")  # the seller takes it to a drop-off point
        SELLER = "SELLER", _("Seller's carrier")  # ship by seller: the seller hands it to their carrier

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="packages")
    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="packages")
    seq = models.PositiveSmallIntegerField(help_text="Package 1, 2, ... of its order.")
    status = models.CharField(max_length=24, choices=Status.choices, default=Status.PACKING)
    status_at = models.DateTimeField(help_text="When the current status happened (carrier time for feed moves).")

    carrier = models.CharField(max_length=16, choices=ALL_CARRIERS, blank=True)
    tracking_number = models.CharField(max_length=40, blank=True)
    tracking_set_at = models.DateTimeField(null=True, blank=True)
    tracking_corrected_at = models.DateTimeField(null=True, blank=True, help_text="A number may be corrected once.")
    tracking_dispute = models.ForeignKey(
        "TrackingDispute", null=True, blank=True, on_delete=models.PROTECT, related_name="packages",
        help_text="Another shop entered the same number: the feed's events for it are held until staff rule.",
    )

    handover = models.CharField(max_length=8, choices=Handover.choices, blank=True)
    pickup_slot_start = models.DateTimeField(null=True, blank=True)
    pickup_slot_end = models.DateTimeField(null=True, blank=True)
    dropoff_point = models.CharField(max_length=40, blank=True)
    label_note = models.CharField(max_length=120, blank=True, help_text="Seller's text printed on the label.")
    label_generated_at = models.DateTimeField(null=True, blank=True)
    label_printed_at = models.DateTimeField(null=True, blank=True)
    label_print_count = models.PositiveIntegerField(default=0)
    slip_printed_at = models.DateTimeField(null=True, blank=True)
    slip_print_count = models.PositiveIntegerField(default=0)
    parcel = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="combined",
        help_text="Combined: the package whose box, label and tracking number this order's items travel in.",
    )

    ready_at = models.DateTimeField(null=True, blank=True)
    collect_by = models.DateTimeField(null=True, blank=True, help_text="Collected or dropped off by this time (P3).")
    collected_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    promised_delivery_at = models.DateTimeField(null=True, blank=True, help_text="Past this, the package is Delayed (P9).")
    last_event_at = models.DateTimeField(null=True, blank=True, help_text="The newest carrier event, whatever it said.")
    failed_attempts = models.PositiveSmallIntegerField(default=0)
    is_delayed = models.BooleanField(default=False)
    delayed_at = models.DateTimeField(null=True, blank=True)
    lost_at = models.DateTimeField(null=True, blank=True)
    late_collection_at = models.DateTimeField(null=True, blank=True, help_text="When P3 found the carrier late.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PackageQuerySet.as_manager()

    class Meta:
        ordering = ["order", "seq", "id"]
        indexes = [
            models.Index(fields=["shop", "status"], name="package_shop_status"),
            models.Index(fields=["status", "collect_by"], name="package_status_collectby"),
            models.Index(fields=["status", "promised_delivery_at"], name="package_status_promised"),
            models.Index(fields=["tracking_number"], name="package_tracking"),
        ]
        constraints = [
            # One package per carrier's number, except the packages of an open dispute (two shops
            # entered it; staff decide which keeps it, shipping.actions.disputes).
            # A combined package shares its parcel's number (parcel set): the parcel holds it once.
            models.UniqueConstraint(
                fields=["carrier", "tracking_number"],
                condition=~Q(tracking_number="") & Q(tracking_dispute=None) & Q(parcel=None),
                name="package_tracking_unique",
            ),
            models.UniqueConstraint(fields=["order", "seq"], name="package_seq_unique"),
            models.CheckConstraint(condition=Q(failed_attempts__gte=0), name="package_attempts_not_negative"),
        ]

    def __str__(self):
        return f"{self.order_id}/{self.seq} {self.tracking_number or '(no tracking)'}"

    @property
    def label(self):
        return f"Package {self.seq}"

    @property
    def dropoff_point_name(self):
        from .carriers import DROPOFF_POINTS

        return dict(DROPOFF_POINTS).get(self.dropoff_point, self.dropoff_point)

    @property
    def handed_over(self):
        from .transitions import HANDED_OVER

        return self.status in HANDED_OVER

    def can(self, action):
        from .transitions import allowed

        return allowed(action, self.status)

    def can_mark_ready(self):
        return self.can("mark_ready") and bool(self.tracking_number) and not self.parcel_id

    def can_uncombine(self):
        """Combined (travels in a parcel, or is one) and not yet handed over."""
        from .transitions import AT_SELLER

        return bool(self.parcel_id or getattr(self, "carries", None)) and self.status in AT_SELLER

    def can_void_label(self):
        return self.label_printed_at is not None and self.parcel_id is None and self.can("edit_label")

    def can_ship(self):
        return self.can("ship") and self.handover == Package.Handover.SELLER

    def can_edit_label(self):
        return self.can("edit_label")

    def can_add_photo(self):
        return self.can("add_photo")

    def can_correct_tracking(self, now):
        from .transitions import CORRECTION_WINDOW, FINAL

        return (
            # A number was entered (set_at); after a staff ruling removed it, the field is empty.
            self.handover == Package.Handover.SELLER
            and self.tracking_dispute_id is None
            and self.tracking_corrected_at is None
            and self.tracking_set_at is not None
            and now < self.tracking_set_at + CORRECTION_WINDOW
            and self.status not in FINAL
        )

    def can_complain(self, now):
        return self.status == Package.Status.READY and self.collect_by is not None and self.collect_by < now


class PackageItem(models.Model):
    """How much of an order line is in a package; the packages of an order hold every unit once."""

    package = models.ForeignKey(Package, on_delete=models.PROTECT, related_name="items")
    line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="package_items")
    quantity = models.PositiveIntegerField()

    class Meta:
        ordering = ["package", "line"]
        constraints = [
            models.UniqueConstraint(fields=["package", "line"], name="package_item_unique"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="package_item_quantity_positive"),
        ]

    def __str__(self):
        return f"{self.quantity} x {self.line_id}"


class PackageEvent(History):
    """The package's own history: who packed, printed, shipped, corrected or declared it lost."""

    class Action(models.TextChoices):
        # Labels are the words the order page's package panel shows.
        CREATE = "create", _("Package created")
        VOID = "void", _("Replaced by a new split")
        ARRANGE = "arrange", _("Shipment arranged")
        MARK_READY = "mark_ready", _("Marked ready for handover")
        SHIP = "ship", _("Shipped")
        SET_TRACKING = "set_tracking", _("Set tracking")
        CORRECT_TRACKING = "correct_tracking", _("Tracking number corrected")
        EDIT_LABEL = "edit_label", _("Label text changed")
        PRINT_LABEL = "print_label", _("Label printed")
        REPRINT_LABEL = "reprint_label", _("Label reprinted")
        PRINT_SLIP = "print_slip", _("Packing slip printed")
        REPRINT_SLIP = "reprint_slip", _("Packing slip reprinted")
        ADD_PHOTO = "add_photo", _("Handover photo added")
        MARK_LOST = "mark_lost", _("Declared lost")
        MARK_DELAYED = "mark_delayed", _("Marked delayed")
        LATE_COLLECTION = "late_collection", _("Carrier late to collect")
        STAFF_COLLECTED = "staff_collected", _("Staff collected")
        STAFF_DELIVERED = "staff_delivered", _("Staff delivered")
        COMPLAINT_FILED = "complaint_filed", _("Complaint filed")
        COMPLAINT_UPHELD = "complaint_upheld", _("Complaint upheld")
        COMPLAINT_REJECTED = "complaint_rejected", _("Complaint rejected")
        TRACKING_DISPUTED = "tracking_disputed", _("Tracking number in dispute")
        TRACKING_KEPT = "tracking_kept", _("Tracking number kept by staff ruling")
        TRACKING_REMOVED = "tracking_removed", _("Tracking number removed by staff ruling")
        COMBINE = "combine", _("Combined into one package")
        UNCOMBINE = "uncombine", _("Taken out of a combined package")
        VOID_LABEL = "void_label", _("Label voided")

    package = models.ForeignKey(Package, on_delete=models.PROTECT, related_name="events")
    action = models.CharField(max_length=40, choices=Action.choices)
    from_status = models.CharField(max_length=24, choices=Package.Status.choices, blank=True)
    to_status = models.CharField(max_length=24, choices=Package.Status.choices, blank=True)

    class Meta(History.Meta):
        indexes = [models.Index(fields=["package", "at"], name="packageevent_package_at")]

    @classmethod
    def write_feed(cls, ids, actions):
        from shops import feed

        feed.insert_from(cls._history_rows(ids), shop_id=F("package__shop_id"), type=feed.Type.PACKAGE_UPDATED,
                         object_type="package", object_id=F("package_id"),
                         object_key=Cast("package_id", output_field=models.CharField()),
                         order_number=F("package__order__number"), action=F("action"),
                         from_status=F("from_status"), to_status=F("to_status"), at=F("at"))

    def __str__(self):
        return f"{self.package_id} {self.action}"


class TrackingEvent(AppendOnly):
    """One carrier feed event, stored once per (carrier, event_id) however often it arrives.

    from/to status say what it did to the package: empty to_status means it was recorded
    but moved nothing (late, out of order, or a tag without a status).
    """

    class Tag(models.TextChoices):
        # AfterShip's delivery-status vocabulary.
        PENDING = "Pending", _("Pending")  # no information yet
        INFO_RECEIVED = "InfoReceived", _("Info received")  # the carrier has the shipment data
        IN_TRANSIT = "InTransit", _("In transit")  # accepted or moving (InTransit_002: picked up)
        OUT_FOR_DELIVERY = "OutForDelivery", _("Out for delivery")
        ATTEMPT_FAIL = "AttemptFail", _("Delivery attempt failed")
        DELIVERED = "Delivered", _("Delivered")
        AVAILABLE_FOR_PICKUP = "AvailableForPickup", _("Available for pickup")
        EXCEPTION = "Exception", _("Exception")  # damaged, held, returned to sender
        EXPIRED = "Expired", _("Expired")  # no news for a long time

    carrier = models.CharField(max_length=16, choices=ALL_CARRIERS)
    event_id = models.CharField(max_length=100)
    package = models.ForeignKey(Package, on_delete=models.PROTECT, related_name="tracking_events")
    tracking_number = models.CharField(max_length=40)
    tag = models.CharField(max_length=20, choices=Tag.choices)
    subtag = models.CharField(max_length=40, blank=True)
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField()
    location = models.CharField(max_length=200, blank=True)
    message = models.CharField(max_length=500, blank=True)
    from_status = models.CharField(max_length=24, choices=Package.Status.choices, blank=True)
    to_status = models.CharField(max_length=24, choices=Package.Status.choices, blank=True)

    class Meta:
        ordering = ["occurred_at", "id"]
        indexes = [models.Index(fields=["package", "occurred_at"], name="tracking_package_at")]
        constraints = [models.UniqueConstraint(fields=["carrier", "event_id"], name="tracking_event_once")]

    def __str__(self):
        return f"{self.carrier}:{self.event_id} {self.tag}"

    @property
    def moved(self):
        return bool(self.to_status)


class TrackingDispute(models.Model):
    """Packages of different shops that were given the same carrier's tracking number. While
    it is open the feed's events for the number move neither package (HeldTrackingEvent);
    staff decide in admin which package keeps the number (or none), from both shops'
    evidence, and the held events then go to that package."""

    class Status(models.TextChoices):
        OPEN = "OPEN", _("In dispute")
        RULED = "RULED", _("Ruled")

    carrier = models.CharField(max_length=16, choices=ALL_CARRIERS)
    tracking_number = models.CharField(max_length=40)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    opened_at = models.DateTimeField()
    kept_by = models.ForeignKey(Package, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                help_text="The package the ruling left the number with (empty: none).")
    ruled_at = models.DateTimeField(null=True, blank=True)
    ruled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+")
    ruling_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["carrier", "tracking_number"], condition=Q(status="OPEN"),
                                    name="tracking_dispute_open_once"),
        ]

    def __str__(self):
        return f"{self.get_carrier_display()} {self.tracking_number}"

    @property
    def is_open(self):
        return self.status == self.Status.OPEN


class TrackingClaim(models.Model):
    """One package's entry of a disputed number: which shop, when, through what (the evidence
    staff weigh, with the order and the handover photos)."""

    dispute = models.ForeignKey(TrackingDispute, on_delete=models.PROTECT, related_name="claims")
    package = models.ForeignKey(Package, on_delete=models.PROTECT, related_name="tracking_claims")
    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="+")
    entered_at = models.DateTimeField(help_text="When the package was given the number.")
    first = models.BooleanField(default=False, help_text="It held the number before the dispute opened.")

    class Meta:
        ordering = ["dispute", "entered_at", "id"]
        constraints = [models.UniqueConstraint(fields=["dispute", "package"], name="tracking_claim_once")]

    def __str__(self):
        return f"{self.dispute} claimed by package {self.package_id}"


class HeldTrackingEvent(models.Model):
    """A feed event for a disputed number, kept (once per carrier and event id) and applied to
    the package that keeps the number when staff rule; with no such package, kept unapplied."""

    dispute = models.ForeignKey(TrackingDispute, on_delete=models.PROTECT, related_name="held_events")
    carrier = models.CharField(max_length=16, choices=ALL_CARRIERS)
    event_id = models.CharField(max_length=100)
    tracking_number = models.CharField(max_length=40)
    tag = models.CharField(max_length=20, choices=TrackingEvent.Tag.choices)
    subtag = models.CharField(max_length=40, blank=True)
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField()
    location = models.CharField(max_length=200, blank=True)
    message = models.CharField(max_length=500, blank=True)
    released_at = models.DateTimeField(null=True, blank=True, help_text="When the ruling let it go.")
    released_to = models.ForeignKey(Package, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["occurred_at", "id"]
        constraints = [models.UniqueConstraint(fields=["carrier", "event_id"], name="held_tracking_event_once")]

    def __str__(self):
        return f"{self.carrier}:{self.event_id} {self.tag} (held)"

    def as_feed_event(self):
        """The event as the feed's parse_event gives it, to ingest after the ruling."""
        return {f: getattr(self, f) for f in ("event_id", "carrier", "tracking_number", "tag", "subtag", "location",
                                               "message", "occurred_at")}


def photo_path(instance, filename):
    return f"handover/{instance.package.shop_id}/{instance.package_id}/{instance.sha256[:16]}.{instance.ext}"


class HandoverPhoto(models.Model):
    """Proof of a package's condition at handover; served only through the shop's pages."""

    package = models.ForeignKey(Package, on_delete=models.PROTECT, related_name="photos")
    image = models.FileField(upload_to=photo_path)
    content_type = models.CharField(max_length=20)
    ext = models.CharField(max_length=5)
    size = models.PositiveIntegerField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField()

    class Meta:
        ordering = ["package", "uploaded_at", "id"]
        constraints = [models.UniqueConstraint(fields=["package", "sha256"], name="photo_once_per_package")]

    def __str__(self):
        return f"photo {self.pk} of {self.package_id}"


class PrintJob(models.Model):
    """One print of labels or packing slips: what, how big, by whom; a reprint points to its first print."""

    class Kind(models.TextChoices):
        LABEL = "label", _("Shipping label")
        PACKING_SLIP = "slip", _("Packing slip")

    class Size(models.TextChoices):
        FOUR_BY_SIX = "4x6", _("4 × 6 in")
        A6 = "A6", _("A6")
        A4 = "A4", _("A4 sheet, 4 a page")
        LETTER = "LTR", _("US Letter sheet, 4 a page")
        ZPL = "ZPL", _("ZPL (thermal printer, 4 × 6 in)")

    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="print_jobs")
    kind = models.CharField(max_length=5, choices=Kind.choices)
    size = models.CharField(max_length=3, choices=Size.choices)
    packages = models.ManyToManyField(Package, related_name="print_jobs")
    package_count = models.PositiveIntegerField()
    reprint_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="reprints")
    printed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    printed_at = models.DateTimeField()

    class Meta:
        ordering = ["-printed_at", "-id"]
        indexes = [models.Index(fields=["shop", "-printed_at", "-id"], name="printjob_shop_at")]

    def __str__(self):
        return f"{self.get_kind_display()} x{self.package_count} ({self.size})"


class TicketQuerySet(models.QuerySet):
    def for_shop(self, shop):
        return self.filter(shop=shop)


class Ticket(models.Model):
    """A seller's case for staff: a complaint about the carrier, or a force-majeure event."""

    class Kind(models.TextChoices):
        LOGISTICS_COMPLAINT = "complaint", _("Logistics complaint")  # the carrier was late to collect
        FORCE_MAJEURE = "force_majeure", _("Force majeure")  # an event outside the seller's control

    class Status(models.TextChoices):
        OPEN = "OPEN", _("Awaiting ruling")  # filed, staff have not ruled
        APPROVED = "APPROVED", _("Approved")  # staff agreed (force majeure: deadlines paused)
        REJECTED = "REJECTED", _("Rejected")  # staff disagreed, with a reason

    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="shipping_tickets")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    package = models.ForeignKey(Package, null=True, blank=True, on_delete=models.PROTECT, related_name="tickets")
    orders = models.ManyToManyField(Order, related_name="shipping_tickets", blank=True)
    description = models.TextField(max_length=4000)
    event_start = models.DateTimeField(null=True, blank=True, help_text="Force majeure: when the event began.")
    event_end = models.DateTimeField(null=True, blank=True, help_text="Force majeure: when it is expected to end.")
    paused_from = models.DateTimeField(null=True, blank=True, help_text="Deadlines paused from (set on approval).")
    paused_until = models.DateTimeField(null=True, blank=True, help_text="Deadlines paused until (set on approval).")
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    filed_at = models.DateTimeField()
    ruled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    ruled_at = models.DateTimeField(null=True, blank=True)
    ruling_note = models.TextField(blank=True)

    objects = TicketQuerySet.as_manager()

    class Meta:
        ordering = ["-filed_at", "-id"]
        indexes = [models.Index(fields=["shop", "-filed_at"], name="ticket_shop_filed")]

    def __str__(self):
        return f"{self.get_kind_display()} #{self.pk}"

    def can_rule(self):
        return self.status == Ticket.Status.OPEN


class TicketEvent(History):
    class Action(models.TextChoices):
        FILE = "file", _("Filed")
        APPROVE = "approve", _("Approved")
        REJECT = "reject", _("Rejected")

    ticket = models.ForeignKey(Ticket, on_delete=models.PROTECT, related_name="events")
    action = models.CharField(max_length=40, choices=Action.choices)
    from_status = models.CharField(max_length=10, choices=Ticket.Status.choices, blank=True)
    to_status = models.CharField(max_length=10, choices=Ticket.Status.choices, blank=True)
    data = None  # a ticket's own fields say what it is about

    class Meta(History.Meta):
        pass

    def __str__(self):
        return f"{self.ticket_id} {self.action}"
