"""Every permission of shops.roles, over the whole role table: its page and HTMX partial show the
control only to a role holding it; its action (plain POST and HTMX) works for such a role and is a
403 naming the permission, with nothing changed, for every other role; its API endpoint works for
a key whose scopes map onto it and is a 403, nothing changed, for a key without."""

import csv
import io
import json
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from api import keys
from api.common import SCOPE_PERMISSIONS
from api.models import ApiKey
from orders.models import Order, OrderEvent, OrderMessage
from returns import actions as return_actions
from returns.models import BuyerRequest, Refund, RequestEvent
from returns.tests.factories import delivered_order, open_return
from returns.tests.factories import upload as photo_upload
from shipping.models import HandoverPhoto, Package, PackageEvent, PrintJob, Ticket
from shipping.tests.factories import arranged, order_to_ship, ups_number
from shops import roles
from shops.models import SKU, Invitation, Membership, StockChange, TeamEvent
from shops.tests.factories import MembershipFactory, ShopFactory, SKUFactory
from tests.pages import assert_fragment, assert_full_page, hx

pytestmark = pytest.mark.django_db
ROLES = list(roles.Role)
HISTORY = [OrderEvent, OrderMessage, Package, PackageEvent, PrintJob, HandoverPhoto, Ticket, RequestEvent, Refund,
           ApiKey, StockChange, TeamEvent, Invitation]


def snapshot():
    """What any action would change: every history table's rows, every status."""
    return (
        [m.objects.count() for m in HISTORY],
        sorted(Order.objects.values_list("pk", "status")),
        sorted(BuyerRequest.objects.values_list("pk", "status")),
        sorted(Package.objects.values_list("pk", "status", "tracking_number")),
        sorted(SKU.objects.values_list("pk", "stock_on_hand", "reserved")),
    )


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def shop():
    return ShopFactory()


def client_as(shop, role):
    client = Client()
    client.force_login(MembershipFactory(shop=shop, role=role).user)
    return client


# --- the cases: one per permission a page, partial, action or endpoint checks ---------------------


def _to_confirm(shop):
    from orders.tests.factories import make_order

    order = make_order(shop)
    return {"order": order, "n": order.number}


def _seller_order(shop):
    order = order_to_ship(shop, model="SELLER")
    return {"order": order, "n": order.number, "line": order.lines.get()}


def _platform_order(shop):
    order = order_to_ship(shop)
    return {"order": order, "n": order.number, "line": order.lines.get()}


def _packed(shop):
    order = order_to_ship(shop)
    (package,) = arranged(order)
    return {"order": order, "n": order.number, "package": package}


def _return(shop, step="open"):
    req = open_return(delivered_order(shop))
    owner = Membership.objects.filter(shop=shop, role=roles.Role.OWNER).first()
    from core.actor import Actor

    actor = Actor.seller(owner.user) if owner else Actor.policy("test")
    if step in ("shipped", "received"):
        return_actions.approve_request(request=req, actor=actor)
        return_actions.ship_back(request=req, carrier="UPS", tracking="1Z999")
    if step == "received":
        return_actions.confirm_receipt(request=req, actor=actor)
    req.refresh_from_db()
    return {"req": req, "order": req.order, "n": req.order.number, "rn": req.number}


def _url(name, **kw):
    return lambda shop, ctx: reverse(name, kwargs={"shop": shop.slug, **{k: ctx[v] for k, v in kw.items()}})


@dataclass
class Case:
    permission: str
    setup: object
    page: object  # (shop, ctx) -> url of the page showing the control
    partial: str  # the DOM id of the page's HTMX partial
    marker: str  # the control's text on the page
    action: object  # (shop, ctx) -> url
    data: object = field(default=dict)  # ctx -> POST data
    method: str = "post"
    api: tuple | None = None  # (method, ctx -> path, ctx -> json body)
    guarded_page: bool = False  # the page itself needs the permission (a 403 for the others)
    page_permission: str = ""  # what the page's refusal names, when not the case's own permission


ORDER_PAGE = _url("orders:detail", number="n")
REQUEST_PAGE = _url("returns:detail", pk="req_pk")

