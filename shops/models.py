import zoneinfo
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Exists, F, OuterRef, Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .roles import Role

TIME_ZONES = sorted((tz, tz) for tz in zoneinfo.available_timezones())


class ShopQuerySet(models.QuerySet):
    def for_user(self, user):
        """The shops a user belongs to now (a removed member's row stays, for the history):
        the start of every seller lookup."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(memberships__user=user, memberships__removed_at__isnull=True)


class Shop(models.Model):
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60, unique=True)
    time_zone = models.CharField(max_length=64, choices=TIME_ZONES, default="UTC")
    currency = models.CharField(max_length=3, default="USD")
    email = models.EmailField(blank=True, help_text="The shop's contact address. Notification emails go to the "
                              "members whose role handles them, each as they choose, not here.")
    refund_limit = models.DecimalField(
        max_digits=12, decimal_places=2, default=Decimal("0.00"),
        help_text="The largest refund a Customer service member may give (the owner sets it on the team page).",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ShopQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def tzinfo(self):
        return zoneinfo.ZoneInfo(self.time_zone)


class MemberProfile(models.Model):
    """A person's own settings, whatever shop they work in: the language of their pages and of
    the emails they get. Blank follows the browser (Accept-Language)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, blank=True,
                                help_text=_("Empty: the browser's language."))
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.user}: {self.language or 'browser'}"


class MembershipQuerySet(models.QuerySet):
    def active(self):
        return self.filter(removed_at__isnull=True)


class Membership(models.Model):
    """A person in a shop with a role (shops.roles). Removing a member marks the row removed:
    it stays, so the history that names them still reads, and a re-invitation reuses it."""

    Role = Role

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.VIEWER)
    email_notifications = models.BooleanField(default=True, help_text="Email this member what their role hears "
                                              "about (the bell shows it either way).")
    joined_at = models.DateTimeField(default=timezone.now)
    removed_at = models.DateTimeField(null=True, blank=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["shop", "user"], name="membership_unique")]

    def __str__(self):
        return f"{self.user} @ {self.shop} ({self.role}{', removed' if self.removed_at else ''})"

    @property
    def active(self):
        return self.removed_at is None


class SKUQuerySet(models.QuerySet):
    def for_shop(self, shop):
        return self.filter(shop=shop)


class SKU(models.Model):
    """A sellable item of one shop. Stock on hand counts what is in the warehouse;
    reserved is the part promised to confirmed orders that have not shipped yet."""

    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="skus")
    code = models.CharField("seller SKU", max_length=64)
    name = models.CharField(max_length=200)
    price = models.DecimalField(max_digits=12, decimal_places=2)
    stock_on_hand = models.IntegerField(default=0)
    reserved = models.IntegerField(default=0)
    stock_version = models.PositiveIntegerField(default=0, help_text="Goes up with every stock change a person or "
                                                "system makes; a write naming an older version is refused.")

    objects = SKUQuerySet.as_manager()

    class Meta:
        verbose_name = "SKU"
        ordering = ["shop", "code"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "code"], name="sku_code_unique_per_shop"),
            models.CheckConstraint(condition=Q(stock_on_hand__gte=0), name="sku_stock_not_negative"),
            models.CheckConstraint(condition=Q(reserved__gte=0), name="sku_reserved_not_negative"),
            models.CheckConstraint(condition=Q(reserved__lte=F("stock_on_hand")), name="sku_reserved_within_stock"),
        ]

    def __str__(self):
        return f"{self.code} {self.name}"

    def save(self, *args, **kwargs):
        """A SKU saved with its totals (a new SKU, the admin, a test) puts the difference into its
        default warehouse's row, so the rows keep adding up to the totals."""
        adding = self._state.adding
        super().save(*args, **kwargs)
        fields = kwargs.get("update_fields")
        if adding or fields is None or {"stock_on_hand", "reserved"} & set(fields):
            from .stock import reconcile

            reconcile(SKU.objects.filter(pk=self.pk))

    @property
    def available(self):
        return self.stock_on_hand - self.reserved


class WarehouseQuerySet(models.QuerySet):
    def for_shop(self, shop):
        return self.filter(shop=shop)

    def active(self):
        return self.filter(archived_at__isnull=True)


ADDRESS_PARTS = ("line1", "line2", "city", "region", "postal_code", "country")


