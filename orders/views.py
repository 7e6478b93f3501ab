import csv

from django.contrib import messages
from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import trigger_client_event

from core import params
from core.actor import Actor
from core.htmx import after_action, form_errors, toast
from core.refusals import Refused
from shops.access import can, require, shop_required

from . import actions, listing, registry
from .forms import BulkCancelForm, CancelForm, NoteForm
from .models import Order
from .templatetags.orders_tags import ROW_FIELDS, query_string

BULK_LIMIT = 1000  # orders one bulk action may touch ("all matching" included)
BULK_PERMISSIONS = {"confirm": "orders.confirm", "cancel": "orders.cancel"}
CANCEL_REASONS = BulkCancelForm.base_fields["reason"].choices  # the bulk bar's <select>


def _order(shop, number):
    return get_object_or_404(Order.objects.for_shop(shop).select_related("shop"), number=number)


# --- Manage Orders ---------------------------------------------------------------------


def _filters(request):
    """(form, cleaned data) of the list's filter in the query string; data is None when the
    form refuses any field: a list never shows, counts, exports or acts on a filter other
    than the one the seller asked for (101 pasted tokens are not "no search")."""
    form = listing.OrderFilterForm(request.GET or None)
    if not form.is_bound:
        return form, {}
    return form, (form.cleaned_data if form.is_valid() else None)


def _list_context(request, shop, *, report=None):
    form, data = _filters(request)
    refused = data is None
    data = data or {}
    tab = data.get("tab") or "all"
    counts = listing.tab_counts(shop)
    search = None if refused else listing.resolve_search(shop, data)
    if refused:
        page = listing.empty_page()
    else:
        qs = listing.filtered(shop, data, search=search).in_tab(tab).values_list(*ROW_FIELDS, named=True)
        page = listing.page(
            qs,
            sort=data.get("sort") or "newest",
            size=listing.page_size(data),
            after=request.GET.get("after"),
            before=request.GET.get("before"),
        )
    return {
        "shop": shop,
        "nav": "orders",
        "form": form,
        "filter_refused": refused,
        "extra_filters": [form[key] for key in registry.LIST_FILTERS],
        "tab": tab,
        # Counts as text: {{ number }} would run number localization (get_language(),
        # formats) for each of the ten, to print the same digits.
        "tabs": [
            (value, label, str(counts[value]), query_string(request.GET, tab=value)) for value, label in listing.TABS
        ],
        "tab_count": str(counts[tab]),
        "counts": counts,
        "page": page,
        "page_size": str(page.size),
        "orders": page.rows,
        "not_found": search.not_found if search else [],
        "filters_active": any(data.get(k) for k in form.fields if k not in ("tab", "sort", "size")),
        "cancel_reasons": CANCEL_REASONS,
        "report": report,
        "now": timezone.now(),
        "list_query": request.GET.urlencode(),
    }


@shop_required
@vary_on_headers("HX-Request")
def order_list(request, shop):
    context = _list_context(request, shop)
    if request.htmx and request.htmx.target == "results":
        return render(request, "orders/order_list.html#results", context)
    return render(request, "orders/order_list.html", context)


@shop_required
@vary_on_headers("HX-Request")
def needs_action(request, shop):
    """The needs-action board: each card a count that opens the matching list."""
    now = timezone.now()
    cards = [
        {"card": card, "count": card.count(shop, now), "query": card.query}
        for card in registry.cards()
    ]
    # Without JS the list's "Open the board" link comes here: the board as a page of its own.
    template = "orders/_board.html" if request.htmx else "orders/board.html"
    return render(request, template, {"shop": shop, "nav": "orders", "cards": cards})


