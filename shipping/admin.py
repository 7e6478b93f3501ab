"""Staff's view of shipping: packages with their whole history, the raw carrier feed, and the
complaints and force-majeure tickets they rule on. Nothing here deletes; rulings and markers
go through shipping.actions so they leave the same history as every other change."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.widgets import AdminSplitDateTime
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Prefetch
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone

from core import files
from core.actor import Actor
from orders.actions import ActionRefused
from shops.admin import ReadOnlyInline

from . import actions
from .actions import disputes
from .models import (
    HandoverPhoto,
    Package,
    PackageEvent,
    PrintJob,
    Ticket,
    TicketEvent,
    TrackingClaim,
    TrackingDispute,
    TrackingEvent,
)


class PackageEventInline(ReadOnlyInline):
    model = PackageEvent
    fields = ["at", "action", "from_status", "to_status", "actor_kind", "actor_label", "note", "data"]
    readonly_fields = fields


class TrackingEventInline(ReadOnlyInline):
    model = TrackingEvent
    fields = ["occurred_at", "tag", "subtag", "location", "message", "from_status", "to_status", "event_id", "received_at"]
    readonly_fields = fields


class PhotoInline(ReadOnlyInline):
    model = HandoverPhoto
    fields = ["uploaded_at", "image", "content_type", "width", "height", "size", "uploaded_by"]
    readonly_fields = fields


class NoDelete:
    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Package)
class PackageAdmin(NoDelete, admin.ModelAdmin):
    list_display = ["__str__", "shop", "status", "carrier", "tracking_number", "is_delayed", "failed_attempts",
                    "collect_by", "last_event_at"]
    list_filter = ["status", "carrier", "handover", "is_delayed"]
    search_fields = ["tracking_number", "order__number"]
    list_select_related = ["shop", "order"]
    inlines = [TrackingEventInline, PackageEventInline, PhotoInline]
    actions = ["declare_lost", "mark_delayed", "mark_collected", "mark_delivered"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Package._meta.fields]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Declare the selected packages lost")
    def declare_lost(self, request, queryset):
        n = actions.mark_lost(package_ids=list(queryset.values_list("pk", flat=True)), actor=Actor.staff(request.user),
                              note="Declared lost by platform staff.")
        self.message_user(request, f"{n} package(s) declared lost; the others were not with the carrier.")

    @admin.action(description="Mark the selected packages delayed")
    def mark_delayed(self, request, queryset):
        n = actions.mark_delayed(package_ids=list(queryset.values_list("pk", flat=True)), actor=Actor.staff(request.user),
                                 note="Marked delayed by platform staff.")
        self.message_user(request, f"{n} package(s) marked delayed.")

    @admin.action(description="Mark the selected packages collected by the carrier (feed missing)")
    def mark_collected(self, request, queryset):
        return self._staff_move(request, queryset, "staff_collected", "collected")

    @admin.action(description="Mark the selected packages delivered (feed missing)")
    def mark_delivered(self, request, queryset):
        return self._staff_move(request, queryset, "staff_delivered", "delivered")

    def _staff_move(self, request, queryset, action, word):
        """Ask for the reason first (kept in each package's history), then move them."""
        reason = (request.POST.get("reason") or "").strip()
        ids = list(queryset.values_list("pk", flat=True)[:500])
        if "apply" not in request.POST:
            context = {**self.admin_site.each_context(request), "title": f"Mark packages {word}",
                       "opts": self.model._meta, "packages": queryset[:500], "action": action.replace("staff_", "mark_"),
                       "word": word, "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME}
            return TemplateResponse(request, "admin/shipping/staff_move.html", context)
        try:
            n, orders = actions.staff_move_packages(package_ids=ids, action=action, actor=Actor.staff(request.user),
                                                    note=reason)
        except ActionRefused as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return None
        text = f"{n} package(s) marked {word}."
        if orders:
            text += f" Orders moved with them: {', '.join(orders)}."
        self.message_user(request, text + (" The others were not in a state to move." if n < len(ids) else ""))
        return None


@admin.register(TrackingEvent)
class TrackingEventAdmin(NoDelete, admin.ModelAdmin):
    list_display = ["carrier", "event_id", "tracking_number", "tag", "subtag", "occurred_at", "received_at", "to_status"]
    list_filter = ["carrier", "tag"]
    search_fields = ["tracking_number", "event_id"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in TrackingEvent._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(PrintJob)
class PrintJobAdmin(NoDelete, admin.ModelAdmin):
    list_display = ["pk", "shop", "kind", "size", "package_count", "reprint_of", "printed_by", "printed_at"]
    list_filter = ["kind", "size"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class TicketEventInline(ReadOnlyInline):
    model = TicketEvent
    fields = ["at", "action", "from_status", "to_status", "actor_kind", "actor_label", "note"]
    readonly_fields = fields


class RulingForm(forms.ModelForm):
    """Staff rule here; the ruling goes through shipping.actions.rule_ticket on save."""

    decision = forms.ChoiceField(choices=[("", "— no ruling yet —"), ("approve", "Approve"), ("reject", "Reject")],
                                 required=False)
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False,
                           help_text="Required to reject; shown to the seller.")
    pause_until = forms.SplitDateTimeField(required=False, widget=AdminSplitDateTime,
                                           help_text="Force majeure: deadlines paused until (default: the event's end).")

    class Meta:
        model = Ticket
        fields = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.fields["pause_until"].help_text = (
                f"Force majeure: deadlines paused until (default: the event's end), in the shop's time zone "
                f"({self.instance.shop.time_zone}), as every time on this page.")

    def clean(self):
        data = super().clean()
        if data.get("decision") and not self.instance.can_rule():
            raise forms.ValidationError("This ticket was already ruled on.")
        if data.get("decision") == "reject" and not (data.get("note") or "").strip():
            self.add_error("note", "Say why the ticket is rejected.")
        return data


@admin.register(Ticket)
class TicketAdmin(NoDelete, admin.ModelAdmin):
    form = RulingForm
    list_display = ["pk", "kind", "shop", "status", "filed_at", "filed_by", "ruled_at", "ruled_by", "paused_until"]
    list_filter = ["kind", "status"]
    search_fields = ["description", "orders__number", "package__tracking_number"]
    list_select_related = ["shop", "filed_by", "ruled_by"]
    inlines = [TicketEventInline]
    readonly_fields = ["shop", "kind", "status", "package", "affected_orders", "description", "event_start", "event_end",
                       "paused_from", "paused_until", "filed_by", "filed_at", "ruled_by", "ruled_at", "ruling_note"]
    fieldsets = [
        (None, {"fields": readonly_fields}),
        ("Ruling", {"fields": ["decision", "note", "pause_until"]}),
    ]

    @admin.display(description="Affected orders")
    def affected_orders(self, obj):
        return ", ".join(obj.orders.values_list("number", flat=True)[:200])

    def has_add_permission(self, request):
        return False

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        """A ticket's times, shown and typed, are the shop's: the seller filed "09:00" in
        their own time zone, and the pause staff give is read the same way."""
        ticket = (Ticket.objects.select_related("shop").filter(pk=int(object_id)).first()
                  if object_id and str(object_id).isascii() and str(object_id).isdigit() else None)
        if ticket is None:
            return super().changeform_view(request, object_id, form_url, extra_context)
        with timezone.override(ticket.shop.tzinfo):
            response = super().changeform_view(request, object_id, form_url, extra_context)
            if hasattr(response, "render") and not response.is_rendered:
                response.render()
        return response

    def save_model(self, request, obj, form, change):
        decision = form.cleaned_data.get("decision")
        if not decision:
            return
        try:
            actions.rule_ticket(ticket=obj, approve=decision == "approve", actor=Actor.staff(request.user),
                                note=form.cleaned_data.get("note") or "", pause_until=form.cleaned_data.get("pause_until"))
        except ActionRefused as exc:
            messages.error(request, str(exc))


# --- tracking numbers two shops entered ------------------------------------------------------

# The package history rows that say how a package came by its number.
NUMBER_EVENTS = ("arrange", "set_tracking", "ship", "correct_tracking", "tracking_disputed")


class DisputeRulingForm(forms.Form):
    keep = forms.ChoiceField(label="Who keeps the number", widget=forms.RadioSelect)
    note = forms.CharField(label="Why", widget=forms.Textarea(attrs={"rows": 3, "cols": 80}), max_length=1000,
                           help_text="Both shops read it, and it stays in both packages' history.")

    def __init__(self, claims, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["keep"].choices = [
            (str(c.package_id), f"Package {c.package.seq} of order {c.package.order.number} ({c.shop.name})")
            for c in claims
        ] + [("none", "Neither: the number is removed from every package")]


@admin.register(TrackingDispute)
class TrackingDisputeAdmin(NoDelete, admin.ModelAdmin):
    """Staff see both shops' evidence side by side and rule; the ruling goes through
    shipping.actions.disputes.rule, which writes both packages' history and tells both shops."""

    list_display = ["tracking_number", "carrier", "status", "opened_at", "shops", "held", "ruled_at", "ruled_by"]
    list_filter = ["status", "carrier"]
    search_fields = ["tracking_number", "claims__package__order__number"]

    def get_queryset(self, request):
        return (super().get_queryset(request).select_related("ruled_by")
                .annotate(held_count=Count("held_events", distinct=True))
                .prefetch_related(Prefetch("claims", queryset=TrackingClaim.objects.select_related("shop"))))

    @admin.display(description="Shops")
    def shops(self, obj):
        return ", ".join(c.shop.name for c in obj.claims.all())

    @admin.display(description="Held events", ordering="held_count")
    def held(self, obj):
        return obj.held_count

    def has_add_permission(self, request):
        return False

    def get_urls(self):
        return [
            path("<int:pk>/photos/<int:photo>", self.admin_site.admin_view(self.photo_view),
                 name="shipping_trackingdispute_photo"),
            *super().get_urls(),
        ]

    def photo_view(self, request, pk, photo):
        """A handover photo of a package in this dispute (shops' photo pages are theirs only)."""
        dispute = get_object_or_404(TrackingDispute, pk=pk)
        if not self.has_view_permission(request, dispute):
            raise PermissionDenied
        item = get_object_or_404(HandoverPhoto.objects.filter(package__tracking_claims__dispute=dispute), pk=photo)
        response = FileResponse(files.open_or_404(item.image, "photo"), content_type=item.content_type)
        response["Cache-Control"] = "private, no-store"
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if not (str(object_id).isascii() and str(object_id).isdigit()):
            raise Http404("No such dispute")
        dispute = get_object_or_404(TrackingDispute.objects.select_related("kept_by__order", "ruled_by"),
                                    pk=int(object_id))
        if not self.has_view_permission(request, dispute):
            raise PermissionDenied
        claims = list(
            dispute.claims.select_related("shop", "package__order")
            .prefetch_related(
                Prefetch("package__photos", queryset=HandoverPhoto.objects.select_related("uploaded_by")),
                Prefetch("package__events", to_attr="number_events",
                         queryset=PackageEvent.objects.filter(action__in=NUMBER_EVENTS).order_by("at", "id")),
            )
        )
        can_rule = dispute.is_open and self.has_change_permission(request, dispute)
        form = DisputeRulingForm(claims, request.POST or None) if can_rule else None
        if request.method == "POST":
            if not can_rule:
                raise PermissionDenied
            if form.is_valid():
                keep = form.cleaned_data["keep"]
                chosen = next((c.package for c in claims if str(c.package_id) == keep), None)
                try:
                    disputes.rule(dispute=dispute, keep=chosen, actor=Actor.staff(request.user),
                                  note=form.cleaned_data["note"])
                except ActionRefused as exc:
                    form.add_error(None, str(exc))
                else:
                    kept = (f"package {chosen.seq} of order {chosen.order.number} keeps it" if chosen
                            else "no package keeps it")
                    self.message_user(request, f"Ruled: {kept}. Both shops were told.")
                    return redirect("admin:shipping_trackingdispute_change", dispute.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": f"{'Change' if self.has_change_permission(request, dispute) else 'View'} tracking dispute",
            "subtitle": f"Tracking number {dispute}",
            "opts": self.model._meta, "dispute": dispute, "claims": claims, "form": form,
            "held": dispute.held_events.select_related("released_to")[:200],
            "held_count": dispute.held_events.count(),
        }
        return TemplateResponse(request, "admin/shipping/tracking_dispute.html", context,
                                status=400 if form is not None and form.errors else 200)
