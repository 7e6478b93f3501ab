"""The storefront's signed endpoints: orders come in, payments come in.

Answers: 201 created, 200 for an identical repeat, 409 for a repeat that differs,
400 with field errors, 401 for a missing or wrong signature. Nothing is stored on a 4xx.
"""

import functools
import hashlib
import json
import re
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from core import money, payload
from core.actor import Actor
from core.payload import PayloadError
from core.signing import verify
from shops.models import SKU, Shop

from . import actions, addresses
from .language import language_of_locale
from .models import Order
from .transitions import InvalidTransition

MAX_LINES = 200
MAX_QUANTITY = 10_000
# Order.total is DecimalField(max_digits=14, decimal_places=2); PostgreSQL refuses more.
MAX_TOTAL = Decimal(10) ** 12
# A storefront clock a little ahead of ours is not an error.
CLOCK_SKEW = timedelta(minutes=10)


def _signed(view):
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        header = request.headers.get("X-Signature")
        # hmac.compare_digest refuses non-ASCII text with a TypeError; such a header is simply wrong.
        if header is None or not header.isascii() or not verify(request.body, header, settings.STOREFRONT_SECRET):
            return JsonResponse({"error": "missing or wrong X-Signature"}, status=401)
        return view(request, *args, **kwargs)

    return csrf_exempt(require_POST(wrapper))


def _json(body):
    return payload.json_object(body)


def _text(data, key, errors, path, *, required=True, max_length=200):
    value = data.get(key) if isinstance(data, dict) else None
    if value is not None and not isinstance(value, str):
        errors[path] = ["must be a string"]
        return ""
    value = (value or "").strip()
    if not value:
        if required:
            errors[path] = ["required"]
        return ""
    problem = payload.text_error(value)
    if problem:
        errors[path] = [problem]
        return ""
    if len(value) > max_length:
        errors[path] = [f"at most {max_length} characters"]
    return value


def _letters(value, n):
    return len(value) == n and value.isascii() and value.isalpha()


def _time(data, key, errors, *, required=True, now=None):
    value = data.get(key)
    if value is None:
        if required:
            errors[key] = ["required"]
        return None
    parsed, problem = payload.parse_time(value, latest=(now or timezone.now()) + CLOCK_SKEW)
    if problem:
        errors[key] = [problem]
    return parsed


def _object(data, key, errors, path):
    value = data.get(key)
    if not isinstance(value, dict):
        errors[path] = ["required object"]
        return {}
    return value


def _order_number(data, errors):
    number = _text(data, "number", errors, "number", max_length=40)
    # The number is a path segment of the payment URL.
    if number and ("/" in number or any(c.isspace() for c in number)):
        errors["number"] = ["no slashes or spaces"]
    return number


def _shop(data, errors):
    shop_slug = _text(data, "shop", errors, "shop", max_length=60)
    shop = Shop.objects.filter(slug=shop_slug).first() if shop_slug else None
    if shop_slug and shop is None:
        errors["shop"] = [f"unknown shop {shop_slug!r}"]
    return shop


def _currency(data, errors, shop):
    currency = _text(data, "currency", errors, "currency", max_length=3).upper()
    if currency and not _letters(currency, 3):
        errors["currency"] = ["a three-letter ISO 4217 code"]
    elif currency and not money.supported(currency):
        errors["currency"] = ["not a currency the platform holds (ISO 4217, at most 2 decimals)"]
    elif shop and currency and currency != shop.currency:
        errors["currency"] = [f"the shop sells in {shop.currency}"]
    return currency


def _shipping_model(data, errors):
    shipping_model = data.get("shipping_model")
    if not isinstance(shipping_model, str) or shipping_model not in Order.ShippingModel.values:
        errors["shipping_model"] = ["one of SELLER, PLATFORM"]
    return shipping_model


def _buyer(data, errors):
    buyer = _object(data, "buyer", errors, "buyer")
    address = _object(buyer, "address", errors, "buyer.address")
    clean_buyer = {
        "name": _text(buyer, "name", errors, "buyer.name"),
        "email": _text(buyer, "email", errors, "buyer.email", required=False, max_length=254),
        "phone": _text(buyer, "phone", errors, "buyer.phone", required=False, max_length=40),
        "address": _address(address, errors),
    }
    if clean_buyer["email"]:
        try:
            validate_email(clean_buyer["email"])
        except ValidationError:
            errors["buyer.email"] = ["not an email address"]
    if not clean_buyer["email"] and not clean_buyer["phone"]:
        errors.setdefault("buyer.email", []).append("an email or a phone is required")
    country = clean_buyer["address"]["country"]
    if country and not _letters(country, 2):
        errors["buyer.address.country"] = ["a two-letter ISO 3166 code"]
    elif country:
        _address_parts(clean_buyer["address"], errors)
    return clean_buyer


