"""The seller's request pages in Manage Orders: a list with counts, one page per request,
and the named POST actions on it. Every lookup starts from the seller's shop."""

from django.contrib import messages
from django.db.models import Count, Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from core import params
from core.actor import Actor
from core.htmx import after_action, form_errors
from core.money import format_money
from core.refusals import Refused
from core.when import format_when
from orders.models import Order, OrderMessage
from shops.access import MissingPermission, can, shop_required

from . import actions, transitions
from .forms import ApproveForm, DisputeForm, MessageForm, ReceiveForm, RefundForm, RejectForm
from .models import BuyerRequest, Refund, RequestEvent, RequestLine, RequestPhoto
from .public_views import photo_response

PAGE_SIZE = 50
S = BuyerRequest.Status
TABS = [
    ("open", pgettext_lazy("requests tab", "Open")),
    (S.REQUESTED, gettext_lazy("Awaiting your answer")),
    (S.APPROVED, gettext_lazy("Awaiting the return")),
    (S.RETURN_SHIPPED, gettext_lazy("Return shipped")),
    (S.RECEIVED, gettext_lazy("To refund")),
    (S.DISPUTED, gettext_lazy("Disputed")),
    (S.REFUNDED, gettext_lazy("Refunded")),
    (S.REJECTED, gettext_lazy("Rejected")),
    (S.WITHDRAWN, gettext_lazy("Withdrawn")),
    (S.LAPSED, gettext_lazy("Not shipped back")),
    ("all", pgettext_lazy("requests tab", "All")),
]


def _counts(shop):
    """Every tab's count in one query."""
    by_status = dict(
        BuyerRequest.objects.for_shop(shop).order_by().values("status").annotate(n=Count("pk")).values_list("status", "n")
    )
    counts = {status: by_status.get(status, 0) for status in S.values}
    counts["open"] = sum(by_status.get(s, 0) for s in transitions.OPEN)
    counts["all"] = sum(by_status.values())
    return counts


@shop_required(perm="requests.view")
@vary_on_headers("HX-Request")
def request_list(request, shop):
    tab = request.GET.get("tab") or "open"
    if tab not in dict(TABS):
        tab = "open"
    kind = request.GET.get("kind") or ""
    qs = BuyerRequest.objects.for_shop(shop).in_tab(tab).select_related("order")
    if kind in BuyerRequest.Kind.values:
        qs = qs.filter(kind=kind)
    after = params.parse_id(request.GET.get("after"))  # anything else is the first page
    if after is not None:
        qs = qs.filter(pk__lt=after)  # keyset: newest first, by id
    rows = list(qs.order_by("-pk")[: PAGE_SIZE + 1])
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    counts = _counts(shop)
    context = {
        "shop": shop, "nav": "requests", "tab": tab, "kind": kind, "tabs": [(k, v, counts[k]) for k, v in TABS],
        "kinds": BuyerRequest.Kind.choices, "rows": rows, "next_after": rows[-1].pk if more else None,
        "now": timezone.now(),
    }
    template = "returns/request_list.html#results" if request.htmx else "returns/request_list.html"
    return render(request, template, context)


def _request(shop, pk):
    return get_object_or_404(BuyerRequest.objects.for_shop(shop).select_related("order", "shop"), pk=pk)


def _detail_context(shop, req, **extra):
    req = (
        BuyerRequest.objects.for_shop(shop).select_related("order").prefetch_related(
            Prefetch("lines", queryset=RequestLine.objects.select_related("order_line")),
            Prefetch("photos", queryset=RequestPhoto.objects.all()),
            Prefetch("events", queryset=RequestEvent.objects.select_related("actor")),
        ).get(pk=req.pk)
    )
    context = {
        "shop": shop, "nav": "requests", "req": req, "order": req.order,
        "order_messages": list(OrderMessage.objects.filter(order=req.order)),
        "refunds": list(Refund.objects.filter(order=req.order)),
        "approve_form": ApproveForm(), "reject_form": RejectForm(request=req), "refund_form": RefundForm(), "dispute_form": DisputeForm(),
        "message_form": MessageForm(), "now": timezone.now(),
    }
    context.update(extra)
    return context


@shop_required(perm="requests.view")
@vary_on_headers("HX-Request")
def request_detail(request, shop, pk):
    req = _request(shop, pk)
    template = "returns/request_detail.html#request-main" if request.htmx else "returns/request_detail.html"
    return render(request, template, _detail_context(shop, req))


def _after(request, shop, req, *, ok=None, error=None, status=200):
    """HTMX: the request's main part again with a toast; otherwise a redirect (PRG)."""
    return after_action(
        request, ok=ok, error=error,
        render_partial=lambda: render(request, "returns/request_detail.html#request-main",
                                      _detail_context(shop, req, action_error=error), status=status if error else 200),
        redirect_to=reverse("returns:detail", kwargs={"shop": shop.slug, "pk": req.pk}),
    )


def _within_refund_limit(request, shop, req, amount):
    """A refund above the shop's limit needs requests.refund_over_limit (Customer service has
    only requests.refund): refused with a 403 before anything is done. Empty amount: the full
    amount asked for."""
    amount = req.amount if amount is None else amount
    if amount > shop.refund_limit and not can(request, "requests.refund_over_limit"):
        raise MissingPermission(
            "requests.refund_over_limit", request.membership.role,
            f"A refund of {format_money(amount, req.order.currency)} is over this shop's limit for your role "
            f"({format_money(shop.refund_limit, req.order.currency)}): it needs the permission "
            "requests.refund_over_limit.",
        )


