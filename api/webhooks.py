"""Seller API v1: the shop's event feed (GET /events, for systems that poll) and its webhooks
(subscriptions, secrets, the delivery log, redelivery). What is sent and how: api.outbox."""

from datetime import datetime

from ninja import Query, Router, Schema
from pydantic import Field

from core.params import MAX_ID, parse_int
from core.refusals import Refused
from shops.models import ShopEvent

from . import outbox
from .common import Problem, ProblemOut, idempotent, need, only_known_params
from .models import ApiKey, Webhook, WebhookDelivery

ERRORS = {400: ProblemOut, 401: ProblemOut, 403: ProblemOut, 404: ProblemOut, 409: ProblemOut, 422: ProblemOut,
          429: ProblemOut}
MAX_FEED_PAGE = 500

events_router = Router(tags=["events"])
webhooks_router = Router(tags=["webhooks"])

# Which scope reads which events: a key sees in the feed only what it may read elsewhere.
SCOPE_OF_OBJECT = {
    "order": ApiKey.Scope.ORDERS_READ, "package": ApiKey.Scope.ORDERS_READ, "message": ApiKey.Scope.ORDERS_READ,
    "request": ApiKey.Scope.RETURNS_READ, "refund": ApiKey.Scope.RETURNS_READ, "sku": ApiKey.Scope.INVENTORY_READ,
}


# --- the event feed -------------------------------------------------------------------------


class EventData(Schema):
    object: str = Field(description="order, package, request, refund, message or sku")
    id: str = Field(description="the object's number (order, request), id (package, refund, message) or code (sku)")
    sequence: int = Field(description="grows with every change of this object: ignore one lower than you applied")
    position: int | None = Field(description="the event's place in the shop's feed")
    action: str
    from_status: str
    to_status: str
    order_number: str | None = None


class EventOut(Schema):
    type: str
    timestamp: datetime
    data: dict = Field(description="EventData, and for some types more fields (a refund's amount)")


class FeedPage(Schema):
    items: list[EventOut]
    next_cursor: str = Field(description="pass it as after= to read on; the same value when nothing is new")


class FeedFilters(Schema):
    after: str | None = Field(None, max_length=20, description="a next_cursor; omit to read from the start")
    limit: int = Field(100, ge=1, le=MAX_FEED_PAGE)


def _cursor(value):
    if value is None or value == "":
        return 0
    position = parse_int(value, None, lo=0, hi=MAX_ID)
    if position is None:
        raise Problem(400, "invalid_cursor", "The cursor is not one this API gave",
                      errors=[{"path": "after", "message": "pass next_cursor back unchanged"}])
    return position


@events_router.get("", response={200: FeedPage, **ERRORS}, summary="Every change of the shop, in order")
def list_events(request, filters: Query[FeedFilters]):
    """Changes of the shop's orders, packages, requests, refunds, messages and stock, oldest first,
    in the order they committed. Poll with the cursor of the last page; any cursor can be replayed.
    A key reads the events of the objects its scopes may read."""
    only_known_params(request, FeedFilters)
    objects = [o for o, scope in SCOPE_OF_OBJECT.items() if scope in request.api_key.scopes]
    if not objects:
        need(request, ApiKey.Scope.ORDERS_READ)
    after = _cursor(filters.after)
    outbox.sequence()
    rows = list(ShopEvent.objects.filter(shop=request.shop, position__gt=after, object_type__in=objects)
                .order_by("position")[: filters.limit])
    return {"items": [outbox.event_body(e) for e in rows],
            "next_cursor": str(rows[-1].position if rows else after)}


# --- webhooks --------------------------------------------------------------------------------


class WebhookIn(Schema):
    url: str = Field(max_length=2000, description="http(s) URL of your receiver")
    events: list[ShopEvent.Type] = Field(min_length=1, max_length=len(ShopEvent.Type.values))
    description: str = Field("", max_length=200)


class WebhookPatch(Schema):
    url: str | None = Field(None, max_length=2000)
    events: list[ShopEvent.Type] | None = Field(None, min_length=1, max_length=len(ShopEvent.Type.values))
    description: str | None = Field(None, max_length=200)
    active: bool | None = Field(None, description="false turns it off (deliveries are held); true turns it back on")


class WebhookOut(Schema):
    id: int
    url: str
    events: list[str]
    description: str
    active: bool
    disabled_reason: str
    created_at: datetime
    updated_at: datetime


class WebhookSecretOut(WebhookOut):
    secret: str = Field(description="whsec_ + base64: verify the webhook-signature header with it "
                                    "(Standard Webhooks); shown on creation and rotation only")


class DeliveryOut(Schema):
    id: int
    webhook_id: str = Field(description="the webhook-id header, the same on every attempt")
    event_type: str
    status: str
    attempts: int
    response_code: int | None
    error: str
    last_attempt_at: datetime | None
    next_attempt_at: datetime | None
    created_at: datetime


class DeliveryPage(Schema):
    items: list[DeliveryOut]
    next_page_token: str | None


class DeliveryFilters(Schema):
    status: WebhookDelivery.Status | None = None
    before: int | None = Field(None, ge=1, le=2**62, description="a next_page_token: deliveries older than it")
    page_size: int = Field(50, ge=1, le=100)


