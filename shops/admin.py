"""Staff's view of shops, their people, their catalog and their bell.

Reserved stock belongs to the order actions (confirm reserves, shipment and cancellation
release), so it is never typed in here; a shop's slug and currency are fixed once it exists
because URLs, notifications and prices already carry them.
"""

from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html_join

from core.actor import Actor

from . import warehouses
from .models import (
    SKU,
    Invitation,
    Membership,
    Notification,
    Shop,
    ShopEvent,
    StockChange,
    TeamEvent,
    Warehouse,
    WarehouseEvent,
)


class ReadOnlyInline(admin.TabularInline):
    """An inline for records nothing may change from the admin (history, lines, refunds)."""

    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def _audit_membership(request, membership, changed):
    """A role staff set, or a member staff add, is in the team's audit trail like the owner's."""
    if membership.pk is None or not changed:
        return
    TeamEvent.objects.create(shop_id=membership.shop_id, actor=request.user, actor_label=request.user.get_username(),
                             action=TeamEvent.Action.ROLE_CHANGED if changed == "role" else TeamEvent.Action.JOINED,
                             member_id=membership.user_id, to_value=membership.role, note="by platform staff")


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = ["user", "role", "removed_at"]
    readonly_fields = ["removed_at"]
    autocomplete_fields = ["user"]
    can_delete = False  # a member leaves through the team page (marked removed; their history stays)