class Warehouse(models.Model):
    """Where a shop keeps stock and ships from: the pickup address (the carrier collects there, the
    label's sender), the return address (where buyers send returns), opening hours and a holiday
    mode. One warehouse per shop is the default: new orders reserve there when it has the stock.
    Archived, never deleted: orders and the stock ledger point at it."""

    class Holiday(models.TextChoices):
        NONE = "", _("Open")  # no holiday asked for
        REQUESTED = "requested", _("Holiday requested")  # waits for platform staff
        APPROVED = "approved", _("Holiday approved")  # the orders' deadlines were paused until its end
        REJECTED = "rejected", _("Holiday rejected")  # staff said no, with a reason

    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="warehouses")
    name = models.CharField(_("name"), max_length=80)
    is_default = models.BooleanField(_("default warehouse"), default=False)
    contact_name = models.CharField(_("contact name"), max_length=120, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    line1 = models.CharField(_("address line 1"), max_length=200, blank=True)
    line2 = models.CharField(_("address line 2"), max_length=200, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    region = models.CharField(_("region"), max_length=100, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=20, blank=True)
    country = models.CharField(_("country"), max_length=2, blank=True, help_text=_("Two-letter code (US, GB, VN)."))
    return_same = models.BooleanField(_("returns go to the pickup address"), default=True)
    return_name = models.CharField(_("returns contact"), max_length=120, blank=True)
    return_line1 = models.CharField(_("return address line 1"), max_length=200, blank=True)
    return_line2 = models.CharField(_("return address line 2"), max_length=200, blank=True)
    return_city = models.CharField(_("return city"), max_length=100, blank=True)
    return_region = models.CharField(_("return region"), max_length=100, blank=True)
    return_postal_code = models.CharField(_("return postal code"), max_length=20, blank=True)
    return_country = models.CharField(_("return country"), max_length=2, blank=True)
    opening_hours = models.CharField(_("opening hours"), max_length=200, blank=True,
                                     help_text=_("When the carrier can collect, e.g. Mon–Fri 09:00–17:00."))
    holiday = models.CharField(_("holiday"), max_length=10, choices=Holiday.choices, blank=True, default="")
    holiday_from = models.DateTimeField(null=True, blank=True)
    holiday_until = models.DateTimeField(null=True, blank=True)
    holiday_reason = models.CharField(max_length=500, blank=True)
    holiday_ruled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                         related_name="+")
    holiday_ruled_at = models.DateTimeField(null=True, blank=True)
    holiday_ruling_note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    archived_at = models.DateTimeField(null=True, blank=True)

    objects = WarehouseQuerySet.as_manager()

    class Meta:
        ordering = ["shop", "-is_default", "name"]
        constraints = [
            models.UniqueConstraint(fields=["shop"], condition=Q(is_default=True), name="warehouse_one_default"),
            models.UniqueConstraint(fields=["shop", "name"], name="warehouse_name_unique_per_shop"),
            models.CheckConstraint(condition=Q(is_default=False) | Q(archived_at__isnull=True),
                                   name="warehouse_default_not_archived"),
        ]

    def __str__(self):
        return f"{self.name} ({self.shop})" if self.shop_id else self.name

    def _address(self, prefix):
        parts = [getattr(self, prefix + p) for p in ADDRESS_PARTS]
        line1, line2, city, region, postal, country = parts
        return [p for p in [line1, line2, " ".join(x for x in [city, region, postal] if x), country] if p]

    @property
    def pickup_lines(self):
        """The pickup (sender) address as printed lines."""
        return self._address("")

    @property
    def return_lines(self):
        """Where buyers send returns, as printed lines."""
        return self.pickup_lines if self.return_same else self._address("return_")

    @property
    def return_contact(self):
        return (self.contact_name if self.return_same else self.return_name) or ""

    def on_holiday(self, now=None):
        now = now or timezone.now()
        return (self.holiday == self.Holiday.APPROVED and self.holiday_from is not None
                and self.holiday_from <= now < self.holiday_until)


class WarehouseStock(models.Model):
    """One SKU's stock in one warehouse. The SKU's stock_on_hand and reserved are the sums of its rows
    (every writer moves both in the same statement or transaction); bin_location is where it sits."""

    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="stock")
    sku = models.ForeignKey(SKU, on_delete=models.PROTECT, related_name="warehouse_stock")
    on_hand = models.IntegerField(default=0)
    reserved = models.IntegerField(default=0)
    bin_location = models.CharField(_("bin location"), max_length=32, blank=True,
                                    help_text=_("Aisle, shelf or bin, as the pick list sorts it (A-03-2)."))

    class Meta:
        ordering = ["warehouse", "sku"]
        constraints = [
            models.UniqueConstraint(fields=["warehouse", "sku"], name="warehouse_stock_once"),
            models.CheckConstraint(condition=Q(reserved__gte=0), name="warehouse_stock_reserved_not_negative"),
            models.CheckConstraint(condition=Q(reserved__lte=F("on_hand")), name="warehouse_stock_reserved_within"),
        ]
        indexes = [models.Index(fields=["sku", "warehouse"], name="warehouse_stock_by_sku")]

    def __str__(self):
        return f"{self.sku_id}@{self.warehouse_id}: {self.on_hand} ({self.reserved} reserved)"

    @property
    def available(self):
        return self.on_hand - self.reserved