@require_POST
@shop_required
def order_bulk(request, shop):
    """Confirm or cancel the selected orders (or all matching the filter), reporting per order."""
    action, ids, error = _bulk_selection(request, shop)
    if action in BULK_PERMISSIONS:
        require(request, BULK_PERMISSIONS[action])
    # A request no page of ours sends: a refused filter behind "all matching", ids that are not ids.
    malformed = error is not None or ids is None
    error = error or _selection_error(ids)
    report = None
    if not error:
        report, error = _bulk_action(request, shop, action, ids)
    message, level = _bulk_message(report, error)
    if request.htmx:
        context = _list_context(request, shop, report=report)
        response = render(request, "orders/order_list.html#results", context, status=400 if error else 200)
        trigger_client_event(response, "orders-changed")
        return toast(response, message, level=level)
    getattr(messages, "error" if level == "error" else "success")(request, message)
    if malformed:
        # A 400 with the list and its errors, nothing done. Other refusals come back to the
        # list through the redirect, with the message.
        return render(request, "orders/order_list.html", _list_context(request, shop), status=400)
    url = reverse("orders:list", kwargs={"shop": shop.slug})
    query = request.META.get("QUERY_STRING", "")
    return redirect(f"{url}?{query}" if query else url)


def _bulk_selection(request, shop):
    """(action, order ids or None if one is not an id, the refused filter's error or None)."""
    action = request.POST.get("action")
    if request.POST.get("row_confirm"):
        action, ids = "confirm", params.parse_ids([request.POST["row_confirm"]])
    else:
        # BULK_LIMIT + 1 values still parse, so "at most 1000" is the answer to 1001.
        ids = params.parse_ids(request.POST.getlist("ids")[: BULK_LIMIT + 1])
    if request.POST.get("all_matching") == "1":
        # The filter travels in the query string, so it is the same one the seller sees; a
        # filter the list refuses matches nothing (never "the whole tab").
        form, data = _filters(request)
        if data is None:
            return action, [], "Fix the filter first: " + form_errors(form)
        qs = listing.filtered(shop, data).in_tab(data.get("tab") or "all")
        ids = list(qs.order_by("placed_at", "pk").values_list("pk", flat=True)[: BULK_LIMIT + 1])
    return action, ids, None


def _selection_error(ids):
    if ids is None:
        return "The selection holds something that is not an order; reload the page and select again."
    if not ids:
        return "Select at least one order."
    if len(ids) > BULK_LIMIT:
        return f"At most {BULK_LIMIT} orders at once; narrow the filter."
    return None


def _bulk_action(request, shop, action, ids):
    """(report, error) of the chosen action on the selected orders."""
    if action == "confirm":
        result = actions.confirm_orders(shop=shop, order_ids=ids, actor=Actor.seller(request.user))
        return {"result": result, "verb": "confirmed"}, None
    if action == "cancel":
        return _bulk_cancel(request, shop, ids)
    return None, "Choose an action."


def _bulk_cancel(request, shop, ids):
    form = BulkCancelForm(request.POST)
    if not form.is_valid():
        return None, form_errors(form)
    try:
        result = actions.cancel_orders(
            shop=shop, order_ids=ids, actor=Actor.seller(request.user),
            reason=form.cleaned_data["reason"], note=form.cleaned_data["note"],
        )
    except actions.ActionRefused as exc:
        return None, str(exc)
    return {"result": result, "verb": "cancelled"}, None


def _bulk_message(report, error):
    """(toast text, level): error when refused or nothing was done, warning when some orders were refused."""
    message = error or report["result"].summary(report["verb"])
    level = "error" if error or not report["result"].done else ("warning" if report["result"].refused else "success")
    return message, level