@admin.register(Shop)
class ShopAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "currency", "time_zone", "email", "created_at"]
    list_filter = ["currency"]
    search_fields = ["name", "slug", "email"]
    inlines = [MembershipInline]

    def get_prepopulated_fields(self, request, obj=None):
        return {} if obj else {"slug": ["name"]}

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        if formset.model is Membership:
            for membership in formset.new_objects:
                _audit_membership(request, membership, "added")
            for membership, fields in formset.changed_objects:
                if "role" in fields:
                    _audit_membership(request, membership, "role")

    def get_readonly_fields(self, request, obj=None):
        # Seller URLs and stored notification links carry the slug; SKU prices and orders the currency.
        # The refund limit is the owner's, set on the team page, where the change is in the team's audit trail.
        return ["slug", "currency", "refund_limit", "created_at"] if obj else ["refund_limit", "created_at"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "shop", "role", "joined_at", "removed_at"]
    list_filter = ["role", ("removed_at", admin.EmptyFieldListFilter), "shop"]
    search_fields = ["user__username", "user__email", "shop__name", "shop__slug"]
    list_select_related = ["user", "shop"]
    autocomplete_fields = ["user", "shop"]
    readonly_fields = ["joined_at", "removed_at"]

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        _audit_membership(request, obj, "role" if change and "role" in form.changed_data else
                          ("added" if not change else None))


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    """Read-only: owners invite and revoke on their team page."""

    list_display = ["created_at", "shop", "email", "role", "invited_by", "expires_at", "accepted_at", "revoked_at"]
    list_filter = ["role", "shop"]
    search_fields = ["email", "shop__name", "shop__slug"]
    list_select_related = ["shop", "invited_by"]
    exclude = ["nonce"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(TeamEvent)
class TeamEventAdmin(admin.ModelAdmin):
    """The team's audit trail, as the owner reads it: append-only."""

    list_display = ["at", "shop", "action", "words", "actor_label"]
    list_filter = ["action", "shop"]
    search_fields = ["email", "member__username", "actor_label", "shop__name", "shop__slug"]
    list_select_related = ["shop", "member"]
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class SKUForm(forms.ModelForm):
    class Meta:
        model = SKU
        fields = ["shop", "code", "name", "price", "stock_on_hand"]

    def clean(self):
        data = super().clean()
        stock = data.get("stock_on_hand")
        if self.instance.pk is not None and stock is not None:
            # The admin saves inside one transaction: the lock holds until the save, so a
            # confirmation cannot reserve more in between.
            reserved = SKU.objects.select_for_update().values_list("reserved", flat=True).get(pk=self.instance.pk)
            self.instance.reserved = reserved
            if stock < reserved:
                self.add_error(
                    "stock_on_hand", f"{reserved} are reserved for confirmed orders; stock on hand cannot be less."
                )
        if stock is not None and stock < 0:
            self.add_error("stock_on_hand", "Stock on hand cannot be negative.")
        return data


@admin.register(SKU)
class SKUAdmin(admin.ModelAdmin):
    form = SKUForm
    list_display = ["shop", "code", "name", "price", "stock_on_hand", "reserved", "available"]
    list_filter = ["shop"]
    search_fields = ["code", "name"]
    list_select_related = ["shop"]
    autocomplete_fields = ["shop"]
    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):
        # A SKU with orders stays in its shop: its lines and reservations point at it.
        return ["shop", "reserved", "available", "per_warehouse", "ledger"] if obj else ["reserved", "available"]

    @admin.display(description="stock per warehouse")
    def per_warehouse(self, obj):
        rows = obj.warehouse_stock.select_related("warehouse").order_by("warehouse__name")
        return format_html_join(
            "", "<div>{}: {} on hand, {} reserved{}</div>",
            ((r.warehouse.name, r.on_hand, r.reserved, f" (bin {r.bin_location})" if r.bin_location else "")
             for r in rows)) or "—"

    @admin.display(description="stock ledger (latest 50)")
    def ledger(self, obj):
        changes = StockChange.objects.filter(sku=obj).select_related("warehouse").order_by("-id")[:50]
        return format_html_join(
            "", "<div>{} · {} · {} · {}{} · on hand {} → {} · reserved {} → {}</div>",
            ((f"{c.at:%Y-%m-%d %H:%M}", c.warehouse.name if c.warehouse else "—", c.get_reason_display(),
              c.actor_label or c.actor_kind, f" · {c.order_number}" if c.order_number else "", c.on_hand_before,
              c.on_hand_after, c.reserved_before, c.reserved_after) for c in changes)) or "—"

    @admin.display(description="available")
    def available(self, obj):
        return obj.available

    def save_model(self, request, obj, form, change):
        if change:
            # Never write `reserved` back: the actions own it.
            changed = [f for f in form.changed_data if f != "shop"]
            if changed:
                obj.save(update_fields=changed)
        else:
            super().save_model(request, obj, form, change)


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """Read-mostly: staff look at what a shop was told; the bell is the shop's to clear."""

    list_display = ["created_at", "shop", "user", "kind", "text", "read_at"]
    list_filter = ["kind", ("read_at", admin.EmptyFieldListFilter), "shop"]
    search_fields = ["text", "shop__name", "shop__slug"]
    list_select_related = ["shop", "user"]
    date_hierarchy = "created_at"
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    """A model admin for records staff read and never change here (the change feed, delivery logs)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ShopEvent)
class ShopEventAdmin(ReadOnlyAdmin):
    """The shops' change feed (what the API's /events and the webhooks carry): read-only."""

    list_display = ["id", "position", "shop", "type", "object_type", "object_key", "action", "from_status", "to_status",
                    "at"]
    list_filter = ["type", "object_type"]
    search_fields = ["object_key", "order_number"]
    list_select_related = ["shop"]
    show_full_result_count = False


class HolidayRulingForm(forms.ModelForm):
    """Staff answer a holiday request here; the answer goes through shops.warehouses.rule_holiday."""

    decision = forms.ChoiceField(choices=[("", "— no ruling —"), ("approve", "Approve the holiday"),
                                          ("reject", "Reject the holiday")], required=False)
    ruling_note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False,
                                  help_text="Required to reject; shown to the seller.")

    class Meta:
        model = Warehouse
        fields = []

    def clean(self):
        data = super().clean()
        if data.get("decision") and self.instance.holiday != Warehouse.Holiday.REQUESTED:
            raise forms.ValidationError("There is no holiday request waiting on this warehouse.")
        if data.get("decision") == "reject" and not (data.get("ruling_note") or "").strip():
            self.add_error("ruling_note", "Say why the holiday is rejected.")
        return data


@admin.register(Warehouse)
class WarehouseAdmin(admin.ModelAdmin):
    """Staff read a shop's warehouses and answer holiday requests (approving pauses the deadlines of
    the warehouse's open orders until the holiday ends, as an approved force majeure does)."""

    form = HolidayRulingForm
    list_display = ["name", "shop", "is_default", "city", "country", "holiday", "holiday_from", "holiday_until",
                    "archived_at"]
    list_filter = ["holiday", "is_default"]
    search_fields = ["name", "shop__name", "shop__slug"]
    list_select_related = ["shop"]
    readonly_fields = ["shop", "name", "is_default", "contact_name", "phone", "line1", "line2", "city", "region",
                       "postal_code", "country", "return_same", "return_name", "return_line1", "return_line2",
                       "return_city", "return_region", "return_postal_code", "return_country", "opening_hours",
                       "holiday", "holiday_from", "holiday_until", "holiday_reason", "holiday_ruled_by",
                       "holiday_ruled_at", "holiday_ruling_note", "archived_at", "history"]
    fieldsets = [(None, {"fields": readonly_fields}), ("Holiday ruling", {"fields": ["decision", "ruling_note"]})]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="history")
    def history(self, obj):
        events = WarehouseEvent.objects.filter(warehouse=obj).order_by("-id")[:50]
        return format_html_join("", "<div>{} · {} · {}{}</div>", (
            (f"{e.at:%Y-%m-%d %H:%M}", e.get_action_display(), e.actor_label or e.actor_kind,
             f" · {e.note}" if e.note else "") for e in events)) or "—"

    def save_model(self, request, obj, form, change):
        decision = form.cleaned_data.get("decision")
        if not decision:
            return
        try:
            warehouses.rule_holiday(warehouse=obj, approve=decision == "approve", actor=Actor.staff(request.user),
                                    note=form.cleaned_data.get("ruling_note") or "")
        except warehouses.WarehouseRefused as exc:
            messages.error(request, str(exc))
