"""Staff see every shop's API keys, webhooks and what was sent to whom: read-only (keys are revoked
and webhooks turned off by their shop's owner; a delivery log is evidence)."""

from django.contrib import admin

from shops.admin import ReadOnlyAdmin, ReadOnlyInline

from .models import ApiKey, Webhook, WebhookAttempt, WebhookDelivery


@admin.register(ApiKey)
class ApiKeyAdmin(ReadOnlyAdmin):
    list_display = ["name", "prefix", "shop", "created_at", "last_used_at", "last_used_ip", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "prefix", "shop__name", "shop__slug"]
    list_select_related = ["shop"]
    exclude = ["key_hash"]


@admin.register(Webhook)
class WebhookAdmin(ReadOnlyAdmin):
    list_display = ["url", "shop", "active", "disabled_reason", "created_at", "removed_at"]
    list_filter = ["active"]
    search_fields = ["url", "shop__name", "shop__slug"]
    list_select_related = ["shop"]
    exclude = ["secret", "previous_secret", "events_match"]


class AttemptInline(ReadOnlyInline):
    model = WebhookAttempt
    fields = ["at", "response_code", "error", "duration_ms", "redelivery"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = ["id", "webhook", "event", "status", "attempts", "response_code", "last_attempt_at",
                    "next_attempt_at"]
    list_filter = ["status"]
    search_fields = ["webhook__url", "event__object_key"]
    list_select_related = ["webhook", "event"]
    raw_id_fields = ["webhook", "event"]
    inlines = [AttemptInline]