class WarehouseEvent(models.Model):
    """The audit trail of a shop's warehouses, append-only: created, edited (what changed), made
    default, archived, holiday asked for, approved or rejected."""

    class Action(models.TextChoices):
        CREATED = "created", _("Created")
        EDITED = "edited", _("Edited")
        MADE_DEFAULT = "made_default", _("Made the default")
        ARCHIVED = "archived", _("Archived")
        HOLIDAY_REQUESTED = "holiday_requested", _("Holiday requested")
        HOLIDAY_WITHDRAWN = "holiday_withdrawn", _("Holiday withdrawn")
        HOLIDAY_APPROVED = "holiday_approved", _("Holiday approved")
        HOLIDAY_REJECTED = "holiday_rejected", _("Holiday rejected")

    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    actor_kind = models.CharField(max_length=12)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+")
    actor_label = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=20, choices=Action.choices)
    note = models.CharField(max_length=500, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.warehouse_id} {self.action}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("WarehouseEvent is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("WarehouseEvent is append-only.")


class StockChange(models.Model):
    """The append-only stock ledger: every change of a SKU's stock in a warehouse, who made it, when
    and why, with the figures before and after. A person's or system's change (count, goods received…)
    carries the SKU's new stock version; an order's reservation, release or shipment names the order
    and leaves the version as it was (a seller's edit does not go stale because an order came in)."""

    class Reason(models.TextChoices):
        COUNT = "count", _("Stock count")  # a counted figure replaces the old one
        RECEIVED = "received", _("Goods received")
        DAMAGED = "damaged", _("Damaged or lost in the warehouse")
        RETURNED = "returned", _("Returned to stock")
        CORRECTION = "correction", _("Correction")
        OTHER = "other", _("Other")
        RESERVED = "reserved", _("Reserved by an order")  # confirm
        RELEASED = "released", _("Released by a cancelled order")  # cancel before handover
        SHIPPED = "shipped", _("Shipped to the buyer")  # handed to the carrier

    # What a person or their system may give as a reason (the rest are the orders').
    MANUAL = (Reason.COUNT, Reason.RECEIVED, Reason.DAMAGED, Reason.RETURNED, Reason.CORRECTION, Reason.OTHER)

    sku = models.ForeignKey(SKU, on_delete=models.PROTECT, related_name="stock_changes")
    warehouse = models.ForeignKey(Warehouse, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()
    actor_kind = models.CharField(max_length=12)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+")
    actor_label = models.CharField(max_length=150, blank=True)
    reason = models.CharField(max_length=12, choices=Reason.choices)
    note = models.CharField(max_length=500, blank=True)
    on_hand_before = models.IntegerField()
    on_hand_after = models.IntegerField()
    reserved_before = models.IntegerField(default=0)
    reserved_after = models.IntegerField(default=0)
    version = models.PositiveIntegerField(help_text="The SKU's stock version after this change.")
    # The order, as a plain id and its number (shops sits below orders).
    order_id = models.BigIntegerField(null=True, blank=True)
    order_number = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["sku", "id"]
        constraints = [models.UniqueConstraint(fields=["sku", "version"], name="stock_change_version_once",
                                               condition=Q(order_id__isnull=True))]
        indexes = [models.Index(fields=["sku", "-id"], name="stock_change_sku_latest")]

    def __str__(self):
        return f"{self.sku_id} v{self.version}: {self.on_hand_before} → {self.on_hand_after}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("StockChange is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("StockChange is append-only.")

    @property
    def change(self):
        return self.on_hand_after - self.on_hand_before


class NotificationQuerySet(models.QuerySet):
    def for_member(self, membership):
        """What one member hears in their shop: the shop's notifications of the kinds their role
        handles (shops.roles.NOTIFY_PERMISSION), and those addressed to them."""
        from .roles import kinds_heard_by

        return self.filter(shop_id=membership.shop_id).filter(
            Q(user__isnull=True, kind__in=kinds_heard_by(membership.role)) | Q(user_id=membership.user_id))

    def with_read_by(self, user):
        """Each row annotated with `seen`: this member has read it (or it is settled for all)."""
        return self.annotate(seen=Exists(NotificationRead.objects.filter(notification=OuterRef("pk"), user=user)))

    def unread_by(self, user):
        return self.filter(read_at__isnull=True).exclude(
            Exists(NotificationRead.objects.filter(notification=OuterRef("pk"), user=user)))

    def unread(self):
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    """The bell: something a shop should look at (new order, policy action, request, message)."""

    class Kind(models.TextChoices):
        NEW_ORDER = "new_order", "New order"  # a paid order awaits confirmation
        POLICY = "policy", "Platform action"  # a scheduled rule changed an order
        REMINDER = "reminder", "Reminder"  # a deadline is near
        REQUEST = "request", "Buyer request"  # cancellation / return request news
        MESSAGE = "message", "Message"  # a buyer wrote
        SHIPPING = "shipping", "Shipping"  # complaint or ticket news
        INTEGRATION = "integration", "Integration"  # a webhook endpoint failed for a day and was turned off

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="notifications")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications",
        help_text="Empty: everyone in the shop.",
    )
    kind = models.CharField(max_length=12, choices=Kind.choices)
    text = models.CharField(max_length=300)
    url = models.CharField(max_length=300, blank=True)
    # The order it is about, as a plain id (shops sits below orders): when the order no
    # longer needs what it asked for (a new order confirmed or cancelled), it reads as read.
    about_order = models.PositiveBigIntegerField(null=True, blank=True, help_text="The order it is about (its id).")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True, help_text="Settled for everyone (the order it asked about "
                                   "has moved on). Each member's own reading is a NotificationRead.")

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["shop", "read_at", "-created_at"], name="notification_shop_unread"),
            models.Index(fields=["about_order"], name="notification_unread_order",
                         condition=Q(read_at__isnull=True, about_order__isnull=False)),
        ]

    def __str__(self):
        return self.text


