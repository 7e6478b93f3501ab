"""Staff's view of the platform rules: windows as versioned data, and a dry-run preview."""

from django import forms
from django.contrib import admin, messages

from shops import policy_windows
from shops.models import PolicyWindow

from . import policies

# The longest window staff may set: a year. Longer is a typo, and a deadline that far out
# is never a rule anyone follows.
MAX_HOURS = 365 * 24


class PolicyWindowForm(forms.ModelForm):
    rule = forms.ChoiceField(choices=[(r, f"{r} — {text}") for r, (_, text) in policy_windows.DEFAULTS.items()])
    note = forms.CharField(max_length=300, help_text="Why the window changes (kept with the version).")

    class Meta:
        model = PolicyWindow
        fields = ["rule", "hours", "enabled", "note"]
        error_messages = {"hours": {"invalid": "Enter the window as a number of hours, e.g. 48 or 1.5."}}

    def clean(self):
        """The window in words a staff member understands, before the database's own
        constraint could answer with its name."""
        data = super().clean()
        rule, hours = data.get("rule"), data.get("hours")
        if rule is None or hours is None:
            return data
        if rule == "P6":
            if hours < 1 or hours != hours.to_integral_value():
                self.add_error("hours", "P6 counts failed delivery attempts: a whole number, 1 or more.")
        elif rule in ("P10", "P12"):
            if hours not in (0, 1):
                self.add_error("hours", f"{rule} is on or off: 1 for on, 0 for off.")
        elif hours < 0:
            self.add_error("hours", f"A window cannot be negative ({hours} h): give 0 or more hours.")
        elif hours > MAX_HOURS:
            self.add_error("hours", f"At most {MAX_HOURS} hours (a year); {hours} h looks like a typo.")
        return data


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
        messages.info(request, f"{created.rule} is now version {created.version}; the open orders', packages' and "
                               "requests' deadlines derived from it follow it.")

    def changelist_view(self, request, extra_context=None):
        extra_context = extra_context or {}
        current = policy_windows.current()
        extra_context["current_windows"] = [
            (rule, current[rule], text) for rule, (_, text) in policy_windows.DEFAULTS.items()
        ]
        extra_context["preview"] = policies.run(dry_run=True)
        return super().changelist_view(request, extra_context=extra_context)
