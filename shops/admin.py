"""Staff's view of shops, their people, their catalog and their bell.

Reserved stock belongs to the order actions (confirm reserves, shipment and cancellation
release), so it is never typed in here; a shop's slug and currency are fixed once it exists
because URLs, notifications and prices already carry them.
"""

from django import forms
from django.contrib import admin

from .models import SKU, Membership, Notification, Shop


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


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = ["user", "role"]
    autocomplete_fields = ["user"]


@admin.register(Shop)
class ShopAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "currency", "time_zone", "email", "created_at"]
    list_filter = ["currency"]
    search_fields = ["name", "slug", "email"]
    inlines = [MembershipInline]

    def get_prepopulated_fields(self, request, obj=None):
        return {} if obj else {"slug": ["name"]}

    def get_readonly_fields(self, request, obj=None):
        # Seller URLs and stored notification links carry the slug; SKU prices and orders the currency.
        # The refund limit is the owner's, set on the team page, where the change is in the team's audit trail.
        return ["slug", "currency", "refund_limit", "created_at"] if obj else ["refund_limit", "created_at"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "shop", "role"]
    list_filter = ["role", "shop"]
    search_fields = ["user__username", "user__email", "shop__name", "shop__slug"]
    list_select_related = ["user", "shop"]
    autocomplete_fields = ["user", "shop"]


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
        return ["shop", "reserved", "available"] if obj else ["reserved", "available"]

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
