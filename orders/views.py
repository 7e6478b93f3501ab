from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import trigger_client_event

from shops.access import shop_required

from . import actions
from .forms import CancelForm, NoteForm
from .models import Order
from .transitions import InvalidTransition

PAGE_SIZE = 50


def _order(shop, number):
    return get_object_or_404(Order.objects.for_shop(shop).select_related("shop"), number=number)


@shop_required
@vary_on_headers("HX-Request")
def order_list(request, shop):
    tab = request.GET.get("tab", "all")
    if tab != "all" and tab not in Order.Status.values:
        tab = "all"
    orders = Order.objects.for_shop(shop).in_tab(tab).order_by("-placed_at", "-id")
    orders = list(orders[: PAGE_SIZE + 1])
    context = {"shop": shop, "tab": tab, "orders": orders[:PAGE_SIZE], "tabs": Order.Status.choices}
    template = "orders/order_list.html#rows" if request.htmx else "orders/order_list.html"
    return render(request, template, context)


def _detail_context(shop, order):
    return {
        "shop": shop,
        "order": order,
        "lines": order.lines.all(),
        "events": order.events.select_related("actor"),
        "order_messages": order.messages.all(),
        "cancel_form": CancelForm(),
        "note_form": NoteForm(),
    }


@shop_required
@vary_on_headers("HX-Request")
def order_detail(request, shop, number):
    order = _order(shop, number)
    template = "orders/order_detail.html#order-main" if request.htmx else "orders/order_detail.html"
    return render(request, template, _detail_context(shop, order))


def _after_action(request, shop, order, *, ok=None, error=None, status=200, context=None):
    """HTMX: re-render the order's main panel with a toast; otherwise redirect (PRG)."""
    if request.htmx:
        order.refresh_from_db()
        ctx = _detail_context(shop, order)
        ctx.update(context or {})
        response = render(request, "orders/order_detail.html#order-main", ctx, status=status)
        return trigger_client_event(
            response, "toast", {"level": "error" if error else "success", "message": error or ok}
        )
    if error:
        messages.error(request, error)
    else:
        messages.success(request, ok)
    return redirect("orders:detail", shop=shop.slug, number=order.number)


@require_POST
@shop_required
def order_confirm(request, shop, number):
    order = _order(shop, number)
    try:
        actions.confirm_order(order=order, actor=actions.Actor.seller(request.user))
    except (InvalidTransition, actions.ActionRefused) as exc:
        return _after_action(request, shop, order, error=str(exc), status=409 if request.htmx else 200)
    return _after_action(request, shop, order, ok=f"Order {order.number} confirmed; stock reserved.")


@require_POST
@shop_required
def order_cancel(request, shop, number):
    order = _order(shop, number)
    form = CancelForm(request.POST)
    if not form.is_valid():
        error = "; ".join(e for errs in form.errors.values() for e in errs)
        return _after_action(request, shop, order, error=error, status=400 if request.htmx else 200,
                             context={"cancel_form": form})
    try:
        actions.cancel_order(
            order=order,
            actor=actions.Actor.seller(request.user),
            reason=form.cleaned_data["reason"],
            note=form.cleaned_data["note"],
        )
    except (InvalidTransition, actions.ActionRefused) as exc:
        return _after_action(request, shop, order, error=str(exc), status=409 if request.htmx else 200)
    return _after_action(request, shop, order, ok=f"Order {order.number} cancelled; the buyer has been told.")


@require_POST
@shop_required
def order_note(request, shop, number):
    order = _order(shop, number)
    form = NoteForm(request.POST)
    if not form.is_valid():
        return _after_action(request, shop, order, error="Write the note first (at most 2000 characters).",
                             status=400 if request.htmx else 200)
    actions.add_note(order=order, actor=actions.Actor.seller(request.user), text=form.cleaned_data["text"])
    return _after_action(request, shop, order, ok="Note added.")
