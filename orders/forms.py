from django import forms
from django.utils.translation import gettext_lazy as _

from .actions import SELLER_CANCEL_REASONS
from .models import Order


class CancelForm(forms.Form):
    reason = forms.ChoiceField(choices=[(r.value, r.label) for r in SELLER_CANCEL_REASONS])
    note = forms.CharField(required=False, max_length=500, widget=forms.TextInput(attrs={"placeholder": _("Details for the buyer")}))

    def clean(self):
        data = super().clean()
        if data.get("reason") == Order.CancelReason.OTHER and not (data.get("note") or "").strip():
            self.add_error("note", _("Say why when the reason is “Other”."))
        return data


class NoteForm(forms.Form):
    text = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 2, "placeholder": _("Add a note to the history")}))


class BulkCancelForm(CancelForm):
    """The same reasons as a single cancel; ids come from the selection."""
