"""Settings → API keys: a shop owner creates, names, scopes and revokes the keys of the shop's
own systems. The key is shown once, on the answer to its creation; only its prefix is kept."""

from django import forms
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from core.payload import text_error
from shops.access import shop_required

from . import keys
from .models import ApiKey


class KeyForm(forms.Form):
    name = forms.CharField(max_length=keys.MAX_NAME, label=_("Name"), help_text=_("What uses it, e.g. ERP or 3PL warehouse."))
    scopes = forms.MultipleChoiceField(choices=ApiKey.Scope.choices, widget=forms.CheckboxSelectMultiple,
                                       label=_("What it may do"))

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if problem := text_error(name):
            raise forms.ValidationError(_("The name %(problem)s.") % {"problem": problem})
        return name


def _page(request, shop, *, form=None, new_key=None, status=200, message=None):
    context = {"shop": shop, "nav": "api_keys", "form": form or KeyForm(), "new_key": new_key, "message": message,
               "keys": ApiKey.objects.filter(shop=shop).select_related("created_by", "revoked_by")}
    template = "api/keys.html#key-panel" if request.htmx else "api/keys.html"
    return render(request, template, context, status=status)


@shop_required(perm="api_keys.manage")
@vary_on_headers("HX-Request")
@require_http_methods(["GET", "POST"])
def api_keys(request, shop):
    if request.method == "GET":
        return _page(request, shop)
    form = KeyForm(request.POST)
    if not form.is_valid():
        return _page(request, shop, form=form, status=400)
    api_key, clear = keys.create_key(shop=shop, name=form.cleaned_data["name"], scopes=form.cleaned_data["scopes"],
                                     user=request.user)
    # Answered, not redirected: the key is in this one response and nowhere else.
    return _page(request, shop, new_key={"key": clear, "api_key": api_key})


@require_POST
@shop_required(perm="api_keys.manage")
@vary_on_headers("HX-Request")
def api_key_revoke(request, shop, pk):
    api_key = get_object_or_404(ApiKey.objects.filter(shop=shop), pk=pk)
    keys.revoke_key(api_key=api_key, user=request.user)
    return _page(request, shop, message=_("Key “%(name)s” revoked: its requests now get 401.") % {"name": api_key.name})