CASES = [
    Case("orders.confirm", _to_confirm, ORDER_PAGE, "order-main", "Confirm order", _url("orders:confirm", number="n"),
         api=("post", lambda c: f"/api/v1/orders/{c['n']}/confirm", lambda c: {})),
    Case("orders.cancel", _to_confirm, ORDER_PAGE, "order-main", "Cancel order…", _url("orders:cancel", number="n"),
         data=lambda c: {"reason": "out_of_stock", "note": ""},
         api=("post", lambda c: f"/api/v1/orders/{c['n']}/cancel", lambda c: {"reason": "out_of_stock"})),
    Case("orders.note", _to_confirm, ORDER_PAGE, "order-main", "Add note", _url("orders:note", number="n"),
         data=lambda c: {"text": "Gift wrap"},
         api=("post", lambda c: f"/api/v1/orders/{c['n']}/notes", lambda c: {"text": "Gift wrap"})),
    Case("orders.message", lambda s: _return(s), REQUEST_PAGE, "request-main", "Send message",
         _url("returns:message", number="n"), data=lambda c: {"body": "We are on it", "next": f"request:{c['req'].pk}"},
         api=("post", lambda c: f"/api/v1/orders/{c['n']}/messages", lambda c: {"body": "We are on it"})),
    Case("orders.export", _to_confirm, _url("orders:list"), "results", "Export CSV", _url("orders:export"),
         method="get"),
    Case("shipping.split", _platform_order, ORDER_PAGE, "order-main", "Split into packages",
         _url("shipping:split", number="n"), data=lambda c: {f"q-{c['line'].pk}-1": "1"},
         api=("post", lambda c: f"/api/v1/orders/{c['n']}/packages", lambda c: {"packages": [{str(c["line"].pk): 1}]})),
    Case("shipping.arrange", _platform_order, ORDER_PAGE, "order-main", "Arrange shipment",
         _url("shipping:arrange", number="n"), data=lambda c: {"handover": "DROP_OFF", "dropoff_point": "SCX-DP-001"},
         api=("post", lambda c: f"/api/v1/orders/{c['n']}/arrange",
              lambda c: {"handover": "DROP_OFF", "dropoff_point": "SCX-DP-001"})),
    Case("shipping.ship", _seller_order, ORDER_PAGE, "order-main", "Mark shipped",
         _url("shipping:order_ship", number="n"), data=lambda c: {"carrier": "ups", "tracking_number": ups_number()},
         api=("post", lambda c: "/api/v1/packages/ship",
              lambda c: {"rows": [{"order": c["n"], "carrier": "ups", "tracking_number": ups_number()}]})),
    Case("shipping.labels", _packed, ORDER_PAGE, "order-main", "Print labels", _url("shipping:print"),
         data=lambda c: {"package": c["package"].pk, "kind": "label", "size": "4x6"},
         api=("get", lambda c: f"/api/v1/packages/{c['package'].pk}/label.pdf", None)),
    Case("shipping.photos", _packed, ORDER_PAGE, "order-main", "Add a handover photo",
         _url("shipping:package_photo", pk="package_pk"), data=lambda c: {"photo": photo_upload()}),
    Case("shipping.tickets", _seller_order, _url("shipping:tickets"), None, "File ticket", _url("shipping:tickets"),
         data=lambda c: {"description": "Flood at the warehouse", "event_start": "2026-01-01T08:00",
                         "event_end": "2026-01-02T08:00", "orders": c["n"]}),
    Case("requests.answer", lambda s: _return(s), REQUEST_PAGE, "request-main", "Approve return and refund",
         _url("returns:approve", pk="req_pk"), data=lambda c: {"note": ""},
         api=("post", lambda c: f"/api/v1/requests/{c['rn']}/approve", lambda c: {})),
    Case("requests.receive", lambda s: _return(s, "shipped"), REQUEST_PAGE, "request-main",
         "Confirm the item was received", _url("returns:receive", pk="req_pk"),
         api=("post", lambda c: f"/api/v1/requests/{c['rn']}/receive", lambda c: {})),
    Case("requests.refund", lambda s: _return(s, "received"), REQUEST_PAGE, "request-main", ">Refund</button>",
         _url("returns:refund", pk="req_pk"), data=lambda c: {"amount": ""},
         api=("post", lambda c: f"/api/v1/requests/{c['rn']}/refund", lambda c: {})),
    Case("requests.dispute", lambda s: _return(s, "shipped"), REQUEST_PAGE, "request-main", "Dispute this return",
         _url("returns:dispute", pk="req_pk"), data=lambda c: {"reason": "not_received_back", "note": "Empty box"}),
    Case("api_keys.manage", lambda s: {}, _url("api_keys:list"), "key-panel", "Create key", _url("api_keys:list"),
         data=lambda c: {"name": "ERP", "scopes": ["orders:read"]}, guarded_page=True),
    Case("team.manage", lambda s: {}, _url("team:page"), "team-panel", "Send invitation", _url("team:page"),
         data=lambda c: {"email": "new@example.com", "role": "viewer"}, guarded_page=True),
    Case("shop.settings", lambda s: {}, _url("team:page"), "team-panel", "Save the limit", _url("team:refund_limit"),
         data=lambda c: {"refund_limit": "20.00"}, guarded_page=True, page_permission="team.manage"),
]
CASE_IDS = [c.permission for c in CASES]


