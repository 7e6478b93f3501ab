"""Settings → Webhooks: the shop owner subscribes receivers to events, sees each webhook's delivery
log and sends a delivery again. The secret is shown on creation and rotation only."""

from django import forms
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from shops.access import shop_required
from shops.models import ShopEvent

from . import outbox
from .models import Webhook, WebhookDelivery

LOG_ROWS = 50


class WebhookForm(forms.Form):
    url = forms.CharField(max_length=2000, label=_("Receiver URL"), help_text=_("https://… of your system's endpoint."))
    events = forms.MultipleChoiceField(choices=ShopEvent.Type.choices, widget=forms.CheckboxSelectMultiple,
                                       label=_("Events to send"))
    description = forms.CharField(max_length=200, required=False, label=_("Description"))

    def clean_url(self):
        url = self.cleaned_data["url"].strip()
        if problem := outbox.url_problem(url):
            raise forms.ValidationError(_("The URL: %(problem)s.") % {"problem": problem})
        return url


def _hooks(shop):
    return Webhook.objects.filter(shop=shop, removed_at=None)


def _page(request, shop, *, form=None, secret=None, status=200, message=None, error=None):
    context = {"shop": shop, "nav": "api_keys", "form": form or WebhookForm(), "secret": secret, "message": message,
               "error": error, "hooks": list(_hooks(shop))}
    template = "api/webhooks.html#webhook-panel" if request.htmx else "api/webhooks.html"
    return render(request, template, context, status=status)


@shop_required(perm="webhooks.manage")
@vary_on_headers("HX-Request")
@require_http_methods(["GET", "POST"])
def webhooks(request, shop):
    if request.method == "GET":
        return _page(request, shop)
    form = WebhookForm(request.POST)
    if not form.is_valid():
        return _page(request, shop, form=form, status=400)
    try:
        hook = outbox.create_webhook(shop=shop, url=form.cleaned_data["url"], events=form.cleaned_data["events"],
                                     description=form.cleaned_data["description"], by=request.user.get_username())
    except outbox.WebhookRefused as exc:
        form.add_error(None, str(exc))
        return _page(request, shop, form=form, status=400)
    return _page(request, shop, secret={"hook": hook, "value": hook.secret})


ACTIONS = {"off", "on", "rotate", "remove"}


@require_POST
@shop_required(perm="webhooks.manage")
@vary_on_headers("HX-Request")
def webhook_action(request, shop, pk, action):
    hook = get_object_or_404(_hooks(shop), pk=pk)
    if action not in ACTIONS:
        return _page(request, shop, status=400, error=_("Unknown action “%(action)s”.") % {"action": action[:40]})
    if action == "rotate":
        hook = outbox.rotate_secret(webhook=hook)
        return _page(request, shop, secret={"hook": hook, "value": hook.secret, "rotated": True})
    if action == "remove":
        outbox.remove_webhook(webhook=hook)
        return _page(request, shop, message=_("Webhook to %(url)s removed; nothing more is sent to it.") % {"url": hook.url})
    hook = outbox.update_webhook(webhook=hook, active=action == "on")
    return _page(request, shop, message=(_("Webhook to %(url)s turned on.") if hook.active else _("Webhook to %(url)s turned off.")) % {"url": hook.url})


def _log(request, shop, hook, *, status=200, message=None, error=None):
    rows = list(WebhookDelivery.objects.filter(webhook=hook).select_related("event").order_by("-id")[:LOG_ROWS])
    context = {"shop": shop, "nav": "api_keys", "hook": hook, "deliveries": rows, "message": message, "error": error}
    template = "api/webhook_log.html#log-panel" if request.htmx else "api/webhook_log.html"
    return render(request, template, context, status=status)


@shop_required(perm="webhooks.manage")
@vary_on_headers("HX-Request")
@require_http_methods(["GET"])
def webhook_log(request, shop, pk):
    return _log(request, shop, get_object_or_404(Webhook.objects.filter(shop=shop), pk=pk))


@require_POST
@shop_required(perm="webhooks.manage")
@vary_on_headers("HX-Request")
def redeliver(request, shop, pk, delivery_pk):
    hook = get_object_or_404(Webhook.objects.filter(shop=shop), pk=pk)
    delivery = get_object_or_404(WebhookDelivery.objects.filter(webhook=hook), pk=delivery_pk)
    try:
        outbox.redeliver(delivery=delivery)
    except outbox.WebhookRefused as exc:
        return _log(request, shop, hook, status=409, error=str(exc))
    return _log(request, shop, hook, message=_("Delivery %(msg_id)s will be sent again within seconds.") % {"msg_id": delivery.msg_id})
