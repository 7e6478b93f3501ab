"""What every part of the seller API shares: problem documents, scopes, text checks."""

from datetime import UTC, datetime
from typing import Annotated

from django.http import JsonResponse
from ninja import Schema, Status
from pydantic import BeforeValidator, WithJsonSchema

from core.payload import parse_time, text_error
from core.refusals import Refused
from shops.roles import PERMISSIONS


class Problem(Exception):
    """An answer other than 2xx, as a problem document."""

    def __init__(self, status, code, title, detail="", errors=None, headers=None):
        super().__init__(detail or title)
        self.status, self.code, self.title, self.detail = status, code, title, detail
        self.errors = errors or []
        self.headers = headers or {}


def problem_response(status, code, title, detail="", errors=None, headers=None):
    body = {"type": f"https://seller-center.invalid/problems/{code}", "title": title, "status": status,
            "detail": detail or title, "code": code}
    if errors:
        body["errors"] = errors
    response = JsonResponse(body, status=status, content_type="application/problem+json")
    for k, v in (headers or {}).items():
        response[k] = v
    return response


# What each key scope lets a key do, in the permission names of shops.roles: the pages and the
# API check the same names. A key has the union of its scopes' permissions (no role: a key is
# the shop's, made by its owner).
SCOPE_PERMISSIONS = {
    "orders:read": {"orders.view"},
    "orders:write": {"orders.confirm", "orders.cancel", "orders.note", "orders.message"},
    "fulfillment:write": {"shipping.split", "shipping.arrange", "shipping.ship", "shipping.labels",
                          "shipping.photos", "shipping.tickets"},
    "returns:read": {"requests.view"},
    "returns:write": {"requests.answer", "requests.receive", "requests.dispute", "requests.refund",
                      "requests.refund_over_limit"},
    "inventory:read": {"inventory.view"},
    "inventory:write": {"inventory.change"},
    "webhooks:manage": {"webhooks.manage"},
    "buyer:full_address": {"buyer.full_address", "shipping.labels"},  # a label carries the full address
}


def key_permissions(api_key):
    return frozenset().union(*(SCOPE_PERMISSIONS.get(scope, ()) for scope in api_key.scopes))


def has_scope(request, scope):
    """Whether the request's key holds `scope` itself."""
    return scope in request.api_key.scopes


def key_can(request, permission):
    """Whether the request's key may do what `permission` (a shops.roles name) allows: the one
    place that decides, from its scopes."""
    return permission in key_permissions(request.api_key)


def need(request, permission):
    """403 unless the key's scopes give it `permission` (a shops.roles name). A scope name is
    also taken, as "the key has this scope"."""
    if ":" in permission:
        if not has_scope(request, permission):
            raise Problem(403, "missing_scope", "The key lacks a scope", f"this call needs the scope {permission}")
        return
    if permission not in PERMISSIONS:
        raise KeyError(f"no permission named {permission!r}")
    if not key_can(request, permission):
        scopes = sorted(scope for scope, perms in SCOPE_PERMISSIONS.items() if permission in perms)
        raise Problem(403, "missing_scope", "The key lacks a scope",
                      f"this call needs the permission {permission} (scope {' or '.join(scopes)})")


class ProblemOut(Schema):
    type: str
    title: str
    status: int
    detail: str
    code: str
    errors: list[dict] | None = None


def check_text(value, path):
    if value is not None and (problem := text_error(value)):
        raise Problem(400, "invalid_request", "The request is not valid", errors=[{"path": path, "message": problem}])




def form_problem(form):
    """A Django form's errors (the page's own validation) as a 422."""
    return Problem(422, "invalid_request", "The request is not valid", "see errors",
                   errors=[{"path": field, "message": str(msg)} for field, msgs in form.errors.items() for msg in msgs])


def refused(exc, title="That cannot be done now"):
    """A move the actions refused: a 409 with the reason the page would show (or the refusal's own
    status and code, as a burst of messages' 429)."""
    return Problem(getattr(exc, "http_status", 409), getattr(exc, "code", "refused"), title, str(exc))


def idempotent(request, act, *, refused_title="That cannot be done now"):
    """Run act() -> (status, body) under the request's Idempotency-Key, if it sent one; a move the
    actions refuse (core.refusals.Refused) is a 409 with its reason."""
    from . import idempotency

    def refuse(*args):
        raise Problem(*args)

    def guarded():
        try:
            return act()
        except Refused as exc:
            raise refused(exc, refused_title) from None
    return Status(*idempotency.run(request, guarded, refuse))


FILTER_EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
FILTER_LATEST = datetime(2999, 12, 31, tzinfo=UTC)


def _iso_time(value):
    """ISO 8601 with a UTC offset only (pydantic alone would take 0.5 as a Unix time)."""
    parsed, problem = parse_time(value, earliest=FILTER_EARLIEST, latest=FILTER_LATEST)
    if problem:
        raise ValueError(problem)
    return parsed


IsoTime = Annotated[datetime, BeforeValidator(_iso_time), WithJsonSchema({"type": "string", "format": "date-time"})]


def only_known_params(request, schema):
    """A misspelt filter (stauts=UNPAID) is refused, not silently ignored."""
    unknown = sorted(set(request.GET) - set(schema.model_fields))
    if unknown:
        raise Problem(422, "invalid_request", "The request is not valid", "unknown query parameters",
                      errors=[{"path": name, "message": "unknown parameter"} for name in unknown])


# Money out: a decimal string at the currency's own precision (core.money.amount_text), beside
# its ISO 4217 code: "49.00" USD, "1250000" VND, "1200" JPY. Never a float, never cents a
# currency does not have.
Amount = Annotated[str, WithJsonSchema({
    "type": "string", "pattern": r"^-?[0-9]+(\.[0-9]+)?$", "examples": ["49.00", "1250000"],
    "description": "A decimal amount at its currency's precision (ISO 4217 minor units): 49.00 USD, 1250000 VND",
})]