def _ctx(case, shop):
    # The owner of the shop exists before the setup (a return is approved by them).
    ctx = case.setup(shop)
    if "req" in ctx:
        ctx["req_pk"] = ctx["req"].pk
    if "package" in ctx:
        ctx["package_pk"] = ctx["package"].pk
    if case.permission == "requests.refund":
        shop.refund_limit = Decimal("1000.00")  # within Customer service's limit: the limit has its own test
        shop.save(update_fields=["refund_limit"])
    return ctx


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_page_partial_and_action_follow_the_role(case, role, shop):
    MembershipFactory(shop=shop, role=roles.Role.OWNER)
    ctx = _ctx(case, shop)
    client = client_as(shop, role)
    allowed = roles.has(role, case.permission)
    page_url = case.page(shop, ctx)

    # The page and its partial show the control only to a role that may use it.
    full = client.get(page_url)
    refused_page = case.guarded_page and not allowed
    shown = [assert_full_page(full, 403 if refused_page else 200)]
    if case.partial and not refused_page:
        shown.append(assert_fragment(client.get(page_url, headers=hx(case.partial)), case.partial))
    if refused_page:
        assert (case.page_permission or case.permission) in shown[0]
        partial = client.get(page_url, headers=hx(case.partial))
        assert partial.status_code == 403 and (case.page_permission or case.permission) in partial["HX-Trigger"]
    else:
        for body in shown:
            assert (case.marker in body) is allowed, (case.permission, role, body[:3000])

    before = snapshot()
    url = case.action(shop, ctx)
    if allowed:
        response = getattr(client, case.method)(url, case.data(ctx), headers=hx(case.partial) if case.partial else {})
        assert response.status_code in (200, 201, 302), (response.status_code, response.content[:800])
        if not response.streaming:
            assert "toast-error" not in response.content.decode(errors="replace")
        if case.method == "post":
            assert snapshot() != before, f"{case.permission} as {role} changed nothing"
        return
    for headers in ({}, hx(case.partial or "main")):
        response = getattr(client, case.method)(url, case.data(ctx), headers=headers)
        assert response.status_code == 403, (response.status_code, response.content[:500])
        if headers:
            assert case.permission in response["HX-Trigger"]
            assert case.permission in assert_fragment(response, "refusal", status=403)
        else:
            assert case.permission in assert_full_page(response, 403)
        assert snapshot() == before


API_CASES = [c for c in CASES if c.api] + [
    Case("inventory.change", lambda s: {"sku": SKUFactory(shop=s, code="TEE-1")}, None, None, "", None,
         api=("post", lambda c: "/api/v1/inventory/skus/TEE-1/stock",
              lambda c: {"delta": 5, "reason": "received", "version": c["sku"].stock_version})),
]


def _call(client, key, method, path, body):
    headers = {"Authorization": f"Bearer {key}"}
    if method == "get":
        return client.get(path, headers=headers)
    return client.post(path, json.dumps(body), content_type="application/json", headers=headers)


