"""Staff's view of every shop's orders and their audit trail.

An order's page is read-only: staff move an order only through the overrides below, which
call the same orders.actions as the sellers' pages do, as Actor.staff, with a reason that
goes into the order's history. Nothing here deletes an order, a line, a message or an event.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from core.actor import Actor
from core.refusals import Refused
from shops.admin import ReadOnlyInline

from . import actions, registry, transitions
from .models import Order, OrderEvent, OrderLine, OrderMessage, OrderStatusCount
from .transitions import ACTION_LABELS, TRANSITIONS

# One override touches at most this many orders; policies, not clicks, move thousands.
OVERRIDE_LIMIT = 500
# Refusals listed one by one before the rest are counted.
REFUSALS_SHOWN = 20


# --- staff overrides -----------------------------------------------------------------


@dataclass(frozen=True)
class Override:
    """The orders.actions call behind one transition, given the reason form's data."""

    run: Callable  # (order, actor, data) -> None; raises InvalidTransition or ActionRefused
    cancels: bool = False  # asks for a cancellation reason too
    cancel_reason: str = ""  # the reason offered first


def _noted(action):
    def run(order, actor, data):
        action(order=order, actor=actor, note=data["reason"])

    return run


def _cancelling(action):
    def run(order, actor, data):
        action(order=order, actor=actor, reason=data["cancel_reason"], note=data["reason"])

    return run


OVERRIDES: dict[str, Override] = {
    "pay": Override(_noted(actions.pay_order)),
    "confirm": Override(_noted(actions.confirm_order)),
    "arrange_shipment": Override(_noted(actions.arrange_shipment)),
    "mark_in_transit": Override(_noted(actions.mark_in_transit)),
    "mark_delivered": Override(_noted(actions.mark_delivered)),
    "complete": Override(_noted(actions.complete_order)),
    "cancel": Override(_cancelling(actions.cancel_order), cancels=True),
    "cancel_in_transit": Override(
        _cancelling(actions.cancel_in_transit), cancels=True, cancel_reason=Order.CancelReason.DELIVERY_FAILED
    ),
}


class OverrideForm(forms.Form):
    reason = forms.CharField(
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        help_text="Why staff step in: kept in each order's history with your name.",
    )

    def __init__(self, name, *args, **kwargs):
        super().__init__(*args, **kwargs)
        override = OVERRIDES[name]
        if override.cancels:
            self.fields["cancel_reason"] = forms.ChoiceField(
                label="Cancellation reason",
                choices=[("", "---------"), *Order.CancelReason.choices],
                initial=override.cancel_reason,
            )
            self.order_fields(["cancel_reason", "reason"])
            self.fields["reason"].help_text += " The buyer is told only the cancellation reason."


def _refusal(order, name):
    """Why an override would be refused for this order, or None: its status, or a higher
    app's guard (an order that ships in packages moves with them)."""
    if not transitions.allowed(name, order.status):
        return order.get_status_display().lower()
    return registry.override_refusal(order, name)


def _override_label(name):
    return ACTION_LABELS.get(name, name.replace("_", " "))


def _override_action(name):
    def action(modeladmin, request, queryset):
        return modeladmin.override(request, queryset, name)

    action.__name__ = f"override_{name}"
    return admin.action(description=f"Staff override: {_override_label(name)}…", permissions=["change"])(action)


# --- inlines -------------------------------------------------------------------------


