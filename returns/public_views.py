"""The buyer's public pages: no account; ownership is proven once (order number and the
email or phone used at checkout, or a signed link) and the proven order id is kept in
the session. Only that order, its requests and its photos are reachable."""

import hashlib
import hmac
import re

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.db.models import Prefetch, Sum
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from core import files
from core.client_ip import client_ip
from core.htmx import form_errors, toast
from core.refusals import Refused
from orders.actions import ActionRefused
from orders.language import CODES, buyer_language
from orders.models import Order, OrderMessage
from shops.warehouses import return_address_for

from . import actions, links, photos, transitions
from .forms import LookupForm, MessageForm, RequestForm, ShipBackForm
from .models import BuyerRequest, Refund, RequestEvent, RequestLine, RequestPhoto

SESSION_KEY = "returns_order_id"
NOT_FOUND = ("We could not find an order with these details. Check the order number and the email "
             "or phone number you used at checkout.")
LINK_INVALID = "This link is invalid or has expired. Enter your order number and email or phone instead."
TOO_MANY = "Too many attempts. Wait a while and try again."


# --- rate limit --------------------------------------------------------------------------


def _limits():
    return (
        getattr(settings, "RETURNS_RATE_LIMIT_PER_IP", 20),  # attempts from one address
        getattr(settings, "RETURNS_RATE_LIMIT_PER_ORDER", 10),  # failed attempts on one order from one address
        getattr(settings, "RETURNS_RATE_LIMIT_PER_ORDER_ALL", 50),  # failed attempts on one order, all addresses
        getattr(settings, "RETURNS_RATE_LIMIT_WINDOW", 3600),
    )


def _hit(key, window):
    cache.add(key, 0, window)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, window)
        return 1


def _client_ip(request):
    return client_ip(request) or "unknown"


def _order_keys(request, number):
    digest = hashlib.sha256(_normal_number(number).encode()).hexdigest()[:32]
    return f"returns:rl:order:{digest}:{_client_ip(request)}", f"returns:rl:order:{digest}"


def _rate_limited(request, number=None):
    """Count one attempt from this address; True past its limit, or, for an order number,
    past the failed attempts allowed on that order (from this address, or from all).

    Only failures count against an order (_failed), and mostly per address: an order
    number is printed on every label, so anyone holding the parcel could otherwise lock
    the real buyer out by failing on purpose. Brute force from many addresses still stops
    at the all-address limit. The client address is REMOTE_ADDR, or, behind
    TRUSTED_PROXIES proxies, the address the nearest of them saw."""
    per_ip, per_order_ip, per_order, window = _limits()
    over = _hit(f"returns:rl:ip:{_client_ip(request)}", window) > per_ip
    if number is not None:
        mine, everyone = _order_keys(request, number)
        over = over or (cache.get(mine) or 0) >= per_order_ip or (cache.get(everyone) or 0) >= per_order
    return over


def _failed(request, number):
    """A wrong contact for this order number: it counts against the order (see above)."""
    window = _limits()[3]
    for key in _order_keys(request, number):
        _hit(key, window)


# --- proving ownership -------------------------------------------------------------------


def _normal_number(number):
    return (number or "").strip().upper()


def _digits(value):
    return re.sub(r"\D", "", value or "")


def _contact_matches(order, contact):
    contact = (contact or "").strip()
    if "@" in contact:
        return bool(order.buyer_email) and hmac.compare_digest(order.buyer_email.lower().encode(), contact.lower().encode())
    digits = _digits(contact)
    mine = _digits(order.buyer_phone)
    # At least 6 digits, and the typed number may leave out the country code.
    return len(digits) >= 6 and bool(mine) and (mine == digits or mine.endswith(digits) and len(digits) >= 8)


def _find(number, contact):
    """The order these details prove, or None; the same query and work either way."""
    order = Order.objects.filter(number__iexact=_normal_number(number)).first()
    return order if order is not None and _contact_matches(order, contact) else None


def _prove(request, order):
    request.session.cycle_key()  # a new session id once ownership is proven (no fixation)
    request.session[SESSION_KEY] = order.pk