@pytest.mark.parametrize("granted", [True, False], ids=["scope", "no-scope"])
@pytest.mark.parametrize("case", API_CASES, ids=[c.permission for c in API_CASES])
def test_api_endpoint_follows_the_key_scopes(case, granted, client, shop):
    ctx = _ctx(case, shop)
    giving = {scope for scope, perms in SCOPE_PERMISSIONS.items() if case.permission in perms}
    assert giving, f"no scope maps onto {case.permission}"
    scopes = giving if granted else set(ApiKey.Scope.values) - giving
    _, key = keys.create_key(shop=shop, name="ERP", scopes=sorted(scopes))
    method, path, body = case.api
    before = snapshot()
    response = _call(client, key, method, path(ctx), body(ctx) if body else None)
    if granted:
        assert response.status_code in (200, 201), (response.status_code, response.content[:500])
        if method == "post":
            assert snapshot() != before
    else:
        assert response.status_code == 403, (response.status_code, response.content[:500])
        assert case.permission in response.json()["detail"]
        assert snapshot() == before


def test_every_permission_is_held_by_some_role_and_the_owner_holds_all():
    assert roles.ROLE_PERMISSIONS[roles.Role.OWNER] == frozenset(roles.PERMISSIONS)
    for permission in roles.PERMISSIONS:
        assert roles.roles_with(permission), permission
    for perms in SCOPE_PERMISSIONS.values():
        assert perms <= set(roles.PERMISSIONS)
    assert set(SCOPE_PERMISSIONS) <= set(ApiKey.Scope.values)


def test_the_issue_role_rules_hold():
    R, has = roles.Role, roles.has
    for perm in ("team.manage", "api_keys.manage", "shop.settings"):
        assert [r for r in ROLES if has(r, perm)] == [R.OWNER]
    for perm in ("orders.cancel", "requests.refund", "orders.export", "orders.message"):
        assert not has(R.FULFILMENT, perm)
    for perm in ("orders.confirm", "shipping.split", "shipping.arrange", "shipping.ship", "shipping.labels",
                 "shipping.photos", "shipping.tickets"):
        assert has(R.FULFILMENT, perm)
    assert has(R.CUSTOMER_SERVICE, "requests.refund") and not has(R.CUSTOMER_SERVICE, "requests.refund_over_limit")
    assert not has(R.CUSTOMER_SERVICE, "orders.export")
    assert {p for p in roles.permissions_of(R.FINANCE) if not p.endswith(".view")} == {
        "orders.export", "requests.refund", "requests.refund_over_limit"}
    assert all(p.endswith(".view") for p in roles.permissions_of(R.VIEWER))


@pytest.mark.parametrize("amount, limit, refused", [("", "9.99", True), ("5.00", "10.00", False),
                                                     ("9.00", "8.99", True), ("", "10.00", False)])
def test_customer_service_refunds_only_up_to_the_shop_limit(shop, amount, limit, refused):
    MembershipFactory(shop=shop, role=roles.Role.OWNER)
    ctx = _return(shop, "received")  # 10.00 asked for
    assert ctx["req"].amount == Decimal("10.00")
    shop.refund_limit = Decimal(limit)
    shop.save(update_fields=["refund_limit"])
    client = client_as(shop, roles.Role.CUSTOMER_SERVICE)
    before = snapshot()
    url = reverse("returns:refund", kwargs={"shop": shop.slug, "pk": ctx["req"].pk})
    response = client.post(url, {"amount": amount, "note": "Box dented" if amount and amount != "10.00" else ""},
                           headers=hx("request-main"))
    if refused:
        assert response.status_code == 403 and "requests.refund_over_limit" in response["HX-Trigger"]
        assert f"limit for your role (${limit})" in response.content.decode()
        assert snapshot() == before
    else:
        assert response.status_code == 200 and Refund.objects.filter(order=ctx["order"]).exists()
    # Finance has no limit.
    if refused:
        finance = client_as(shop, roles.Role.FINANCE)
        assert finance.post(url, {"amount": "", "note": ""}).status_code == 302
        assert Refund.objects.filter(order=ctx["order"]).exists()


def test_customer_service_approving_a_cancellation_is_a_refund_within_the_limit(shop):
    from orders.tests.factories import make_order
    from returns.tests.factories import open_cancel

    MembershipFactory(shop=shop, role=roles.Role.OWNER)
    order = make_order(shop, lines=[(SKUFactory(shop=shop, price="30.00"), 1)])
    req = open_cancel(order)
    client = client_as(shop, roles.Role.CUSTOMER_SERVICE)
    url = reverse("returns:approve", kwargs={"shop": shop.slug, "pk": req.pk})
    before = snapshot()
    assert client.post(url, {"note": ""}).status_code == 403
    assert snapshot() == before
    shop.refund_limit = Decimal("30.00")
    shop.save(update_fields=["refund_limit"])
    assert client.post(url, {"note": ""}).status_code == 302
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED


