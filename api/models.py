"""A shop's API keys. The key is shown once; only its prefix is kept in clear and its
SHA-256 is what a request is checked against (the key is 32 random bytes, so a fast
hash is enough: there is nothing to guess)."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ApiKey(models.Model):
    class Scope(models.TextChoices):
        ORDERS_READ = "orders:read", _("Read orders")
        ORDERS_WRITE = "orders:write", _("Confirm, cancel and annotate orders")
        FULFILLMENT_WRITE = "fulfillment:write", _("Pack, arrange and ship")
        RETURNS_READ = "returns:read", _("Read requests and refunds")
        RETURNS_WRITE = "returns:write", _("Answer requests and refund")
        INVENTORY_READ = "inventory:read", _("Read stock")
        INVENTORY_WRITE = "inventory:write", _("Change stock")
        WEBHOOKS_MANAGE = "webhooks:manage", _("Manage webhooks")
        BUYER_FULL_ADDRESS = "buyer:full_address", _("Read buyers' full addresses and phones, for printing labels")

    shop = models.ForeignKey("shops.Shop", on_delete=models.PROTECT, related_name="api_keys")
    name = models.CharField(max_length=80, help_text="What uses it, e.g. 'ERP' or '3PL warehouse'.")
    prefix = models.CharField(max_length=16, unique=True, help_text="The key's first characters, kept in clear.")
    key_hash = models.CharField(max_length=64, unique=True)
    scopes = models.JSONField(default=list)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_used_ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        verbose_name = "API key"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["shop", "-created_at"], name="apikey_shop_created")]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def active(self):
        return self.revoked_at is None


class IdempotentRequest(models.Model):
    """The first answer to a POST with an Idempotency-Key, replayed for a repeat with the
    same key and body. Kept for a day (api.idempotency.HOURS). The row is claimed in the
    action's transaction, so a concurrent repeat with the same key waits for the first to
    commit and replays its answer: the action runs once."""

    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of method, path and body.")
    status = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Empty while the first request runs.")
    response = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["api_key", "key"], name="idempotency_key_once")]
        indexes = [models.Index(fields=["created_at"], name="idempotency_created")]

    def __str__(self):
        return f"{self.key} ({self.status or 'running'})"


class Webhook(models.Model):
    """A shop's subscription: changes of the listed event types are POSTed to `url`, signed per
    the Standard Webhooks specification with `secret` (whsec_ + base64). Removing one keeps the
    row and its deliveries (removed_at): a dispute may need what was sent."""

    shop = models.ForeignKey("shops.Shop", on_delete=models.PROTECT, related_name="webhooks")
    url = models.CharField(max_length=2000, help_text="http(s) URL of the receiver (checked by api.outbox.url_problem).")
    description = models.CharField(max_length=200, blank=True)
    events = models.JSONField(default=list, help_text="Event types, e.g. order.status_changed.")
    # The same list as ",a,b,": the sequencer matches an event's type with one LIKE on either database.
    events_match = models.CharField(max_length=1000, editable=False)
    secret = models.CharField(max_length=100)
    previous_secret = models.CharField(max_length=100, blank=True,
                                       help_text="Still signed with, next to the new one, for a day after a rotation.")
    previous_secret_until = models.DateTimeField(null=True, blank=True)
    active = models.BooleanField(default=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    created_by_label = models.CharField(max_length=150, blank=True, help_text="The member or API key that made it.")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["shop", "-created_at"], name="webhook_shop_created")]

    def __str__(self):
        return f"{self.url} ({', '.join(self.events)})"

    def save(self, *args, **kwargs):
        self.events_match = "," + ",".join(self.events) + ","
        super().save(*args, **kwargs)


class WebhookDelivery(models.Model):
    """One event for one webhook. Made by the sequencer (api.outbox) for every committed event the
    webhook listens to; tried until the receiver answers 2xx, on a backoff schedule of about a day.
    `msg_id` is the webhook-id header, the same on every attempt, so a receiver can drop repeats."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to be sent")
        SUCCEEDED = "succeeded", _("Delivered")
        FAILED = "failed", _("Failed (gave up)")
        HELD = "held", _("Held: the webhook is turned off")

    webhook = models.ForeignKey(Webhook, on_delete=models.PROTECT, related_name="deliveries", db_index=False)
    event = models.ForeignKey("shops.ShopEvent", on_delete=models.PROTECT, related_name="+", db_index=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "webhook deliveries"
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["webhook", "event"], name="delivery_once_per_event")]
        indexes = [
            models.Index(fields=["next_attempt_at", "id"], name="delivery_due",
                         condition=models.Q(status="pending")),
            models.Index(fields=["webhook", "-id"], name="delivery_log"),
        ]

    def __str__(self):
        return f"{self.msg_id} {self.status}"

    @property
    def msg_id(self):
        return f"msg_{self.event_id}_{self.webhook_id}"


class WebhookAttempt(models.Model):
    """Every try of a delivery, append-only: when, what the receiver answered, how long it took."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.PROTECT, related_name="attempt_log")
    at = models.DateTimeField()
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    redelivery = models.BooleanField(default=False, help_text="Asked for by the shop after the delivery ended.")

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"{self.delivery_id} at {self.at:%Y-%m-%d %H:%M:%S}: {self.response_code or self.error}"