class OrderLineInline(ReadOnlyInline):
    model = OrderLine
    fields = ["sku", "sku_code", "name", "quantity", "unit_price", "line_total"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("sku")

    @admin.display(description="line total")
    def line_total(self, obj):
        return obj.line_total


class OrderEventInline(ReadOnlyInline):
    model = OrderEvent
    verbose_name_plural = "history (oldest first)"
    fields = ["at", "action", "from_status", "to_status", "actor_kind", "actor_label", "note", "data"]
    readonly_fields = fields
    ordering = ["at", "id"]


class OrderMessageInline(ReadOnlyInline):
    model = OrderMessage
    fields = ["created_at", "sender", "author", "body"]
    readonly_fields = fields
    ordering = ["created_at", "id"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("author")


class NoDelete:
    def has_delete_permission(self, request, obj=None):
        return False


# --- orders --------------------------------------------------------------------------


@admin.register(Order)
class OrderAdmin(NoDelete, admin.ModelAdmin):
    list_display = ["number", "shop", "status", "shipping_model", "buyer_name", "total_with_currency", "placed_at",
                    "ship_by"]
    list_filter = ["status", "shipping_model", "shop", ("placed_at", admin.DateFieldListFilter)]
    search_fields = ["number", "buyer_name", "buyer_email", "=lines__sku_code"]
    date_hierarchy = "placed_at"
    list_select_related = ["shop"]
    show_full_result_count = False
    inlines = [OrderLineInline, OrderEventInline, OrderMessageInline]
    actions = [_override_action(name) for name in OVERRIDES]
    fieldsets = [
        (None, {"fields": ["number", "shop", "status", "staff_overrides", "shipping_model", "total", "currency",
                           "item_count", "items_summary"]}),
        ("Buyer", {"fields": ["buyer_name", "buyer_email", "buyer_phone", "address_line1", "address_line2", "city",
                              "region", "postal_code", "country"]}),
        ("Timeline", {"fields": ["placed_at", "paid_at", "confirmed_at", "shipped_at", "delivered_at", "completed_at",
                                 "cancelled_at", "status_changed_at"]}),
        ("Deadlines and flags", {"fields": ["ship_by", "handover_by", "auto_cancel_at", "deadlines_paused_until",
                                            "late_dispatch_at", "handover_overdue_at", "tracking_reminder_at"]}),
        ("Cancellation", {"fields": ["cancel_reason", "cancel_note"]}),
        ("Record", {"classes": ["collapse"], "fields": ["source_digest", "created_at", "updated_at"]}),
    ]
    readonly_fields = [f.name for f in Order._meta.fields] + ["staff_overrides"]

    def get_actions(self, request):
        # Django's bulk delete would hard-delete orders; nothing here deletes.
        actions_ = super().get_actions(request)
        actions_.pop("delete_selected", None)
        return actions_

    def has_add_permission(self, request):
        return False  # orders arrive from the storefront

    def has_change_permission(self, request, obj=None):
        # The overrides need change permission on orders; one order's page stays read-only
        # (Django's view mode), so no form ever writes an order's fields.
        if obj is not None:
            return False
        return super().has_change_permission(request)

    @admin.display(description="total", ordering="total")
    def total_with_currency(self, obj):
        return f"{obj.total} {obj.currency}"

    @admin.display(description="staff overrides")
    def staff_overrides(self, obj):
        if obj.pk is None:
            return "—"
        allowed = [name for name in OVERRIDES if transitions.allowed(name, obj.status)]
        if not allowed:
            return f"None: no transition leaves {obj.get_status_display().lower()}."
        return format_html_join(
            " ", '<a class="button" href="{}">{}</a>',
            ((reverse("admin:orders_order_override", args=[obj.pk, name]), _override_label(name).capitalize())
             for name in allowed),
        )

    # --- the override flow: one helper for every transition ---------------------------

    def get_urls(self):
        return [
            path("<int:pk>/override/<str:name>/", self.admin_site.admin_view(self.override_view),
                 name="orders_order_override"),
            *super().get_urls(),
        ]

    def override_view(self, request, pk, name):
        """One order's override, from the buttons on its page."""
        if name not in OVERRIDES:
            raise PermissionDenied
        if not self.has_change_permission(request):
            raise PermissionDenied
        order = get_object_or_404(Order.objects.select_related("shop"), pk=pk)
        response = self.override(request, Order.objects.filter(pk=order.pk), name,
                                 bound=request.method == "POST", from_changelist=False)
        return response or redirect("admin:orders_order_change", order.pk)

    def override(self, request, queryset, name, *, bound=None, from_changelist=True):
        """Ask for the reason (and a cancellation reason), then run the action on each order.

        From the changelist the first POST is Django's action submit; the confirmation page
        posts back the same action and selection with `apply`, which binds the form."""
        if bound is None:
            bound = "apply" in request.POST
        orders = list(queryset.select_related("shop").order_by("placed_at", "pk")[: OVERRIDE_LIMIT + 1])
        if len(orders) > OVERRIDE_LIMIT:
            self.message_user(request, f"Select at most {OVERRIDE_LIMIT} orders for one override.", messages.ERROR)
            return None
        form = OverrideForm(name, request.POST if bound else None)
        if bound and form.is_valid():
            self._apply_override(request, orders, name, form.cleaned_data)
            return None
        sources, target = TRANSITIONS[name]
        context = {
            **self.admin_site.each_context(request),
            "title": f"Staff override: {_override_label(name)}",
            "opts": self.model._meta,
            "form": form,
            "override": name,
            "action_name": f"override_{name}",
            "target": Order.Status(target).label,
            "sources": [Order.Status(s).label for s in Order.Status if s in sources],
            "rows": [(order, _refusal(order, name)) for order in orders],
            "from_changelist": from_changelist,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": self.media + form.media,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/orders/override.html", context)

    def _apply_override(self, request, orders, name, data):
        run, actor = OVERRIDES[name].run, Actor.staff(request.user)
        done, refused = [], []
        for order in orders:
            guarded = registry.override_refusal(order, name)
            if guarded:
                refused.append(f"{order.number}: {guarded}")
                continue
            try:
                run(order, actor, data)
            except Refused as exc:
                refused.append(f"{order.number}: {exc}")
            else:
                done.append(order.number)
        label = _override_label(name)
        if done:
            target = Order.Status(TRANSITIONS[name][1]).label.lower()
            self.message_user(
                request, f"Staff override “{label}” applied to {len(done)} order(s), now {target}: {', '.join(done)}.",
                messages.SUCCESS,
            )
        for text in refused[:REFUSALS_SHOWN]:
            self.message_user(request, f"Refused, unchanged — {text}", messages.ERROR)
        if len(refused) > REFUSALS_SHOWN:
            self.message_user(request, f"{len(refused) - REFUSALS_SHOWN} more order(s) refused.", messages.ERROR)


# --- the audit trail and the rest ----------------------------------------------------


class ReadOnlyAdmin(NoDelete, admin.ModelAdmin):
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(OrderEvent)
class OrderEventAdmin(ReadOnlyAdmin):
    """Every state change of every order, for audit: who, when, from where to where, why."""

    list_display = ["at", "order", "action", "from_status", "to_status", "actor_kind", "actor_label", "note"]
    list_filter = ["actor_kind", "action", "to_status"]
    search_fields = ["=order__number"]
    list_select_related = ["order"]
    date_hierarchy = "at"
    ordering = ["-at", "-id"]


@admin.register(OrderMessage)
class OrderMessageAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "order", "sender", "author", "body"]
    list_filter = ["sender"]
    search_fields = ["=order__number"]
    list_select_related = ["order", "author"]
    ordering = ["-created_at", "-id"]


@admin.register(OrderLine)
class OrderLineAdmin(ReadOnlyAdmin):
    list_display = ["order", "sku_code", "name", "quantity", "unit_price"]
    search_fields = ["=order__number", "=sku_code"]
    list_select_related = ["order"]


@admin.register(OrderStatusCount)
class OrderStatusCountAdmin(ReadOnlyAdmin):
    """The counters behind the Manage Orders tabs, to check them against the orders."""

    list_display = ["shop", "status", "count", "order_link"]
    list_filter = ["status", "shop"]
    list_select_related = ["shop"]

    @admin.display(description="link")
    def order_link(self, obj):
        return format_html('<a href="{}?shop__id__exact={}&status__exact={}">orders</a>',
                           reverse("admin:orders_order_changelist"), obj.shop_id, obj.status)