# A cell a spreadsheet would read as a formula (or, after a tab or CR, as the start of one):
# OWASP's CSV injection list.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value):
    """Text that starts like a formula, with a single quote in front, so Excel, LibreOffice and
    Sheets show it as text; buyers and storefronts choose names, addresses and numbers."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


_ADDRESS_FIELDS = ("buyer_phone", "address_line1", "address_line2", "city", "region", "postal_code", "country")


class _Echo:
    def write(self, value):
        return value


@shop_required(perm="orders.export")
def order_export(request, shop):
    """The current filter as CSV, streamed row by row (constant memory at any size). A
    filter the list refuses is a 400 naming the fields, never the whole tab."""
    form, data = _filters(request)
    if data is None:
        errors = "; ".join(f"{name}: {' '.join(errs)}" for name, errs in form.errors.items())
        return HttpResponseBadRequest(f"The filter is not valid, so nothing was exported. {errors}\n",
                                      content_type="text/plain; charset=utf-8")
    qs = listing.filtered(shop, data).in_tab(data.get("tab") or "all").order_by("-placed_at", "-pk")
    columns = ["number", "status", "shipping_model", "placed_at", "paid_at", "ship_by", "buyer_name",
               "city", "country", "item_count", "items_summary", "total", "currency", "cancel_reason"]
    # The buyer's phone and street address in full only for a role holding buyer.full_address;
    # masked as on the pages for the rest (Finance exports without them).
    full = can(request, "buyer.full_address")
    phone_of = (lambda o: o.buyer_phone) if full else Order.masked_phone.fget
    address_of = Order.full_address.fget if full else Order.masked_address.fget
    tz = shop.tzinfo

    def cell(v):
        return v.astimezone(tz).isoformat(timespec="seconds") if hasattr(v, "astimezone") else spreadsheet_safe(v)

    def rows():
        writer = csv.writer(_Echo())
        yield writer.writerow([*columns, "phone", "address"])
        read = [*columns, *(c for c in _ADDRESS_FIELDS if c not in columns)]
        for row in qs.values_list(*read, named=True).iterator(chunk_size=2000):
            yield writer.writerow([*(cell(getattr(row, c)) for c in columns),
                                   spreadsheet_safe(phone_of(row)), spreadsheet_safe(address_of(row))])

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    stamp = timezone.now().astimezone(tz).strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="{shop.slug}-orders-{stamp}.csv"'
    return response


# --- the order page --------------------------------------------------------------------


def _detail_context(shop, order):
    return {
        "shop": shop,
        "nav": "orders",
        "order": order,
        "lines": order.lines.all(),
        "events": order.events.select_related("actor"),
        "order_messages": order.messages.all(),
        "cancel_form": CancelForm(),
        "note_form": NoteForm(),
        "panels": [(p, p.context(shop, order)) for p in registry.panels()],
        "now": timezone.now(),
    }


@shop_required
@vary_on_headers("HX-Request")
def order_detail(request, shop, number):
    order = _order(shop, number)
    template = "orders/order_detail.html#order-main" if request.htmx else "orders/order_detail.html"
    return render(request, template, _detail_context(shop, order))


def after_order_action(request, shop, order, *, ok=None, error=None, status=200, context=None):
    """HTMX: re-render the order's main panel with a toast; otherwise redirect (PRG)."""

    def main_panel():
        order.refresh_from_db()
        ctx = _detail_context(shop, order)
        ctx.update(context or {}, action_error=error)
        return render(request, "orders/order_detail.html#order-main", ctx, status=status)

    return after_action(request, render_partial=main_panel, ok=ok, error=error,
                        redirect_to=reverse("orders:detail", kwargs={"shop": shop.slug, "number": order.number}))


@require_POST
@shop_required(perm="orders.confirm")
def order_confirm(request, shop, number):
    order = _order(shop, number)
    try:
        actions.confirm_order(order=order, actor=Actor.seller(request.user))
    except Refused as exc:
        return after_order_action(request, shop, order, error=str(exc), status=409)
    return after_order_action(request, shop, order, ok=f"Order {order.number} confirmed; stock reserved.")


@require_POST
@shop_required(perm="orders.cancel")
def order_cancel(request, shop, number):
    order = _order(shop, number)
    form = CancelForm(request.POST)
    if not form.is_valid():
        error = form_errors(form)
        return after_order_action(request, shop, order, error=error, status=400, context={"cancel_form": form})
    try:
        actions.cancel_order(
            order=order,
            actor=Actor.seller(request.user),
            reason=form.cleaned_data["reason"],
            note=form.cleaned_data["note"],
        )
    except Refused as exc:
        return after_order_action(request, shop, order, error=str(exc), status=409)
    return after_order_action(request, shop, order, ok=f"Order {order.number} cancelled; the buyer has been told.")


@require_POST
@shop_required(perm="orders.note")
def order_note(request, shop, number):
    order = _order(shop, number)
    form = NoteForm(request.POST)
    if not form.is_valid():
        return after_order_action(request, shop, order, error="Write the note first (at most 2000 characters).", status=400)
    actions.add_note(order=order, actor=Actor.seller(request.user), text=form.cleaned_data["text"])
    return after_order_action(request, shop, order, ok="Note added.")
