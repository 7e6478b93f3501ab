from django import forms
from django.utils.translation import gettext_lazy as _

from .models import REASONS_BY_KIND, REJECT_REASONS_BY_KIND, BuyerRequest, reason_choices


class LookupForm(forms.Form):
    number = forms.CharField(label=_("Order number"), max_length=40)
    contact = forms.CharField(label=_("Email or phone used at checkout"), max_length=254)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files under one name; each is checked by content in photos.check_photos."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


class RequestForm(forms.Form):
    kind = forms.ChoiceField(label=_("What do you need?"), choices=BuyerRequest.Kind.choices)
    reason = forms.ChoiceField(label=_("Reason"), choices=BuyerRequest.Reason.choices,
                               error_messages={"required": _("Choose a reason.")})
    description = forms.CharField(label=_("Describe the problem"), required=False, max_length=2000,
                                  widget=forms.Textarea(attrs={"rows": 3}))
    photos = MultipleFileField(label=_("Photos (up to 5, JPEG, PNG or WebP, 5 MB each)"), required=False)

    def __init__(self, *args, lines=(), kinds=None, **kwargs):
        super().__init__(*args, **kwargs)
        if kinds is not None:
            self.fields["kind"].choices = [(k, label) for k, label in BuyerRequest.Kind.choices if k in kinds]
            # The reasons follow what the buyer may ask now: a cancellation's before shipment,
            # a refund's or return's (the same list) after delivery.
            reasons = list(dict.fromkeys(r for k in kinds for r in REASONS_BY_KIND[k]))
            self.fields["reason"].choices = reason_choices(reasons, blank="Choose a reason")
        self.lines = list(lines)
        for line in self.lines:
            self.fields[f"qty_{line.pk}"] = forms.IntegerField(
                label=f"{line.name} ({line.sku_code})", min_value=0, max_value=line.quantity, initial=0, required=False,
            )

    def clean(self):
        data = super().clean()
        kind, reason = data.get("kind"), data.get("reason")
        if kind and reason and reason not in REASONS_BY_KIND[kind]:
            self.add_error("reason", _("“%(reason)s” is not a reason for a %(kind)s request; choose one from the list.") % {
                "reason": BuyerRequest.Reason(reason).label, "kind": BuyerRequest.Kind(kind).label.lower()})
        return data

    def quantities(self):
        return {line.pk: self.cleaned_data.get(f"qty_{line.pk}") or 0 for line in self.lines}

    def qty_fields(self):
        return [(line, self[f"qty_{line.pk}"]) for line in self.lines]


class ShipBackForm(forms.Form):
    carrier = forms.CharField(label=_("Carrier"), max_length=60, required=False)
    tracking = forms.CharField(label=_("Return tracking number"), max_length=60)


class MessageForm(forms.Form):
    body = forms.CharField(label=_("Message"), max_length=4000, widget=forms.Textarea(attrs={"rows": 2}))


class ApproveForm(forms.Form):
    amount = forms.DecimalField(label=_("Refund amount"), required=False, min_value=0, decimal_places=2, max_digits=14)
    note = forms.CharField(label=_("Note to the buyer"), required=False, max_length=500)


class RejectForm(forms.Form):
    """The seller's rejection: the reasons that fit the request's kind, none chosen for them."""

    reason = forms.ChoiceField(label=_("Reason"), choices=BuyerRequest.RejectReason.choices,
                               error_messages={"required": _("Choose the reason for the rejection.")})
    note = forms.CharField(label=_("Explanation for the buyer"), required=False, max_length=500)

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, **kwargs)
        reasons = REJECT_REASONS_BY_KIND[request.kind] if request is not None else BuyerRequest.RejectReason
        self.fields["reason"].choices = reason_choices(reasons, blank="Choose a reason")


class DisputeForm(forms.Form):
    reason = forms.ChoiceField(label=_("What is wrong"), choices=[
        (r.value, r.label) for r in BuyerRequest.RejectReason
        if r in (BuyerRequest.RejectReason.NOT_RECEIVED_BACK, BuyerRequest.RejectReason.USED,
                 BuyerRequest.RejectReason.EVIDENCE, BuyerRequest.RejectReason.OTHER)])
    note = forms.CharField(label=_("What arrived (or that nothing did)"), max_length=500)


class ReceiveForm(forms.Form):
    note = forms.CharField(label=_("What arrived"), required=False, max_length=500)


class RefundForm(forms.Form):
    amount = forms.DecimalField(label=_("Amount (leave empty for the full amount)"), required=False, min_value=0,
                                decimal_places=2, max_digits=14)
    note = forms.CharField(label=_("Why partial (if it is)"), required=False, max_length=500)


class StaffRulingForm(forms.Form):
    DECISIONS = [("approve", "Approve"), ("reject", "Reject"), ("refund", "Refund the return now")]
    decision = forms.ChoiceField(choices=DECISIONS)
    reject_reason = forms.ChoiceField(choices=[("", "—"), *BuyerRequest.RejectReason.choices], required=False)
    note = forms.CharField(label=_("Reason for the ruling"), max_length=500, widget=forms.Textarea(attrs={"rows": 3}))

    def clean(self):
        data = super().clean()
        if data.get("decision") == "reject" and not data.get("reject_reason"):
            self.add_error("reject_reason", _("Choose the reason for the rejection."))
        return data