@require_POST
@shop_required(perm="requests.answer")
def request_approve(request, shop, pk):
    req = _request(shop, pk)
    form = ApproveForm(request.POST)
    if not form.is_valid():
        return _after(request, shop, req, error=form_errors(form), status=400)
    if req.kind == BuyerRequest.Kind.REFUND_ONLY:
        _within_refund_limit(request, shop, req, form.cleaned_data["amount"])
    elif req.kind == BuyerRequest.Kind.CANCEL:  # approving a cancellation refunds the order
        _within_refund_limit(request, shop, req, req.order.total)
    try:
        actions.approve_request(request=req, actor=Actor.seller(request.user), amount=form.cleaned_data["amount"],
                                note=form.cleaned_data["note"])
    except Refused as exc:
        return _after(request, shop, req, error=str(exc), status=409)
    return _after(request, shop, req, ok=_("Request %(number)s approved; the buyer has been told.") % {"number": req.number})


@require_POST
@shop_required(perm="requests.answer")
def request_reject(request, shop, pk):
    req = _request(shop, pk)
    form = RejectForm(request.POST, request=req)
    if not form.is_valid():
        return _after(request, shop, req, error=form_errors(form), status=400)
    try:
        actions.reject_request(request=req, actor=Actor.seller(request.user), reason=form.cleaned_data["reason"],
                               note=form.cleaned_data["note"])
    except Refused as exc:
        return _after(request, shop, req, error=str(exc), status=409)
    return _after(request, shop, req, ok=_("Request %(number)s rejected; the buyer has been told.") % {"number": req.number})


@require_POST
@shop_required(perm="requests.answer")
def request_extend(request, shop, pk):
    req = _request(shop, pk)
    try:
        req = actions.extend_deadline(request=req, actor=Actor.seller(request.user))
    except Refused as exc:
        return _after(request, shop, req, error=str(exc), status=409)
    return _after(request, shop, req, ok=_("Deadline extended to %(format_when)s.") % {"format_when": format_when(req.respond_by)})


@require_POST
@shop_required(perm="requests.receive")
def request_receive(request, shop, pk):
    req = _request(shop, pk)
    form = ReceiveForm(request.POST)
    if not form.is_valid():  # a NUL, or more than 500 characters
        return _after(request, shop, req, error=form_errors(form), status=400)
    try:
        actions.confirm_receipt(request=req, actor=Actor.seller(request.user), note=form.cleaned_data["note"])
    except Refused as exc:
        return _after(request, shop, req, error=str(exc), status=409)
    return _after(request, shop, req, ok=_("Return %(number)s received. Refund it next.") % {"number": req.number})


@require_POST
@shop_required(perm="requests.refund")
def request_refund(request, shop, pk):
    req = _request(shop, pk)
    form = RefundForm(request.POST)
    if not form.is_valid():
        return _after(request, shop, req, error=form_errors(form), status=400)
    _within_refund_limit(request, shop, req, form.cleaned_data["amount"])
    try:
        actions.refund_request(request=req, actor=Actor.seller(request.user), amount=form.cleaned_data["amount"],
                               note=form.cleaned_data["note"])
    except Refused as exc:
        return _after(request, shop, req, error=str(exc), status=409)
    return _after(request, shop, req, ok=_("Return %(number)s refunded; the buyer has been told.") % {"number": req.number})


@require_POST
@shop_required(perm="requests.dispute")
def request_dispute(request, shop, pk):
    req = _request(shop, pk)
    form = DisputeForm(request.POST)
    if not form.is_valid():
        return _after(request, shop, req, error=form_errors(form), status=400)
    try:
        actions.dispute_return(request=req, actor=Actor.seller(request.user), reason=form.cleaned_data["reason"],
                               note=form.cleaned_data["note"])
    except Refused as exc:
        return _after(request, shop, req, error=str(exc), status=409)
    return _after(request, shop, req, ok=_("Return %(number)s disputed; platform staff will rule on it.") % {"number": req.number})


@shop_required(perm="requests.view")
def request_photo(request, shop, pk, photo):
    item = get_object_or_404(RequestPhoto.objects.filter(request__shop=shop, request_id=pk), pk=photo)
    return photo_response(item)


@require_POST
@shop_required(perm="orders.message")
def order_message(request, shop, number):
    """A seller's message to the buyer, from the order page or a request page."""
    order = get_object_or_404(Order.objects.for_shop(shop).select_related("shop"), number=number)
    form = MessageForm(request.POST)
    error = ok = None
    status = 400
    if form.is_valid():
        try:
            actions.post_message(order=order, sender=OrderMessage.Sender.SELLER, author=request.user,
                                 body=form.cleaned_data["body"])
            ok = _("Message sent to the buyer.")
        except Refused as exc:
            error, status = str(exc), getattr(exc, "http_status", 409)
    else:
        error = _("Write the message first (at most 4000 characters).")
    back = request.POST.get("next") or ""
    req_pk = params.parse_id(back.removeprefix("request:")) if back.startswith("request:") else None
    if req_pk is not None:
        # From a request page: back to it (a request of this shop and order, else 404).
        req = get_object_or_404(BuyerRequest.objects.for_shop(shop).select_related("order", "shop"), pk=req_pk,
                                order=order)
        return _after(request, shop, req, ok=ok, error=error, status=status)
    getattr(messages, "error" if error else "success")(request, error or ok)
    return redirect("orders:detail", shop=shop.slug, number=order.number)
