import csv
from datetime import timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.http import HttpResponse, HttpResponseBadRequest, QueryDict, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect, trigger_client_event

from core import params, payload
from core.actor import Actor
from core.htmx import after_action, form_errors, toast
from core.money import amount_text
from core.refusals import Refused
from shops.access import can, require, shop_required

from . import actions, listing, registry
from .forms import BulkCancelForm, CancelForm, NoteForm
from .models import ListPreference, Order, SavedView, Tag
from .templatetags.orders_tags import ROW_FIELDS, query_string
from .transitions import CANCELLABLE

BULK_LIMIT = 1000  # orders one bulk action may touch ("all matching" included)
BULK_PERMISSIONS = {"confirm": "orders.confirm", "cancel": "orders.cancel", "tag": "orders.note",
                    "untag": "orders.note"}
ABOUT_COUNT_TTL = timedelta(minutes=10)  # a saved view's "about" count is counted again after this
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


def _list_context(request, shop, *, report=None, confirm=None):
    form, data = _filters(request)
    refused = data is None
    data = data or {}
    tab = data.get("tab") or "all"
    counts = listing.tab_counts(shop)
    search = None if refused else listing.resolve_search(shop, data)
    config = listing.list_config(shop, request.user)
    sort = data.get("sort") or "newest"
    if refused:
        page = listing.empty_page()
    else:
        qs = listing.row_query(listing.filtered(shop, data, search=search).in_tab(tab), ROW_FIELDS)
        page = listing.page(
            qs,
            sort=sort,
            size=listing.page_size(data),
            after=request.GET.get("after"),
            before=request.GET.get("before"),
        )
    filters_active = any(data.get(k) for k in form.fields if k not in ("tab", "sort", "size"))
    current_query = listing.view_query(request.GET)
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
        "filters_active": filters_active,
        "cancel_reasons": CANCEL_REASONS,
        "report": report,
        "confirm": confirm,
        "now": timezone.now(),
        "list_query": request.GET.urlencode(),
        "tags": config.tags,
        "tag_filter": data.get("tag"),
        "saved_views": _saved_views(request, shop, config.views, counts, current_query),
        "current_query": current_query,
        "columns": [(key, label, key in config.columns) for key, label in listing.COLUMNS.items()],
        "hidden_columns": " ".join(f"hide-{key}" for key in listing.COLUMNS if key not in config.columns),
        "carriers": registry.ROW_CHOICES.get("carriers", []),
        "range": _range(request, page, counts[tab] if not filters_active and sort not in _PAID_ONLY else None),
    }


_PAID_ONLY = {key for key, (_label, field, _desc) in listing.SORTS.items() if field in listing.VALUE_REQUIRED_SORT_FIELDS}


def _range(request, page, total):
    """"1–50 of 160" and the position of the next and previous pages. Keyset pages carry their
    first row's position in `pos` (no OFFSET, no COUNT); the total is the tab's counter, when
    the list is the whole tab, else not shown."""
    start = params.parse_int(request.GET.get("pos"), 1, lo=1, hi=10**9)
    if not page.prev_cursor:
        start = 1
    end = start + len(page.rows) - 1
    return {
        "start": str(start), "end": str(end), "total": None if total is None else str(total),
        "empty": not page.rows,
        "next_pos": str(end + 1), "prev_pos": str(max(1, start - page.size)),
    }


def _saved_views(request, shop, views, counts, current_query):
    """The shop's saved views as tabs: each with its link and its count, exact (a plain tab's
    counter), an "about" count kept on the view, or a URL that counts it after the page loads."""
    now = timezone.now()
    may_manage = can(request, "orders.views")
    out = []
    for view in views:
        form = listing.OrderFilterForm(QueryDict(view.query))
        data = form.cleaned_data if form.is_valid() else None
        exact = listing.exact_count(data, counts) if data is not None else None
        fresh = view.counted_at is not None and view.counted_at > now - ABOUT_COUNT_TTL
        out.append({
            "view": view,
            "url": "?" + view.query,
            "current": view.query == current_query,
            "count": str(exact) if exact is not None else (_about(view.about_count) if fresh else None),
            "about": exact is None,
            "manage": may_manage or view.created_by_id == request.user.pk,
        })
    return out


