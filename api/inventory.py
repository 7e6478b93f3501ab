"""Seller API v1, inventory: SKUs with stock on hand, reserved and available; set or adjust stock
with a reason, naming the version read (a stale write is a 409)."""

from ninja import Query, Router, Schema
from pydantic import Field

from core.actor import Actor
from shops.models import SKU, StockChange
from shops.stock import StaleStock, StockRefused, change_stock

from .common import Problem, ProblemOut, check_text, idempotent, need, only_known_params

ERRORS = {400: ProblemOut, 401: ProblemOut, 403: ProblemOut, 404: ProblemOut, 409: ProblemOut, 422: ProblemOut,
          429: ProblemOut}
router = Router(tags=["inventory"])


class SkuOut(Schema):
    code: str
    name: str
    stock_on_hand: int
    reserved: int = Field(description="promised to confirmed orders not yet shipped")
    available: int
    stock_version: int = Field(description="send it back with a stock change")


class SkuPage(Schema):
    items: list[SkuOut]
    next_page_token: str | None = Field(description="the last code of this page; pass it as after")


class SkuFilters(Schema):
    after: str | None = Field(None, max_length=64, description="list codes after this one")
    page_size: int = Field(100, ge=1, le=500)


class StockIn(Schema):
    on_hand: int | None = Field(None, ge=0, description="the new stock on hand (e.g. after a count)")
    delta: int | None = Field(None, description="or the change: +12 received, -1 damaged")
    reason: StockChange.Reason
    note: str = Field("", max_length=500)
    version: int = Field(ge=0, description="the stock_version you read")


def _out(sku):
    return {"code": sku.code, "name": sku.name, "stock_on_hand": sku.stock_on_hand, "reserved": sku.reserved,
            "available": sku.available, "stock_version": sku.stock_version}


@router.get("/skus", response={200: SkuPage, **ERRORS}, summary="SKUs by code, with their stock")
def list_skus(request, filters: Query[SkuFilters]):
    need(request, "inventory.view")
    only_known_params(request, SkuFilters)
    check_text(filters.after, "after")
    qs = SKU.objects.for_shop(request.shop)
    if filters.after:
        qs = qs.filter(code__gt=filters.after)
    rows = list(qs.order_by("code")[: filters.page_size + 1])
    more = len(rows) > filters.page_size
    rows = rows[: filters.page_size]
    return {"items": [_out(s) for s in rows], "next_page_token": rows[-1].code if more else None}


def _sku(request, code):
    check_text(code, "code")
    sku = SKU.objects.for_shop(request.shop).filter(code=code).first()
    if sku is None:
        raise Problem(404, "not_found", "No such SKU", f"no SKU {code!r} in this shop")
    return sku


@router.get("/skus/{code}", response={200: SkuOut, **ERRORS}, summary="One SKU")
def get_sku(request, code: str):
    need(request, "inventory.view")
    return _out(_sku(request, code))


@router.post("/skus/{code}/stock", response={200: SkuOut, **ERRORS},
             summary="Set or adjust stock on hand, with a reason and the version read")
def change(request, code: str, body: StockIn):
    need(request, "inventory.change")
    check_text(body.note, "note")
    sku = _sku(request, code)

    def act():
        try:
            changed = change_stock(sku=sku, actor=Actor.app(request.api_key), reason=body.reason, on_hand=body.on_hand,
                                   delta=body.delta, note=body.note, expected_version=body.version)
        except StaleStock as exc:
            raise Problem(409, "stale_version", "The stock changed since you read it", str(exc)) from None
        except StockRefused as exc:
            raise Problem(422, "invalid_request", "The stock change is not valid", str(exc)) from None
        return 200, _out(changed)
    return idempotent(request, act)