def test_bulk_confirm_and_cancel_check_their_own_permissions(shop):
    from orders.tests.factories import make_order

    order = make_order(shop)
    url = reverse("orders:bulk", kwargs={"shop": shop.slug})
    fulfilment = client_as(shop, roles.Role.FULFILMENT)
    before = snapshot()
    response = fulfilment.post(url, {"action": "cancel", "ids": [order.pk], "reason": "out_of_stock"},
                               headers=hx("results"))
    assert response.status_code == 403 and "orders.cancel" in response["HX-Trigger"]
    assert snapshot() == before
    viewer = client_as(shop, roles.Role.VIEWER)
    assert viewer.post(url, {"row_confirm": order.pk}).status_code == 403
    assert snapshot() == before
    assert fulfilment.post(url, {"row_confirm": order.pk}).status_code == 302
    order.refresh_from_db()
    assert order.status == Order.Status.AWAITING_SHIPMENT


def test_list_rows_show_confirm_only_to_roles_that_confirm(shop):
    from orders.tests.factories import make_order

    make_order(shop)
    url = reverse("orders:list", kwargs={"shop": shop.slug})
    for role in ROLES:
        body = client_as(shop, role).get(url).content.decode()
        assert ('name="row_confirm"' in body) is roles.has(role, "orders.confirm"), role
        assert ("Cancel selected" in body) is roles.has(role, "orders.cancel"), role


def test_the_nav_links_api_keys_and_team_only_for_owners(shop):
    url = reverse("orders:list", kwargs={"shop": shop.slug})
    for role in ROLES:
        body = client_as(shop, role).get(url).content.decode()
        assert ("API keys</a>" in body) is (role == roles.Role.OWNER), role
        assert ("Team</a>" in body) is (role == roles.Role.OWNER), role


def test_a_missing_permission_page_names_it_and_the_role(shop):
    from orders.tests.factories import make_order

    order = make_order(shop)
    client = client_as(shop, roles.Role.VIEWER)
    response = client.post(reverse("orders:confirm", kwargs={"shop": shop.slug, "number": order.number}))
    body = assert_full_page(response, 403)
    assert "Your role (Viewer) may not confirm orders: it needs the permission orders.confirm." in body
    assert "Nothing was changed." in body


@pytest.mark.parametrize("role", ROLES)
def test_full_address_follows_the_role_on_the_page_its_partial_and_the_export(shop, role):
    from orders.tests.factories import make_order

    order = make_order(shop, phone="+15550009876")
    client = client_as(shop, role)
    full_address = roles.has(role, "buyer.full_address")
    page = reverse("orders:detail", kwargs={"shop": shop.slug, "number": order.number})
    bodies = [assert_full_page(client.get(page)), assert_fragment(client.get(page, headers=hx("order-main")), "order-main")]
    for body in bodies:
        assert ("1 Market St" in body) is full_address and ("+15550009876" in body) is full_address
        assert "Springfield" in body and "9876" in body
    if roles.has(role, "orders.export"):
        response = client.get(reverse("orders:export", kwargs={"shop": shop.slug}))
        header, row = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
        cells = dict(zip(header, row, strict=True))  # the phone keeps its quote: a formula start (+)
        assert header[-2:] == ["phone", "address"]
        if full_address:
            assert cells["phone"] == "'+15550009876" and cells["address"].startswith("1 Market St, Springfield")
        else:
            assert cells["phone"] == "********9876" and "Market" not in cells["address"]
            assert cells["address"] == "***, Springfield, IL, 62***, US"


@pytest.mark.parametrize("granted", [True, False])
def test_full_address_in_the_api_follows_the_key(client, shop, granted):
    from orders.tests.factories import make_order

    order = make_order(shop, phone="+15550009876")
    scopes = ["orders:read", "buyer:full_address"] if granted else ["orders:read"]
    _, key = keys.create_key(shop=shop, name="ERP", scopes=scopes)
    body = client.get(f"/api/v1/orders/{order.number}", headers={"Authorization": f"Bearer {key}"}).content.decode()
    assert ("1 Market St" in body) is granted and ("+15550009876" in body) is granted