def _about(count):
    if count is None:
        return None
    return f"{SavedView.ABOUT_LIMIT}+" if count > SavedView.ABOUT_LIMIT else str(count)


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
    if not error and _needs_confirmation(request, action) and request.POST.get("confirmed") != "1":
        confirm, error = _confirmation(request, shop, action, ids)
        if confirm is not None:
            return _ask_first(request, shop, confirm)
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
    elif request.POST.get("confirmed") == "1":
        # The confirmation step re-posts the ids it asked about, never "all matching" again.
        ids = params.parse_ids(request.POST.getlist("ids")[: BULK_LIMIT + 1])
        return action, ids, None
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
        return _("The selection holds something that is not an order; reload the page and select again.")
    if not ids:
        return _("Select at least one order.")
    if len(ids) > BULK_LIMIT:
        return _("At most %(bulk_limit)s orders at once; narrow the filter.") % {"bulk_limit": BULK_LIMIT}
    return None


def _needs_confirmation(request, action):
    """Cancelling, and any action on every order matching the view, asks first (on the server:
    without JS the same step is a page)."""
    return action == "cancel" or (action in BULK_PERMISSIONS and request.POST.get("all_matching") == "1")


def _confirmation(request, shop, action, ids):
    """(what the confirmation step says and re-posts, or None; an error that stops here)."""
    tag = None
    if action == "cancel":
        form = BulkCancelForm(request.POST)
        if not form.is_valid():
            return None, form_errors(form)
    if action in ("tag", "untag"):
        tag, error = _chosen_tag(request, shop)
        if error:
            return None, error
    found = Order.objects.for_shop(shop).filter(pk__in=ids).aggregate(
        n=Count("pk"), cancellable=Count("pk", filter=Q(status__in=CANCELLABLE)))
    n = found["n"]
    if action == "cancel":
        question = ngettext("Cancel %(n)d order?", "Cancel %(n)d orders?", n) % {"n": n}
        detail = _("Shop-caused cancellations count against your cancellation rate, and each buyer is told.")
        if found["cancellable"] < n:
            detail += " " + ngettext("%(m)d of them can no longer be cancelled and will be reported.",
                                     "%(m)d of them can no longer be cancelled and will be reported.",
                                     n - found["cancellable"]) % {"m": n - found["cancellable"]}
        yes = ngettext("Yes, cancel %(n)d order", "Yes, cancel %(n)d orders", n) % {"n": n}
    elif action == "confirm":
        question = ngettext("Confirm %(n)d order, all matching this view?",
                            "Confirm %(n)d orders, all matching this view?", n) % {"n": n}
        detail = _("Stock is reserved for each order that can be confirmed; the others are reported.")
        yes = ngettext("Yes, confirm %(n)d order", "Yes, confirm %(n)d orders", n) % {"n": n}
    elif action == "tag":
        question = ngettext("Add the tag “%(tag)s” to %(n)d order, all matching this view?",
                            "Add the tag “%(tag)s” to %(n)d orders, all matching this view?", n) % {"n": n, "tag": tag}
        detail = _("Each order's history records the tag.")
        yes = _("Yes, add the tag")
    else:
        question = ngettext("Remove the tag “%(tag)s” from %(n)d order, all matching this view?",
                            "Remove the tag “%(tag)s” from %(n)d orders, all matching this view?", n) % {"n": n, "tag": tag}
        detail = _("Each order's history records the removal.")
        yes = _("Yes, remove the tag")
    keep = [(name, request.POST.get(name, "")) for name in ("action", "reason", "note", "tag")]
    return {"question": question, "detail": detail, "yes": yes, "danger": action == "cancel",
            "fields": [(k, v) for k, v in keep if v], "ids": [str(i) for i in ids]}, None


def _ask_first(request, shop, confirm):
    """The confirmation step: the list with the question and a form that posts the same
    selection again with confirmed=1. Nothing is written."""
    context = _list_context(request, shop, confirm=confirm)
    if request.htmx:
        return render(request, "orders/order_list.html#results", context)
    return render(request, "orders/order_list.html", context)


def _chosen_tag(request, shop):
    tag_id = params.parse_id(request.POST.get("tag"))
    tag = Tag.objects.filter(shop=shop, pk=tag_id).first() if tag_id else None
    if tag is None:
        return None, _("Choose one of the shop's tags.")
    return tag, None