class NotificationRead(models.Model):
    """One member has read one notification: each member keeps their own read state."""

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="reads")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    read_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "notification"], name="notification_read_once")]

    def __str__(self):
        return f"{self.user_id} read {self.notification_id}"


class PolicyWindow(models.Model):
    """One version of a platform rule's window (SPEC "Platform policies", P1-P12, and
    P13-P14 that see every return to an end).

    Staff never edit a version: a change adds the next version, so every automated
    action can say which version fired it. Kept in shops, the lowest app, because every
    app's rules and deadlines read it.
    """

    rule = models.CharField(max_length=4, db_index=True)
    version = models.PositiveIntegerField()
    hours = models.DecimalField(max_digits=8, decimal_places=2, help_text="The window, in hours (P6: attempts).")
    enabled = models.BooleanField(default=True)
    note = models.CharField(max_length=300, blank=True, help_text="Why it changed.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["rule", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["rule", "version"], name="policy_window_version_unique"),
            models.CheckConstraint(condition=Q(hours__gte=0), name="policy_window_not_negative"),
        ]

    def __str__(self):
        return f"{self.rule} v{self.version}: {self.hours} h{'' if self.enabled else ' (off)'}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Policy windows are versioned: add a new version instead of editing one.")
        super().save(*args, **kwargs)