def _proven_order(request):
    pk = request.session.get(SESSION_KEY)
    if not isinstance(pk, int):
        return None
    return Order.objects.select_related("shop").filter(pk=pk).first()


@never_cache
@require_http_methods(["GET", "POST"])
def find_order(request):
    if request.method == "GET":
        if _proven_order(request) is not None and not request.GET.get("other"):
            return redirect("returns_public:order")
        return render(request, "returns/public/find.html", {"form": LookupForm()})
    form = LookupForm(request.POST)
    number = request.POST.get("number", "")[:40]
    if _rate_limited(request, number):
        return render(request, "returns/public/find.html", {"form": form, "error": TOO_MANY}, status=429)
    order = _find(form.data.get("number", ""), form.data.get("contact", "")) if form.is_valid() else None
    if order is None:
        _failed(request, number)
        # The same page for a wrong number, a wrong email and a wrong phone.
        return render(request, "returns/public/find.html", {"form": LookupForm(initial={"number": number}),
                                                            "error": NOT_FOUND})
    _prove(request, order)
    return redirect("returns_public:order")


@never_cache
def open_link(request, token):
    if _rate_limited(request):
        return render(request, "returns/public/find.html", {"form": LookupForm(), "error": TOO_MANY}, status=429)
    found = links.read_token(token)
    order = Order.objects.filter(pk=found[0], number=found[1]).first() if found else None
    if order is None:
        return render(request, "returns/public/find.html", {"form": LookupForm(), "error": LINK_INVALID}, status=400)
    _prove(request, order)
    return redirect("returns_public:order")


@require_POST
def buyer_leave(request):
    request.session.pop(SESSION_KEY, None)
    return redirect("returns_public:find")


# --- the order page ----------------------------------------------------------------------


def _allowed_kinds(order, requests):
    if any(r.is_open for r in requests):
        return []
    return [k for k, states in transitions.ORDER_STATES_FOR_KIND.items() if order.status in states]


def _page_context(order, *, request_form=None, error=None):
    """A fixed number of queries whatever the number of lines, requests and photos."""
    lines = list(order.lines.all())
    requests = list(
        BuyerRequest.objects.filter(order=order).order_by("-created_at", "-id").prefetch_related(
            Prefetch("lines", queryset=RequestLine.objects.select_related("order_line")),
            Prefetch("photos", queryset=RequestPhoto.objects.all()),
            Prefetch("events", queryset=RequestEvent.objects.all()),
        )
    )
    kinds = _allowed_kinds(order, requests)
    already = dict(
        RequestLine.objects.filter(request__order=order, request__status__in=transitions.COUNTING)
        .values("order_line_id").annotate(n=Sum("quantity")).values_list("order_line_id", "n")
    )
    for line in lines:
        line.requestable = line.quantity - already.get(line.pk, 0)
    if request_form is None and kinds:
        request_form = RequestForm(lines=[line for line in lines if line.requestable > 0], kinds=kinds)
    return {
        "order": order,
        "lines": lines,
        "requests": requests,
        "kinds": kinds,
        "request_form": request_form if kinds else None,
        "ship_back_form": ShipBackForm(),
        # Where an approved return goes: the return address of the warehouse the order shipped from.
        "return_address": return_address_for(order) if any(r.can_ship_back for r in requests) else None,
        "message_form": MessageForm(),
        "order_messages": list(OrderMessage.objects.filter(order=order)),
        "refunds": list(Refund.objects.filter(order=order)),
        "max_photos": photos.max_photos(),
        "error": error,
        "now": timezone.now(),
    }


def _render_page(request, order, *, status=200, **kwargs):
    template = "returns/public/order.html#buyer-main" if request.htmx else "returns/public/order.html"
    # The buyer's own pick (the switcher's cookie) or the language they shopped in; the shop's clock.
    # Else the browser's (LocaleMiddleware's choice).
    picked = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
    language = picked if picked in CODES else order.language or translation.get_language()
    with buyer_language(order, language):
        return render(request, template, _page_context(order, **kwargs), status=status)