def _hook_out(hook, secret=False):
    out = {f: getattr(hook, f) for f in WebhookOut.model_fields}
    if secret:
        out["secret"] = hook.secret
    return out


def _delivery_out(d):
    return {"id": d.pk, "webhook_id": d.msg_id, "event_type": d.event.type, "status": d.status,
            "attempts": d.attempts, "response_code": d.response_code, "error": d.error,
            "last_attempt_at": d.last_attempt_at, "next_attempt_at": d.next_attempt_at, "created_at": d.created_at}


def _hook(request, webhook_id):
    found = Webhook.objects.filter(shop=request.shop, pk=webhook_id, removed_at=None).first()
    if found is None:
        raise Problem(404, "not_found", "No such webhook", f"no webhook {webhook_id} in this shop")
    return found


def _refused_as_422(act):
    def run():
        try:
            return act()
        except outbox.WebhookRefused as exc:
            raise Problem(422, "invalid_request", "The webhook is not valid", str(exc)) from None
    return run


def _by(request):
    return f"API key {request.api_key.name}"


@webhooks_router.get("", response={200: list[WebhookOut], **ERRORS}, summary="The shop's webhooks")
def list_webhooks(request):
    need(request, ApiKey.Scope.WEBHOOKS_MANAGE)
    return [_hook_out(h) for h in Webhook.objects.filter(shop=request.shop, removed_at=None)]


@webhooks_router.post("", response={201: WebhookSecretOut, **ERRORS}, summary="Subscribe a receiver to events")
def create_webhook(request, body: WebhookIn):
    need(request, ApiKey.Scope.WEBHOOKS_MANAGE)
    return idempotent(request, _refused_as_422(lambda: (201, _hook_out(outbox.create_webhook(
        shop=request.shop, url=body.url, events=[str(e) for e in body.events], description=body.description,
        by=_by(request)), secret=True))))


@webhooks_router.get("/{int:webhook_id}", response={200: WebhookOut, **ERRORS}, summary="One webhook")
def get_webhook(request, webhook_id: int):
    need(request, ApiKey.Scope.WEBHOOKS_MANAGE)
    return _hook_out(_hook(request, webhook_id))


@webhooks_router.patch("/{int:webhook_id}", response={200: WebhookOut, **ERRORS},
                       summary="Change a webhook's URL, events or description; turn it off or on")
def update_webhook(request, webhook_id: int, body: WebhookPatch):
    need(request, ApiKey.Scope.WEBHOOKS_MANAGE)
    hook = _hook(request, webhook_id)
    return _refused_as_422(lambda: _hook_out(outbox.update_webhook(
        webhook=hook, url=body.url, description=body.description, active=body.active,
        events=None if body.events is None else [str(e) for e in body.events])))()


@webhooks_router.delete("/{int:webhook_id}", response={204: None, **ERRORS},
                        summary="Remove a webhook (its delivery log stays)")
def delete_webhook(request, webhook_id: int):
    need(request, ApiKey.Scope.WEBHOOKS_MANAGE)
    outbox.remove_webhook(webhook=_hook(request, webhook_id))
    return 204, None


@webhooks_router.post("/{int:webhook_id}/rotate-secret", response={200: WebhookSecretOut, **ERRORS},
                      summary="A new secret; the old one keeps signing beside it for 24 hours")
def rotate_secret(request, webhook_id: int):
    need(request, ApiKey.Scope.WEBHOOKS_MANAGE)
    hook = _hook(request, webhook_id)
    return idempotent(request, lambda: (200, _hook_out(outbox.rotate_secret(webhook=hook), secret=True)))


@webhooks_router.get("/{int:webhook_id}/deliveries", response={200: DeliveryPage, **ERRORS},
                     summary="The webhook's delivery log, newest first")
def list_deliveries(request, webhook_id: int, filters: Query[DeliveryFilters]):
    need(request, ApiKey.Scope.WEBHOOKS_MANAGE)
    only_known_params(request, DeliveryFilters)
    hook = _hook(request, webhook_id)
    qs = WebhookDelivery.objects.filter(webhook=hook).select_related("event")
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.before:
        qs = qs.filter(pk__lt=filters.before)
    rows = list(qs.order_by("-id")[: filters.page_size + 1])
    more = len(rows) > filters.page_size
    rows = rows[: filters.page_size]
    return {"items": [_delivery_out(d) for d in rows], "next_page_token": str(rows[-1].pk) if more else None}


@webhooks_router.post("/{int:webhook_id}/deliveries/{int:delivery_id}/redeliver", response={202: DeliveryOut, **ERRORS},
                      summary="Send a delivery again (the same webhook-id)")
def redeliver(request, webhook_id: int, delivery_id: int):
    need(request, ApiKey.Scope.WEBHOOKS_MANAGE)
    hook = _hook(request, webhook_id)
    delivery = WebhookDelivery.objects.filter(webhook=hook, pk=delivery_id).select_related("event").first()
    if delivery is None:
        raise Problem(404, "not_found", "No such delivery", f"no delivery {delivery_id} of webhook {webhook_id}")

    def act():
        try:
            row = outbox.redeliver(delivery=delivery)
        except Refused as exc:
            raise Problem(409, "refused", "That cannot be done now", str(exc)) from None
        row.event = delivery.event
        return 202, _delivery_out(row)
    return idempotent(request, act)