LOCALE_TAG = re.compile(r"[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*", re.ASCII)


def _language(data, errors):
    """The buyer's language from the optional `locale` ("vi-VN", "th", "es-419"): a supported
    language is kept for their emails and page; another well-formed tag means the default."""
    value = data.get("locale")
    if value is None or value == "":
        return ""
    if not isinstance(value, str) or len(value) > 35 or not LOCALE_TAG.fullmatch(value):
        errors["locale"] = ["a language tag such as \"vi-VN\""]
        return ""
    return language_of_locale(value)


def _address(address, errors):
    return {
        "line1": _text(address, "line1", errors, "buyer.address.line1"),
        "line2": _text(address, "line2", errors, "buyer.address.line2", required=False),
        "city": _text(address, "city", errors, "buyer.address.city", max_length=100),
        "region": _text(address, "region", errors, "buyer.address.region", required=False, max_length=100),
        "postal_code": _text(address, "postal_code", errors, "buyer.address.postal_code", required=False, max_length=20),
        "country": _text(address, "country", errors, "buyer.address.country", max_length=2).upper(),
        "district": _text(address, "district", errors, "buyer.address.district", required=False, max_length=100),
        "subdistrict": _text(address, "subdistrict", errors, "buyer.address.subdistrict", required=False,
                             max_length=100),
    }


def _address_parts(clean, errors):
    """The parts the destination country's addresses must have (orders.addresses): a district in
    Vietnam, Thailand and Indonesia, a postcode in the United Kingdom."""
    for part in addresses.format_for(clean["country"]).required:
        path = f"buyer.address.{part}"
        if not clean.get(part) and path not in errors:
            errors[path] = [f"required for an address in {clean['country']}"]


def _lines(data, errors, shop, currency):
    """The order lines as (sku, quantity, unit price); every SKU is found by one query."""
    lines = data.get("lines")
    if not isinstance(lines, list) or not lines:
        errors["lines"] = ["at least one line"]
        lines = []
    elif len(lines) > MAX_LINES:
        errors["lines"] = [f"at most {MAX_LINES} lines"]
        lines = []
    # Every SKU code is checked as text before the one query that looks them up.
    codes = [
        _text(line, "sku", errors, f"lines[{i}].sku", max_length=64) if isinstance(line, dict) else ""
        for i, line in enumerate(lines)
    ]
    skus = _skus(shop, codes, errors)
    clean_lines = []
    for i, line in enumerate(lines):
        clean = _line(line, f"lines[{i}]", skus.get(codes[i]), codes[i], shop, errors, currency)
        if clean is not None:
            clean_lines.append(clean)
    if clean_lines and sum(price * qty for _, qty, price in clean_lines) >= MAX_TOTAL:
        errors["lines"] = [f"the order total must be below {MAX_TOTAL:,}"]
    return clean_lines


def _skus(shop, codes, errors):
    wanted = [c for i, c in enumerate(codes) if c and f"lines[{i}].sku" not in errors]
    return {s.code: s for s in SKU.objects.filter(shop=shop, code__in=wanted)} if shop and wanted else {}


def _line(line, path, sku, code, shop, errors, currency):
    if not isinstance(line, dict):
        errors[path] = ["must be an object"]
        return None
    if sku is None and shop is not None and f"{path}.sku" not in errors:
        errors[f"{path}.sku"] = [f"unknown SKU {code!r} in shop {shop.slug!r}"]
    qty = _quantity(line, errors, path)
    price = _unit_price(line, errors, path, currency)
    if sku is None or qty is None or price is None:
        return None
    return sku, qty, price


def _quantity(line, errors, path):
    qty = line.get("quantity")
    if not isinstance(qty, int) or isinstance(qty, bool) or not 0 < qty <= MAX_QUANTITY:
        errors[f"{path}.quantity"] = [f"a whole number from 1 to {MAX_QUANTITY}"]
        return None
    return qty


def _unit_price(line, errors, path, currency):
    try:
        price = Decimal(line.get("unit_price")) if isinstance(line.get("unit_price"), str) else None
    except InvalidOperation:
        price = None
    if price is None or not price.is_finite() or price < 0 or price.as_tuple().exponent < -2 or price >= 10**10:
        errors[f"{path}.unit_price"] = ["a decimal string such as \"12.50\", not negative, at most 2 places"]
        return None
    # The currency's own minor units: 0.5 VND or 12.345 USD is no price.
    if money.known(currency) and (problem := money.precision_error(price, currency)):
        errors[f"{path}.unit_price"] = [problem]
        return None
    return price