def _bulk_action(request, shop, action, ids):
    """(report, error) of the chosen action on the selected orders."""
    if action == "confirm":
        result = actions.confirm_orders(shop=shop, order_ids=ids, actor=Actor.seller(request.user))
        return _report(shop, result, _("confirmed")), None
    if action == "cancel":
        return _bulk_cancel(request, shop, ids)
    if action in ("tag", "untag"):
        tag, error = _chosen_tag(request, shop)
        if error:
            return None, error
        try:
            result = actions.tag_orders(shop=shop, order_ids=ids, tag=tag, actor=Actor.seller(request.user),
                                        add=action == "tag")
        except actions.ActionRefused as exc:
            return None, str(exc)
        verb = (_("tagged “%(tag)s”") if action == "tag" else _("untagged “%(tag)s”")) % {"tag": tag.name}
        return _report(shop, result, verb), None
    return None, _("Choose an action.")


def _report(shop, result, verb):
    """What the bulk report shows: counts, and links to the orders it names (each refused one;
    the done ones as one search of their numbers, when they fit in a search)."""
    detail = cached_detail_prefix(shop)
    done = [getattr(o, "number", o) for o in result.done]
    refused = [(number, str(why), f"{detail}{number}/" if number != "(not found)" else "")
               for number, why in result.refused.items()]
    done_url = ""
    if done and len(done) <= listing.MAX_SEARCH_TOKENS:
        done_url = reverse("orders:list", kwargs={"shop": shop.slug}) + "?" + urlencode({"q": " ".join(done)})
    return {"result": result, "verb": verb, "done_count": str(len(done)), "refused": refused, "done_url": done_url}


def cached_detail_prefix(shop):
    return reverse("orders:detail", kwargs={"shop": shop.slug, "number": "0"})[:-2]


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
    return _report(shop, result, _("cancelled")), None


def _bulk_message(report, error):
    """(toast text, level): error when refused or nothing was done, warning when some orders were refused."""
    message = error or report["result"].summary(report["verb"])
    level = "error" if error or not report["result"].done else ("warning" if report["result"].refused else "success")
    return message, level


def _back_to_list(request, shop, query=None):
    """HTMX: reload the list (the filter bar, tabs and rows all change); else redirect (PRG)."""
    url = reverse("orders:list", kwargs={"shop": shop.slug})
    query = request.POST.get("back", "") if query is None else query
    url = f"{url}?{query}" if query else url
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return redirect(url)


def _refused(request, shop, message, status=400):
    """A refused list tool (a tag, a saved view): a toast for HTMX, else the message and back."""
    if request.htmx:
        return toast(HttpResponse(status=status), message, level="error")
    messages.error(request, message)
    return _back_to_list(request, shop)


@require_POST
@shop_required(perm="orders.tags")
def tag_create(request, shop):
    try:
        tag = actions.create_tag(shop=shop, name=request.POST.get("name"))
    except actions.ActionRefused as exc:
        return _refused(request, shop, str(exc))
    messages.success(request, _("Tag “%(tag)s” created.") % {"tag": tag.name})
    return _back_to_list(request, shop)


@require_POST
@shop_required
def view_save(request, shop):
    """Save the list's current filter and sort as a view of the shop's team."""
    name = " ".join((request.POST.get("name") or "").split())
    query = listing.view_query(QueryDict(request.POST.get("back", "")))
    max_name = SavedView._meta.get_field("name").max_length
    if problem := payload.text_error(name):
        return _refused(request, shop, f"The view's name {problem}.")  # not yet in the catalogs
    if not name or len(name) > max_name:
        return _refused(request, shop, _("Name the view (at most %(n)d characters).") % {"n": max_name})
    if len(query) > SavedView._meta.get_field("query").max_length:
        return _refused(request, shop, _("This filter is too long to save; paste fewer numbers."))
    form = listing.OrderFilterForm(QueryDict(query))
    if query and not form.is_valid():
        return _refused(request, shop, _("Fix the filter first: %(errors)s") % {"errors": form_errors(form)})
    try:
        with transaction.atomic():
            SavedView.objects.create(shop=shop, name=name, query=query, created_by=request.user)
    except IntegrityError:
        return _refused(request, shop, _("The shop already has a view named “%(name)s”.") % {"name": name})
    messages.success(request, _("View “%(name)s” saved for the whole team.") % {"name": name})
    return _back_to_list(request, shop, query)


def _own_view(request, shop, pk):
    """The shop's saved view, if this member may change it: its creator, or a member holding
    orders.views (403 otherwise)."""
    view = get_object_or_404(SavedView.objects.filter(shop=shop), pk=pk)
    if view.created_by_id != request.user.pk:
        require(request, "orders.views")
    return view


