"""The Inventory pages (SKUs with their stock per warehouse, a SKU's stock and ledger, the CSV import)
and the Warehouses settings page (addresses, default, holiday mode, the audit trail)."""

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from core import params
from core.actor import Actor
from core.htmx import form_errors, toast

from . import inventory, warehouses
from .access import require, shop_required
from .models import SKU, StockChange, Warehouse, WarehouseEvent, WarehouseStock
from .stock import MAX_STOCK, StaleStock, StockRefused, change_stock


class StockForm(forms.Form):
    warehouse = forms.TypedChoiceField(label=gettext_lazy("Warehouse"), coerce=int, choices=[])
    on_hand = forms.IntegerField(label=gettext_lazy("New stock on hand"), min_value=0, max_value=MAX_STOCK)
    reason = forms.ChoiceField(label=gettext_lazy("Reason"),
                               choices=[(r.value, r.label) for r in StockChange.MANUAL])
    note = forms.CharField(label=gettext_lazy("Note"), max_length=500, required=False)
    bin_location = forms.CharField(label=gettext_lazy("Bin location"), max_length=32, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)

    def __init__(self, *args, warehouse_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["warehouse"].choices = list(warehouse_choices)


class ImportForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("CSV file"))


# --- Inventory --------------------------------------------------------------------------------

def _inventory_context(request, shop, *, report=None, import_form=None):
    after = request.GET.get("after", "")[:64]
    query = request.GET.get("q", "").strip()[:64]
    if params.has_bad_characters(after) or params.has_bad_characters(query):
        raise params.BadParameter("The search holds control characters.")
    low_only = request.GET.get("low") == "1"
    rows, warehouse_list, next_after = inventory.page(shop, after=after, query=query, low_only=low_only)
    return {"shop": shop, "nav": "inventory", "rows": rows, "warehouses": warehouse_list, "next_after": next_after,
            "after": after, "q": query, "low_only": low_only, "report": report,
            "import_form": import_form or ImportForm(), "days": inventory.SALES_DAYS,
            "columns": inventory.CSV_COLUMNS, "reasons": StockChange.MANUAL}


@shop_required(perm="inventory.view")
@vary_on_headers("HX-Request", "HX-Target")
@require_GET
def inventory_page(request, shop):
    context = _inventory_context(request, shop)
    if request.htmx and request.headers.get("HX-Target") == "inventory-rows":
        return render(request, "shops/inventory.html#inventory-rows", context)
    if request.htmx:
        return render(request, "shops/inventory.html#inventory-main", context)
    return render(request, "shops/inventory.html", context)


@require_POST
@shop_required(perm="inventory.change")
@vary_on_headers("HX-Request")
def inventory_import(request, shop):
    form = ImportForm(request.POST, request.FILES)
    report = inventory.ImportReport()
    if not form.is_valid():
        report.file_error = form_errors(form)
    else:
        try:
            rows = inventory.read_csv(form.cleaned_data["file"])
        except inventory.CsvRefused as exc:
            report.file_error = str(exc)
        else:
            report = inventory.import_stock(shop=shop, rows=rows, actor=Actor.seller(request.user))
    status = 200 if report.ok else 400
    if report.ok and not request.htmx:
        messages.success(request, report.summary())
        return redirect("inventory:page", shop=shop.slug)
    context = _inventory_context(request, shop, report=report, import_form=form)
    template = "shops/inventory.html#inventory-main" if request.htmx else "shops/inventory.html"
    response = render(request, template, context, status=status)
    return toast(response, report.summary(), level="success" if report.ok else "error") if request.htmx else response