@never_cache
@vary_on_headers("HX-Request")
def buyer_order(request):
    order = _proven_order(request)
    if order is None:
        return redirect("returns_public:find")
    return _render_page(request, order)


def _after(request, order, *, ok=None, error=None, status=200, **kwargs):
    """HTMX: the page's main part again with a toast; otherwise a redirect (errors render)."""
    if request.htmx or error:
        response = _render_page(request, order, status=status if error else 200, error=error, **kwargs)
        return toast(response, error or ok, level="error" if error else "success")
    messages.success(request, ok)
    return redirect("returns_public:order")


def _buyer_request(order, pk):
    """One of the proven order's requests; anything else does not exist."""
    return get_object_or_404(BuyerRequest.objects.filter(order=order), pk=pk)


@require_POST
def buyer_open_request(request):
    order = _proven_order(request)
    if order is None:
        return redirect("returns_public:find")
    lines = list(order.lines.all())
    form = RequestForm(request.POST, request.FILES, lines=lines)
    if not form.is_valid():
        error = form_errors(form)
        return _after(request, order, error=error, status=400)
    try:
        # The limits first: decoding photos costs far more than counting.
        actions.check_request_limits(order, photo_count=len([p for p in form.cleaned_data["photos"] if p]))
        checked = photos.check_photos(form.cleaned_data["photos"])
        req = actions.open_request(
            order=order, kind=form.cleaned_data["kind"], reason=form.cleaned_data["reason"],
            description=form.cleaned_data["description"], quantities=form.quantities(), photos=checked,
        )
    except actions.TooManyRequests as exc:
        return _after(request, order, error=str(exc), status=429)
    except ActionRefused as exc:
        return _after(request, order, error=str(exc), status=400)
    return _after(request, order, ok=_("Request %(number)s sent to the seller.") % {"number": req.number})


@require_POST
def buyer_withdraw(request, pk):
    order = _proven_order(request)
    if order is None:
        return redirect("returns_public:find")
    req = _buyer_request(order, pk)
    try:
        actions.withdraw_request(request=req)
    except Refused as exc:
        return _after(request, order, error=str(exc), status=409)
    return _after(request, order, ok=_("Request %(number)s withdrawn.") % {"number": req.number})


@require_POST
def buyer_ship_back(request, pk):
    order = _proven_order(request)
    if order is None:
        return redirect("returns_public:find")
    req = _buyer_request(order, pk)
    form = ShipBackForm(request.POST)
    if not form.is_valid():
        return _after(request, order, error=_("Enter the return tracking number."), status=400)
    try:
        actions.ship_back(request=req, carrier=form.cleaned_data["carrier"], tracking=form.cleaned_data["tracking"])
    except Refused as exc:
        return _after(request, order, error=str(exc), status=409)
    return _after(request, order, ok=_("Return tracking number saved; the seller has been told."))


@require_POST
def buyer_message(request):
    order = _proven_order(request)
    if order is None:
        return redirect("returns_public:find")
    form = MessageForm(request.POST)
    if not form.is_valid():
        return _after(request, order, error=_("Write the message first (at most 4000 characters)."), status=400)
    try:
        actions.post_message(order=order, sender=OrderMessage.Sender.BUYER, body=form.cleaned_data["body"])
    except actions.TooManyMessages as exc:
        return _after(request, order, error=str(exc), status=429)
    except ActionRefused as exc:
        return _after(request, order, error=str(exc), status=400)
    return _after(request, order, ok=_("Message sent to the seller."))


def buyer_photo(request, pk, photo):
    order = _proven_order(request)
    if order is None:
        raise Http404("No such photo")
    item = get_object_or_404(RequestPhoto.objects.filter(request__order=order, request_id=pk), pk=photo)
    return photo_response(item)


def photo_response(item):
    response = FileResponse(files.open_or_404(item.file, "photo"), content_type=item.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Disposition"] = "inline"
    response["Cache-Control"] = "private, max-age=3600"
    return response
