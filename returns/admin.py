"""Staff see every shop's requests and refunds, read-only, and rule on a request (approve,
reject, or refund a return the seller never confirmed) with a reason, through the actions."""

from django.contrib import admin, messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.html import format_html

from core.actor import Actor
from core.refusals import Refused
from shops.admin import ReadOnlyInline

from . import actions
from .forms import StaffRulingForm
from .models import BuyerRequest, Refund, RequestEvent, RequestLine, RequestPhoto, reason_choices


class RequestLineInline(ReadOnlyInline):
    model = RequestLine
    fields = ["order_line", "quantity"]
    readonly_fields = fields


class RequestPhotoInline(ReadOnlyInline):
    model = RequestPhoto
    fields = ["file", "content_type", "size", "width", "height", "sha256"]
    readonly_fields = fields


class RequestEventInline(ReadOnlyInline):
    model = RequestEvent
    fields = ["at", "actor_kind", "actor_label", "action", "from_status", "to_status", "note", "data"]
    readonly_fields = fields


class RefundInline(ReadOnlyInline):
    model = Refund
    fk_name = "request"
    fields = ["created_at", "kind", "amount", "currency", "partial", "actor_kind", "actor_label", "note"]
    readonly_fields = fields


@admin.register(BuyerRequest)
class BuyerRequestAdmin(admin.ModelAdmin):
    list_display = ["number", "order", "shop", "kind", "reason", "status", "amount", "created_at", "respond_by"]
    list_filter = ["status", "kind", "reason", "shop"]
    search_fields = ["order__number", "return_tracking"]
    list_select_related = ["order", "shop"]
    date_hierarchy = "created_at"
    inlines = [RequestLineInline, RequestPhotoInline, RequestEventInline, RefundInline]
    readonly_fields = [f.name for f in BuyerRequest._meta.fields] + ["rule_link"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        # The change page is read-only; staff change a request only through a ruling.
        return False

    @admin.display(description="Ruling")
    def rule_link(self, obj):
        if obj.pk is None:
            return "—"
        return format_html('<a class="button" href="{}">Rule on this request…</a>',
                           reverse("admin:returns_buyerrequest_rule", args=[obj.pk]))

    def get_urls(self):
        return [
            path("<int:pk>/rule/", self.admin_site.admin_view(self.rule_view), name="returns_buyerrequest_rule"),
            *super().get_urls(),
        ]

    def rule_view(self, request, pk):
        obj = get_object_or_404(BuyerRequest.objects.select_related("order", "shop"), pk=pk)
        if not request.user.has_perm("returns.change_buyerrequest"):
            messages.error(request, "Ruling on requests needs the “change buyer request” permission.")
            return redirect("admin:index")
        form = StaffRulingForm(request.POST or None)
        form.fields["reject_reason"].choices = [("", "—"), *reason_choices(actions.reject_reasons(obj))]
        if request.method == "POST" and form.is_valid():
            actor = Actor.staff(request.user)
            note, decision = form.cleaned_data["note"], form.cleaned_data["decision"]
            try:
                if decision == "approve":
                    actions.approve_request(request=obj, actor=actor, note=note)
                elif decision == "reject":
                    actions.reject_request(request=obj, actor=actor, reason=form.cleaned_data["reject_reason"], note=note)
                else:
                    actions.refund_request(request=obj, actor=actor, note=note)
            except Refused as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, f"Request {obj.number}: {decision} recorded.")
                return redirect("admin:returns_buyerrequest_change", obj.pk)
        context = {**self.admin_site.each_context(request), "title": f"Rule on request {obj.number}", "obj": obj,
                   "form": form, "opts": self.model._meta}
        return render(request, "returns/admin_rule.html", context)


@admin.register(Refund)
class RefundAdmin(admin.ModelAdmin):
    list_display = ["order", "seq", "kind", "amount", "currency", "partial", "request", "actor_kind", "actor_label",
                    "created_at"]
    list_filter = ["kind", "partial", "actor_kind"]
    search_fields = ["order__number"]
    list_select_related = ["order", "request"]
    readonly_fields = [f.name for f in Refund._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