class Invitation(models.Model):
    """An owner's invitation to join a shop with a role, sent by email as a signed link
    (shops.team.invitation_token) that expires and works once. The row keeps who invited whom
    and how it ended (accepted, revoked, or replaced by a newer invitation to the same address)."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=20, choices=Role.choices)
    nonce = models.CharField(max_length=64, help_text="The random part of the link; a new invitation, a new nonce.")
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(Lower("email"), "shop", name="invitation_open_once_per_address",
                                    condition=Q(accepted_at__isnull=True, revoked_at__isnull=True)),
        ]

    def __str__(self):
        return f"{self.email} → {self.shop} as {self.get_role_display()}"

    def is_open(self, now=None):
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > (now or timezone.now())

    @property
    def state(self):
        if self.accepted_at:
            return "accepted"
        if self.revoked_at:
            return "revoked"
        return "expired" if self.expires_at <= timezone.now() else "pending"


class TeamEvent(models.Model):
    """The team's audit trail, append-only: every invitation, join, role change, removal and
    refund-limit change, with who did it. The owner reads it on the team page, staff in admin."""

    class Action(models.TextChoices):
        INVITED = "invited", "Invited"
        INVITATION_REVOKED = "invitation_revoked", "Invitation revoked"
        JOINED = "joined", "Joined"
        ROLE_CHANGED = "role_changed", "Role changed"
        REMOVED = "removed", "Removed"
        REFUND_LIMIT = "refund_limit", "Refund limit changed"

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="team_events")
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+")
    actor_label = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=20, choices=Action.choices)
    member = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+", help_text="The member it is about (empty for an invitation).")
    email = models.EmailField(blank=True, help_text="The invited address.")
    from_value = models.CharField(max_length=40, blank=True)
    to_value = models.CharField(max_length=40, blank=True)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["shop", "-at"], name="teamevent_shop_at")]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.get_action_display()} {self.member or self.email}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("TeamEvent is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("TeamEvent is append-only.")

    @property
    def words(self):
        """What happened, in the team page's words."""
        labels = dict(Role.choices)
        who = self.member.get_username() if self.member_id else self.email
        if self.action == self.Action.INVITED:
            return f"Invited {self.email} as {labels.get(self.to_value, self.to_value)}"
        if self.action == self.Action.INVITATION_REVOKED:
            return f"Revoked the invitation of {self.email}"
        if self.action == self.Action.JOINED:
            return f"{who} joined as {labels.get(self.to_value, self.to_value)}"
        if self.action == self.Action.ROLE_CHANGED:
            return (f"Changed {who} from {labels.get(self.from_value, self.from_value)} "
                    f"to {labels.get(self.to_value, self.to_value)}")
        if self.action == self.Action.REMOVED:
            return f"Removed {who} ({labels.get(self.from_value, self.from_value)})"
        return f"Set the customer-service refund limit from {self.from_value} to {self.to_value}"


class ShopEvent(models.Model):
    """The shop's change feed and the webhooks' outbox: one row per change of an order, package,
    request, refund, message or SKU, written in the same transaction as the change (a rollback
    leaves none). `position` is the feed's order: empty when written, assigned after commit by one
    sequencer at a time (api.outbox), so a reader paging by position never skips a change that
    committed late. The id only grows per object (changes of one object are serialised by its
    row lock), which makes it the object's sequence number for receivers."""

    class Type(models.TextChoices):
        ORDER_CREATED = "order.created", "Order created"
        ORDER_PAID = "order.paid", "Order paid"
        ORDER_STATUS_CHANGED = "order.status_changed", "Order status changed"
        ORDER_UPDATED = "order.updated", "Order updated (note, flag, deadline)"
        PACKAGE_UPDATED = "package.updated", "Package updated"
        REQUEST_STATUS_CHANGED = "request.status_changed", "Request status changed"
        REQUEST_UPDATED = "request.updated", "Request updated (reminder, deadline)"
        REFUND_CREATED = "refund.created", "Refund created"
        MESSAGE_CREATED = "message.created", "Message created"
        STOCK_CHANGED = "stock.changed", "Stock changed"
        STOCK_LOW = "stock.low", "Stock low"

    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="+", db_index=False)
    position = models.BigIntegerField(null=True, blank=True, unique=True)
    type = models.CharField(max_length=32, choices=Type.choices)
    object_type = models.CharField(max_length=12)
    object_id = models.BigIntegerField()
    object_key = models.CharField(max_length=64, help_text="The order, package or request number, or the SKU code.")
    order_number = models.CharField(max_length=32, blank=True)
    action = models.CharField(max_length=40, blank=True)
    from_status = models.CharField(max_length=24, blank=True)
    to_status = models.CharField(max_length=24, blank=True)
    at = models.DateTimeField(help_text="When the change happened (the history row's time).")
    recorded_at = models.DateTimeField(default=timezone.now, help_text="When the row was written.")
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["shop", "position"], name="shopevent_feed"),
            models.Index(fields=["id"], name="shopevent_unsequenced", condition=Q(position__isnull=True)),
        ]

    def __str__(self):
        return f"{self.type} {self.object_key}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValueError("ShopEvent is append-only (only the sequencer sets its position).")
        super().save(*args, **kwargs)


class FeedSequencer(models.Model):
    """One row: the last feed position handed out. Locking it is what lets one sequencer run at a time."""

    last_position = models.BigIntegerField(default=0)
    ran_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"feed sequenced up to {self.last_position}"