@require_POST
@shop_required
def view_rename(request, shop, pk):
    view = _own_view(request, shop, pk)
    name = " ".join((request.POST.get("name") or "").split())
    max_name = SavedView._meta.get_field("name").max_length
    if problem := payload.text_error(name):
        return _refused(request, shop, f"The view's name {problem}.")  # not yet in the catalogs
    if not name or len(name) > max_name:
        return _refused(request, shop, _("Name the view (at most %(n)d characters).") % {"n": max_name})
    try:
        with transaction.atomic():
            SavedView.objects.filter(pk=view.pk).update(name=name)
    except IntegrityError:
        return _refused(request, shop, _("The shop already has a view named “%(name)s”.") % {"name": name})
    messages.success(request, _("View renamed to “%(name)s”.") % {"name": name})
    return _back_to_list(request, shop)


@require_POST
@shop_required
def view_delete(request, shop, pk):
    view = _own_view(request, shop, pk)
    view.delete()  # a saved filter, nothing a dispute needs
    messages.success(request, _("View “%(name)s” deleted.") % {"name": view.name})
    return _back_to_list(request, shop)


@require_GET
@shop_required
def view_count(request, shop, pk):
    """A saved view's "about" count, counted up to SavedView.ABOUT_LIMIT and kept on the view
    for ABOUT_COUNT_TTL: the tab asks for it after the page has loaded."""
    view = get_object_or_404(SavedView.objects.filter(shop=shop), pk=pk)
    form = listing.OrderFilterForm(QueryDict(view.query))
    count = None
    if form.is_valid():
        now = timezone.now()
        if view.counted_at and view.counted_at > now - ABOUT_COUNT_TTL:
            count = view.about_count
        else:
            count = listing.about_count(shop, form.cleaned_data, SavedView.ABOUT_LIMIT)
            SavedView.objects.filter(pk=view.pk).update(about_count=count, counted_at=now)
    return render(request, "orders/order_list.html#view-count",
                  {"v": {"view": view, "count": _about(count) if count is not None else "?", "about": True}})


@require_POST
@shop_required
def list_columns(request, shop):
    """The columns this member sees in Manage Orders, remembered per member and shop."""
    chosen = [c for c in request.POST.getlist("columns") if c in listing.COLUMNS]
    ListPreference.objects.update_or_create(shop=shop, user=request.user,
                                            defaults={"columns": ",".join(dict.fromkeys(chosen))})
    return _back_to_list(request, shop)


# A cell a spreadsheet would read as a formula (or, after a tab or CR, as the start of one):
# OWASP's CSV injection list.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value):
    """Text that starts like a formula, with a single quote in front, so Excel, LibreOffice and
    Sheets show it as text; buyers and storefronts choose names, addresses and numbers."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


_ADDRESS_FIELDS = ("buyer_phone", "address_line1", "address_line2", "subdistrict", "district", "city", "region",
                   "postal_code", "country")


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
            # The total as a plain number at its currency's precision (1250000 VND, 49.00 USD).
            yield writer.writerow([*(cell(getattr(row, c)) if c != "total" else amount_text(row.total, row.currency)
                                     for c in columns),
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
        "order_tags": order.tags.all(),
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
    return after_order_action(request, shop, order, ok=_("Order %(number)s confirmed; stock reserved.") % {"number": order.number})


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
    return after_order_action(request, shop, order, ok=_("Order %(number)s cancelled; the buyer has been told.") % {"number": order.number})


@require_POST
@shop_required(perm="orders.note")
def order_pin(request, shop, number):
    """Pin (or, empty, unpin) the order's one internal note."""
    order = _order(shop, number)
    text = "" if request.POST.get("unpin") else request.POST.get("pinned_note", "")
    try:
        order, changed = actions.pin_note(order=order, actor=Actor.seller(request.user), text=text)
    except actions.ActionRefused as exc:
        return after_order_action(request, shop, order, error=str(exc), status=400)
    if not changed:
        return after_order_action(request, shop, order, ok=_("The pinned note is unchanged."))
    return after_order_action(request, shop, order, ok=_("Note pinned.") if order.pinned_note else _("Note unpinned."))


@require_POST
@shop_required(perm="orders.note")
def order_note(request, shop, number):
    order = _order(shop, number)
    form = NoteForm(request.POST)
    if not form.is_valid():
        return after_order_action(request, shop, order, error=_("Write the note first (at most 2000 characters)."), status=400)
    actions.add_note(order=order, actor=Actor.seller(request.user), text=form.cleaned_data["text"])
    return after_order_action(request, shop, order, ok=_("Note added."))