def _sku_context(request, shop, sku, *, form=None, error=None, message=None):
    warehouse_list = inventory.warehouses_of(shop)
    rows = {r.warehouse_id: r for r in WarehouseStock.objects.filter(sku=sku)}
    before = params.parse_id(request.GET.get("before"))
    changes, next_before = inventory.ledger(sku, before=before)
    sold = inventory.units_sold(shop, [sku.pk], timezone.now()).get(sku.pk, 0)
    choices = [(w.pk, w.name) for w in warehouse_list]
    return {
        "shop": shop, "nav": "inventory", "sku": sku, "warehouses": [(w, rows.get(w.pk)) for w in warehouse_list],
        "form": form or StockForm(warehouse_choices=choices, initial={"version": sku.stock_version}),
        "choices": choices, "changes": changes, "next_before": next_before, "error": error, "message": message,
        "sold": sold, "cover": inventory.days_of_cover(sku.available, sold), "days": inventory.SALES_DAYS,
        "low": sku.available < inventory.settings.STOCK_LOW_THRESHOLD,
    }


@shop_required(perm="inventory.view")
@vary_on_headers("HX-Request", "HX-Target")
@require_http_methods(["GET", "POST"])
def sku_page(request, shop, pk):
    sku = get_object_or_404(SKU.objects.for_shop(shop), pk=pk)
    if request.method == "GET":
        context = _sku_context(request, shop, sku)
        if request.htmx and request.headers.get("HX-Target") == "ledger-rows":
            return render(request, "shops/sku_stock.html#ledger-rows", context)
        template = "shops/sku_stock.html#sku-stock" if request.htmx else "shops/sku_stock.html"
        return render(request, template, context)
    require(request, "inventory.change")
    choices = [(w.pk, w.name) for w in inventory.warehouses_of(shop)]
    form = StockForm(request.POST, warehouse_choices=choices)

    def again(status, error=None, message=None):
        sku.refresh_from_db()
        context = _sku_context(request, shop, sku, form=form if error else None, error=error, message=message)
        template = "shops/sku_stock.html#sku-stock" if request.htmx else "shops/sku_stock.html"
        response = render(request, template, context, status=status)
        return toast(response, error or message, level="error" if error else "success") if request.htmx else response

    if not form.is_valid():
        return again(400, error=form_errors(form))
    data = form.cleaned_data
    warehouse = Warehouse.objects.for_shop(shop).active().get(pk=data["warehouse"])
    try:
        change_stock(sku=sku, actor=Actor.seller(request.user), reason=data["reason"], on_hand=data["on_hand"],
                     note=data["note"], expected_version=data["version"], warehouse=warehouse,
                     bin_location=data["bin_location"])
    except StaleStock as exc:
        # The figures on screen are old: show the new ones, with the member's entry kept under the new
        # version, so a second click is a decision made on what is there now.
        form = StockForm(warehouse_choices=choices, initial={**data, "version": exc.current})
        return again(409, error=str(exc))
    except StockRefused as exc:
        return again(409, error=str(exc))
    done = _("%(code)s in %(warehouse)s: %(n)s on hand.") % {"code": sku.code, "warehouse": warehouse.name,
                                                            "n": data["on_hand"]}
    if request.htmx:
        return again(200, message=done)
    messages.success(request, done)
    return redirect("inventory:sku", shop=shop.slug, pk=sku.pk)


# --- Warehouses -------------------------------------------------------------------------------

class WarehouseForm(forms.ModelForm):
    class Meta:
        model = Warehouse
        fields = list(warehouses.EDITABLE)


