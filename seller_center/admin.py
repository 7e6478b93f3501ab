"""Staff's view of the platform rules: windows as versioned data, and a dry-run preview."""

from django import forms
from django.contrib import admin, messages

from shops import policy_windows
from shops.models import PolicyWindow

from . import policies


class PolicyWindowForm(forms.ModelForm):
    rule = forms.ChoiceField(choices=[(r, f"{r} — {text}") for r, (_, text) in policy_windows.DEFAULTS.items()])
    note = forms.CharField(max_length=300, help_text="Why the window changes (kept with the version).")

    class Meta:
        model = PolicyWindow
        fields = ["rule", "hours", "enabled", "note"]


@admin.register(PolicyWindow)
class PolicyWindowAdmin(admin.ModelAdmin):
    """Adding a row is the only way to change a window: it becomes the rule's next version."""

    form = PolicyWindowForm
    list_display = ["rule", "version", "hours", "enabled", "note", "created_by", "created_at"]
    list_filter = ["rule", "enabled"]
    change_list_template = "admin/shops/policywindow/change_list.html"

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        created = policies.change_window(
            rule=form.cleaned_data["rule"], hours=form.cleaned_data["hours"], user=request.user,
            note=form.cleaned_data["note"], enabled=form.cleaned_data["enabled"],
        )
        obj.pk, obj.version = created.pk, created.version
        messages.info(request, f"{created.rule} is now version {created.version}; open orders' deadlines follow it.")

    def changelist_view(self, request, extra_context=None):
        extra_context = extra_context or {}
        current = policy_windows.current()
        extra_context["current_windows"] = [
            (rule, current[rule], text) for rule, (_, text) in policy_windows.DEFAULTS.items()
        ]
        extra_context["preview"] = policies.run(dry_run=True)
        return super().changelist_view(request, extra_context=extra_context)
