import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orders.admin import OVERRIDE_LIMIT, OVERRIDES
from orders.models import Order, OrderEvent, OrderLine, OrderMessage, OrderStatusCount
from orders.tests.factories import advance, make_order
from orders.transitions import TRANSITIONS
from shops.tests.factories import UserFactory

S = Order.Status
pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/orders/order/"
LEGAL = [(action, status) for action, (sources, _) in TRANSITIONS.items() for status in sorted(sources)]
ILLEGAL = [(action, status) for action, (sources, _) in TRANSITIONS.items() for status in S.values if status not in sources]


def order_in(status, **kwargs):
    order = make_order(paid=status != S.UNPAID, **kwargs)
    return advance(order, status)


def snapshot(order):
    order.refresh_from_db()
    return order.status, order.updated_at, order.events.count(), order.messages.count()


def texts(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def override(client, name, orders, **data):
    """The changelist action's confirmation POST: same action and selection, plus `apply`."""
    payload = {"action": f"override_{name}", "_selected_action": [o.pk for o in orders], "apply": "yes", **data}
    return client.post(CHANGELIST, payload)


# --- pages ---------------------------------------------------------------------------


def test_order_changelist_with_filters_and_search_renders(admin_client):
    order = order_in(S.IN_TRANSIT)
    other = make_order(shop=order.shop)
    sku_code = order.lines.get().sku_code
    both, only = {order.number, other.number}, {order.number}
    for query, expected in [("", both), ("?status__exact=IN_TRANSIT", only), (f"?shop__id__exact={order.shop_id}", both),
                            ("?shipping_model__exact=SELLER", set()), (f"?q={order.number}", only), (f"?q={sku_code}", only),
                            ("?q=Dana+Buyer", both), ("?placed_at__year=2030", set())]:
        response = admin_client.get(CHANGELIST + query)
        assert response.status_code == 200, query
        assert {o.number for o in response.context["cl"].result_list} == expected, query
        body = response.content.decode()
        for number in both:
            assert (f">{number}</a>" in body) == (number in expected), (query, number)
    # The columns staff read, with the total in the shop's currency.
    body = admin_client.get(CHANGELIST).content.decode()
    for column in ("column-number", "column-shop", "column-status", "column-shipping_model", "column-buyer_name",
                   "column-total_with_currency", "column-placed_at"):
        assert column in body, column
    assert f"{order.total} {order.currency}" in body and "In transit" in body


def test_order_changelist_queries_do_not_grow_with_rows(admin_client, django_assert_num_queries):
    for _ in range(3):
        make_order()
    admin_client.get(CHANGELIST)
    with CaptureQueriesContext(connection) as few:
        admin_client.get(CHANGELIST)
    for _ in range(5):
        make_order()
    with django_assert_num_queries(len(few.captured_queries)):
        admin_client.get(CHANGELIST)


def test_order_change_page_renders_read_only_with_full_buyer_contact(admin_client):
    order = order_in(S.AWAITING_SHIPMENT, phone="+15557654321")
    response = admin_client.get(f"{CHANGELIST}{order.pk}/change/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "+15557654321" in body and "1 Market St" in body and "62701" in body
    assert 'name="status"' not in body and 'name="buyer_phone"' not in body
    assert 'name="_save"' not in body
    # Lines, the whole history (oldest first) and the overrides this status allows.
    assert order.lines.get().sku_code in body
    assert body.index(">Order placed<") < body.index(">Payment received<") < body.index(">Confirmed<")
    assert f"/admin/orders/order/{order.pk}/override/arrange_shipment/" in body
    assert f"/admin/orders/order/{order.pk}/override/cancel/" in body
    assert f"/admin/orders/order/{order.pk}/override/pay/" not in body


def test_order_change_post_is_refused_and_changes_nothing(admin_client):
    order = order_in(S.AWAITING_CONFIRMATION)
    before = snapshot(order)
    response = admin_client.post(f"{CHANGELIST}{order.pk}/change/", {"status": S.COMPLETED, "buyer_name": "X"})
    assert response.status_code == 403
    assert snapshot(order) == before


@pytest.mark.parametrize(
    "url",
    ["/admin/orders/orderevent/", "/admin/orders/ordermessage/", "/admin/orders/orderline/",
     "/admin/orders/orderstatuscount/", "/admin/orders/orderevent/?actor_kind__exact=staff&action=cancel",
     "/admin/orders/orderevent/?q=T", "/admin/orders/"],
)
def test_orders_changelist_renders(admin_client, url):
    order = order_in(S.CANCELLED)
    other = make_order()  # awaiting confirmation, another shop
    response = admin_client.get(url)
    assert response.status_code == 200
    body = response.content.decode()
    if url == "/admin/orders/":  # the app index lists its models
        for model in ("orderevent", "ordermessage", "orderline", "orderstatuscount", "order"):
            assert f'href="/admin/orders/{model}/"' in body, model
        return
    cl = response.context["cl"]
    rows = list(cl.queryset)
    if cl.model is OrderEvent:
        if "actor_kind__exact=staff" in url or "q=T" in url:
            # No staff acted; "T" is no order number (the search matches the whole number).
            assert rows == [] and "0 order events" in body
        else:
            assert {e.action for e in rows} == {"place", "pay", "cancel"} and order.number in body
            assert "column-from_status" in body and "column-actor_label" in body
    elif cl.model is OrderMessage:
        assert [m.order for m in rows] == [order] and "column-sender" in body
        assert rows[0].body[:40] in body
    elif cl.model is OrderLine:
        assert {line.order for line in rows} == {order, other}
        assert all(line.sku_code in body for line in rows)
    elif cl.model is OrderStatusCount:
        counts = {(c.shop_id, c.status): c.count for c in rows}
        assert counts[(order.shop_id, S.CANCELLED)] == 1 and counts[(other.shop_id, S.AWAITING_CONFIRMATION)] == 1
        assert "column-order_link" in body


def model_admin_fields(response):
    """The field names of the admin form on `response`'s change page (read-only ones included)."""
    return [name for fieldset in response.context["adminform"] for line in fieldset for field in line
            for name in [field.field["name"] if isinstance(field.field, dict) else field.field.name]]


@pytest.mark.parametrize("model", [OrderEvent, OrderMessage, OrderLine, OrderStatusCount])
def test_read_only_model_view_page_renders_without_save(admin_client, model):
    order_in(S.CANCELLED)
    obj = model.objects.first()
    response = admin_client.get(f"/admin/orders/{model._meta.model_name}/{obj.pk}/change/")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="_save"' not in body
    assert f"<h1>View {model._meta.verbose_name}</h1>" in body
    names = model_admin_fields(response)
    assert names
    for name in names:  # every field shown, and none as an input staff could edit
        assert f"field-{name}" in body and f'name="{name}"' not in body, name


@pytest.mark.parametrize("model", [Order, OrderEvent, OrderMessage, OrderLine, OrderStatusCount])
def test_add_page_of_order_models_forbidden(admin_client, model):
    assert admin_client.get(f"/admin/orders/{model._meta.model_name}/add/").status_code == 403


@pytest.mark.parametrize("model", [Order, OrderEvent, OrderMessage, OrderLine])
def test_delete_of_order_records_forbidden(admin_client, model):
    order_in(S.CANCELLED)
    obj = model.objects.first()
    assert admin_client.get(f"/admin/orders/{model._meta.model_name}/{obj.pk}/delete/").status_code == 403
    assert admin_client.post(f"/admin/orders/{model._meta.model_name}/{obj.pk}/delete/", {"post": "yes"}).status_code == 403
    assert model.objects.filter(pk=obj.pk).exists()


def test_bulk_delete_of_orders_not_offered(admin_client):
    order = order_in(S.CANCELLED)
    response = admin_client.get(CHANGELIST)
    assert "delete_selected" not in response.content.decode()
    response = admin_client.post(CHANGELIST, {"action": "delete_selected", "_selected_action": [order.pk], "post": "yes"})
    assert Order.objects.filter(pk=order.pk).exists()


# --- overrides -----------------------------------------------------------------------


def test_overrides_cover_every_transition():
    assert set(OVERRIDES) == set(TRANSITIONS)


def test_override_action_without_reason_shows_confirmation_page(admin_client):
    order = order_in(S.AWAITING_CONFIRMATION)
    before = snapshot(order)
    response = admin_client.post(
        CHANGELIST, {"action": "override_confirm", "_selected_action": [order.pk], "index": "0"}
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "Staff override: confirm" in body and order.number in body
    assert 'name="reason"' in body and 'name="cancel_reason"' not in body
    assert f'name="_selected_action" value="{order.pk}"' in body
    assert snapshot(order) == before


def test_override_cancel_confirmation_page_asks_cancellation_reason(admin_client):
    order = order_in(S.IN_TRANSIT)
    response = admin_client.post(
        CHANGELIST, {"action": "override_cancel_in_transit", "_selected_action": [order.pk], "index": "0"}
    )
    body = response.content.decode()
    assert 'name="cancel_reason"' in body
    assert '<option value="delivery_failed" selected>' in body


@pytest.mark.parametrize(("name", "status"), LEGAL)
def test_override_allowed_move_applies_with_staff_history(admin_client, name, status, monkeypatch):
    # The orders admin's own mechanism; a higher app's guards (shipping refuses shipment
    # moves of an order without packages) are tested in that app.
    monkeypatch.setattr("orders.registry.OVERRIDE_GUARDS", {})
    order = order_in(status)
    data = {"reason": "Buyer called support, ticket #42"}
    if OVERRIDES[name].cancels:
        data["cancel_reason"] = Order.CancelReason.OTHER
    response = override(admin_client, name, [order], **data)
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == TRANSITIONS[name][1]
    event = order.events.filter(actor_kind=OrderEvent.ActorKind.STAFF).order_by("at", "id")
    moved = event.get(action=name)
    assert moved.from_status == status and moved.actor.is_superuser
    assert moved.note == "Buyer called support, ticket #42"
    assert any("applied to 1 order(s)" in t and order.number in t for t in texts(response))


@pytest.mark.parametrize(("name", "status"), ILLEGAL)
def test_override_illegal_move_refused_unchanged(admin_client, name, status):
    order = order_in(status)
    before = snapshot(order)
    data = {"reason": "trying", "cancel_reason": Order.CancelReason.OTHER}
    response = override(admin_client, name, [order], **data)
    assert response.status_code == 302
    assert snapshot(order) == before
    messages = texts(response)
    assert any(t.startswith(f"Refused, unchanged — {order.number}: Order {order.number} is") for t in messages)
    assert not any("applied" in t for t in messages)


def test_override_empty_reason_refused_unchanged(admin_client):
    order = order_in(S.AWAITING_CONFIRMATION)
    before = snapshot(order)
    response = override(admin_client, "confirm", [order], reason="   ")
    assert response.status_code == 200
    assert response.context["form"].errors["reason"]
    assert "This field is required." in response.content.decode()
    assert snapshot(order) == before


def test_override_cancel_without_cancellation_reason_refused_unchanged(admin_client):
    order = order_in(S.AWAITING_SHIPMENT)
    before = snapshot(order)
    response = override(admin_client, "cancel", [order], reason="fraud suspected")
    assert response.status_code == 200
    assert response.context["form"].errors["cancel_reason"]
    assert snapshot(order) == before


def test_override_cancel_releases_stock_and_tells_buyer(admin_client):
    order = order_in(S.AWAITING_SHIPMENT)
    sku = order.lines.get().sku
    sku.refresh_from_db()
    assert sku.reserved == 1
    response = override(admin_client, "cancel", [order], reason="Fraud suspected", cancel_reason="pricing_error")
    assert response.status_code == 302
    order.refresh_from_db()
    sku.refresh_from_db()
    assert (order.status, order.cancel_reason, order.cancel_note) == (S.CANCELLED, "pricing_error", "Fraud suspected")
    assert sku.reserved == 0
    assert order.messages.get().body.endswith("Reason: Pricing error.")  # the staff reason stays internal
    assert OrderStatusCount.objects.get(shop=order.shop, status=S.CANCELLED).count == 1


def test_override_mixed_selection_applies_some_refuses_others(admin_client):
    ready = order_in(S.AWAITING_CONFIRMATION)
    shop = ready.shop
    also_ready = order_in(S.AWAITING_CONFIRMATION, shop=shop)
    done = order_in(S.COMPLETED, shop=shop)
    response = override(admin_client, "confirm", [ready, also_ready, done], reason="Seller on holiday")
    messages = texts(response)
    assert any("applied to 2 order(s)" in t and ready.number in t and also_ready.number in t for t in messages)
    assert any(t.startswith(f"Refused, unchanged — {done.number}") for t in messages)
    assert Order.objects.filter(pk__in=[ready.pk, also_ready.pk], status=S.AWAITING_SHIPMENT).count() == 2


def test_override_confirm_out_of_stock_refused_with_sku(admin_client):
    order = order_in(S.AWAITING_CONFIRMATION)
    sku = order.lines.get().sku
    sku.stock_on_hand = 0
    sku.save()
    before = snapshot(order)
    response = override(admin_client, "confirm", [order], reason="push it")
    assert snapshot(order) == before
    assert any(sku.code in t and "out of stock" in t for t in texts(response))


def test_override_too_many_orders_refused(admin_client, monkeypatch):
    monkeypatch.setattr("orders.admin.OVERRIDE_LIMIT", 1)
    first = order_in(S.AWAITING_CONFIRMATION)
    second = order_in(S.AWAITING_CONFIRMATION, shop=first.shop)
    response = override(admin_client, "confirm", [first, second], reason="bulk")
    assert any("at most 1 orders" in t for t in texts(response))
    assert not Order.objects.filter(status=S.AWAITING_SHIPMENT).exists()
    assert OVERRIDE_LIMIT == 500


def test_override_from_order_page_applies_and_returns_there(admin_client):
    order = order_in(S.IN_TRANSIT)
    url = f"{CHANGELIST}{order.pk}/override/mark_delivered/"
    response = admin_client.get(url)
    assert response.status_code == 200 and 'name="reason"' in response.content.decode()
    response = admin_client.post(url, {"reason": ""})
    assert response.status_code == 200
    order.refresh_from_db()
    assert order.status == S.IN_TRANSIT
    response = admin_client.post(url, {"reason": "Carrier confirmed by phone"})
    assert response.status_code == 302 and response.url == f"{CHANGELIST}{order.pk}/change/"
    order.refresh_from_db()
    assert order.status == S.DELIVERED
    assert order.events.get(action="mark_delivered").note == "Carrier confirmed by phone"


def test_override_from_order_page_unknown_action_forbidden(admin_client):
    order = order_in(S.IN_TRANSIT)
    assert admin_client.get(f"{CHANGELIST}{order.pk}/override/teleport/").status_code == 403


def test_override_by_staff_with_change_permission_applies(client):
    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(*Permission.objects.filter(
        content_type__app_label="orders", codename__in=["view_order", "change_order", "view_orderevent",
                                                        "view_orderline", "view_ordermessage"]))
    client.force_login(staff)
    order = order_in(S.DELIVERED)
    listing = client.get(CHANGELIST).content.decode()
    assert f">{order.number}</a>" in listing and '<option value="override_complete">' in listing
    page = client.get(f"{CHANGELIST}{order.pk}/change/").content.decode()
    assert "<h1>View order</h1>" in page and order.buyer_email in page
    assert f"/admin/orders/order/{order.pk}/override/complete/" in page
    response = override(client, "complete", [order], reason="Return window closed early by dispute ruling")
    assert response.status_code == 302
    event = order.events.get(action="complete")
    assert (event.actor_kind, event.actor, event.actor_label) == ("staff", staff, staff.username)


def test_override_by_staff_with_view_permission_only_not_offered(client):
    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(Permission.objects.get(content_type__app_label="orders", codename="view_order"))
    client.force_login(staff)
    order = order_in(S.DELIVERED)
    assert "override_complete" not in client.get(CHANGELIST).content.decode()
    override(client, "complete", [order], reason="x")
    order.refresh_from_db()
    assert order.status == S.DELIVERED
    assert client.get(f"{CHANGELIST}{order.pk}/override/complete/").status_code == 403