def parse_order(data):
    """Validate a storefront order; return the keyword arguments of actions.receive_order."""
    errors = {}
    now = timezone.now()
    # Each part adds its field errors in payload order, so the 400 lists them as before.
    number = _order_number(data, errors)
    shop = _shop(data, errors)
    placed_at = _time(data, "placed_at", errors, now=now)
    paid_at = _time(data, "paid_at", errors, required=False, now=now)
    currency = _currency(data, errors, shop)
    shipping_model = _shipping_model(data, errors)
    clean_buyer = _buyer(data, errors)
    clean_lines = _lines(data, errors, shop, currency)
    language = _language(data, errors)
    if paid_at and placed_at and paid_at < placed_at:
        errors["paid_at"] = ["before placed_at"]
    if errors:
        raise PayloadError(errors)
    clean = {
        "shop": shop,
        "number": number,
        "placed_at": placed_at,
        "paid_at": paid_at,
        "currency": currency,
        "shipping_model": shipping_model,
        "buyer": clean_buyer,
        "lines": clean_lines,
        "language": language,
    }
    clean["digest"] = _digest(clean)
    return clean


def _digest(clean):
    """A fingerprint of what was understood, so unknown fields never make a conflict."""
    canonical = {
        **{k: v for k, v in clean.items() if k not in ("shop", "lines", "placed_at", "paid_at")},
        "shop": clean["shop"].slug,
        "placed_at": clean["placed_at"].timestamp(),
        "paid_at": clean["paid_at"].timestamp() if clean["paid_at"] else None,
        "lines": [[sku.code, qty, str(price.normalize())] for sku, qty, price in clean["lines"]],
    }
    # Fields added later count only when given, so a repeat of an order pushed before them
    # still matches its fingerprint.
    if not canonical["language"]:
        del canonical["language"]
    address = canonical["buyer"]["address"]
    canonical["buyer"] = {**canonical["buyer"], "address": {k: v for k, v in address.items()
                                                            if v or k not in ("district", "subdistrict")}}
    return hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()


def _order_json(order):
    return {"number": order.number, "status": order.status, "shop": order.shop.slug}


@_signed
def storefront_orders(request):
    try:
        clean = parse_order(_json(request.body))
    except PayloadError as exc:
        return JsonResponse({"errors": exc.errors}, status=400)
    existing = Order.objects.select_related("shop").filter(number=clean["number"]).first()
    if existing is None:
        try:
            with transaction.atomic():
                order = actions.receive_order(**clean)
            return JsonResponse(_order_json(order), status=201)
        except IntegrityError:
            # A concurrent identical push won the race for the number.
            existing = Order.objects.select_related("shop").filter(number=clean["number"]).first()
            if existing is None:
                raise
    if existing.source_digest == clean["digest"]:
        return JsonResponse(_order_json(existing), status=200)
    return JsonResponse(
        {"error": f"order {clean['number']} already exists with different content", **_order_json(existing)},
        status=409,
    )


@_signed
def storefront_payment(request, number):
    try:
        data = _json(request.body or b"{}")
    except PayloadError as exc:
        return JsonResponse({"errors": exc.errors}, status=400)
    errors = {}
    paid_at = _time(data, "paid_at", errors, required=False)
    problem = payload.text_error(number)
    if problem:
        return JsonResponse({"errors": {"number": [f"the order number in the URL {problem}"]}}, status=400)
    if data.get("number") != number:
        # The signature covers the body only, so the body must name the order it pays.
        errors["number"] = ["the body's number must be the order number in the URL"]
    if errors:
        return JsonResponse({"errors": errors}, status=400)
    order = Order.objects.select_related("shop").filter(number=number).first()
    if order is None:
        return JsonResponse({"errors": {"number": [f"unknown order {number!r}"]}}, status=404)
    if order.paid_at is not None:  # a repeated payment notice changes nothing
        return JsonResponse(_order_json(order), status=200)
    if paid_at is not None and paid_at < order.placed_at:
        return JsonResponse({"errors": {"paid_at": ["before the order was placed"]}}, status=400)
    try:
        order = actions.pay_order(order=order, actor=Actor.storefront(), paid_at=paid_at)
    except InvalidTransition as exc:
        order.refresh_from_db()
        if order.paid_at is not None:  # a concurrent notice of the same payment got the lock first
            return JsonResponse(_order_json(order), status=200)
        return JsonResponse({"error": str(exc), **_order_json(order)}, status=409)
    return JsonResponse(_order_json(order), status=200)
