"""A shop's API keys. The key is shown once; only its prefix is kept in clear and its
SHA-256 is what a request is checked against (the key is 32 random bytes, so a fast
hash is enough: there is nothing to guess)."""

from django.conf import settings
from django.db import models


class ApiKey(models.Model):
    class Scope(models.TextChoices):
        ORDERS_READ = "orders:read", "Read orders"
        ORDERS_WRITE = "orders:write", "Confirm, cancel and annotate orders"
        FULFILLMENT_WRITE = "fulfillment:write", "Pack, arrange and ship"
        RETURNS_READ = "returns:read", "Read requests and refunds"
        RETURNS_WRITE = "returns:write", "Answer requests and refund"
        INVENTORY_READ = "inventory:read", "Read stock"
        INVENTORY_WRITE = "inventory:write", "Change stock"
        WEBHOOKS_MANAGE = "webhooks:manage", "Manage webhooks"
        BUYER_FULL_ADDRESS = "buyer:full_address", "Read buyers' full addresses and phones, for printing labels"

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