class HolidayForm(forms.Form):
    start = forms.DateTimeField(label=gettext_lazy("From"), input_formats=["%Y-%m-%dT%H:%M"],
                                widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"))
    end = forms.DateTimeField(label=gettext_lazy("Until"), input_formats=["%Y-%m-%dT%H:%M"],
                              widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"))
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


def _warehouses_context(request, shop, *, forms_by_pk=None, new_form=None, holiday_forms=None, error=None,
                        message=None):
    warehouse_list = list(Warehouse.objects.for_shop(shop).order_by("archived_at", "-is_default", "name"))
    forms_by_pk = forms_by_pk or {}
    holiday_forms = holiday_forms or {}
    return {
        "shop": shop, "nav": "warehouses", "error": error, "message": message,
        "items": [(w, forms_by_pk.get(w.pk) or WarehouseForm(instance=w, prefix=f"w{w.pk}"),
                   holiday_forms.get(w.pk) or HolidayForm(prefix=f"h{w.pk}")) for w in warehouse_list],
        "new_form": new_form or WarehouseForm(prefix="new"),
        "events": WarehouseEvent.objects.filter(warehouse__shop=shop).select_related("warehouse", "actor")[:50],
        "now": timezone.now(),
    }


def _warehouses_render(request, shop, status=200, **kw):
    context = _warehouses_context(request, shop, **kw)
    template = "shops/warehouses.html#warehouses-panel" if request.htmx else "shops/warehouses.html"
    response = render(request, template, context, status=status)
    if request.htmx and (kw.get("error") or kw.get("message")):
        return toast(response, kw.get("error") or kw.get("message"), level="error" if kw.get("error") else "success")
    return response


def _warehouses_done(request, shop, message):
    if request.htmx:
        return _warehouses_render(request, shop, message=message)
    messages.success(request, message)
    return redirect("warehouses:page", shop=shop.slug)


@shop_required(perm="warehouses.manage")
@vary_on_headers("HX-Request")
@require_http_methods(["GET", "POST"])
def warehouses_page(request, shop):
    """GET: the warehouses; POST: add one."""
    if request.method == "GET":
        return _warehouses_render(request, shop)
    form = WarehouseForm(request.POST, prefix="new")
    if not form.is_valid():
        return _warehouses_render(request, shop, status=400, new_form=form, error=form_errors(form))
    try:
        warehouse = warehouses.create_warehouse(shop=shop, actor=Actor.seller(request.user),
                                                values={f: form.cleaned_data.get(f) for f in warehouses.EDITABLE},
                                                make_default=request.POST.get("new-make_default") == "on")
    except warehouses.WarehouseRefused as exc:
        return _warehouses_render(request, shop, status=409, new_form=form, error=str(exc))
    return _warehouses_done(request, shop, _("Warehouse %(name)s added.") % {"name": warehouse.name})


def _warehouse(shop, pk):
    return get_object_or_404(Warehouse.objects.for_shop(shop), pk=pk)


@require_POST
@shop_required(perm="warehouses.manage")
@vary_on_headers("HX-Request")
def warehouse_action(request, shop, pk, action):
    warehouse = _warehouse(shop, pk)
    actor = Actor.seller(request.user)
    try:
        if action == "edit":
            form = WarehouseForm(request.POST, instance=_warehouse(shop, pk), prefix=f"w{pk}")
            if not form.is_valid():
                return _warehouses_render(request, shop, status=400, forms_by_pk={pk: form}, error=form_errors(form))
            warehouses.edit_warehouse(warehouse=warehouse, actor=actor,
                                      values={f: form.cleaned_data.get(f) for f in warehouses.EDITABLE})
            message = _("Warehouse %(name)s saved.")
        elif action == "default":
            warehouses.set_default(warehouse=warehouse, actor=actor)
            message = _("%(name)s is now the default warehouse.")
        elif action == "archive":
            warehouses.archive_warehouse(warehouse=warehouse, actor=actor)
            message = _("Warehouse %(name)s archived.")
        elif action == "holiday":
            form = HolidayForm(request.POST, prefix=f"h{pk}")
            with timezone.override(shop.tzinfo):
                valid = form.is_valid()
            if not valid:
                return _warehouses_render(request, shop, status=400, holiday_forms={pk: form}, error=form_errors(form))
            warehouses.request_holiday(warehouse=warehouse, actor=actor, start=form.cleaned_data["start"],
                                       end=form.cleaned_data["end"], reason=form.cleaned_data["reason"])
            message = _("Holiday for %(name)s sent to the platform for approval; deadlines pause once it is approved.")
        elif action == "withdraw":
            warehouses.withdraw_holiday(warehouse=warehouse, actor=actor)
            message = _("Holiday request for %(name)s withdrawn.")
        else:
            raise Http404
    except warehouses.WarehouseRefused as exc:
        forms_by_pk = {pk: form} if action == "edit" else None
        holiday_forms = {pk: form} if action == "holiday" else None
        return _warehouses_render(request, shop, status=409, error=str(exc), forms_by_pk=forms_by_pk,
                                  holiday_forms=holiday_forms)
    return _warehouses_done(request, shop, message % {"name": warehouse.name})
