"""Requests start where a buyer leaves them (opened on a delivered or paid order); later
states are reached by calling the actions."""

import io

from django.core.files.uploadedfile import SimpleUploadedFile

from orders.models import Order
from orders.tests.factories import advance, make_order
from shops.tests.factories import SKUFactory

from .. import actions, photos


def image_bytes(fmt="PNG", size=(32, 24), color=(200, 30, 30)):
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, format=fmt)
    return buf.getvalue()


def upload(name="photo.png", content=None, content_type="image/png"):
    return SimpleUploadedFile(name, image_bytes() if content is None else content, content_type=content_type)


def delivered_order(shop, *, lines=None, **buyer):
    """An order with two lines (2 x 10.00 and 1 x 25.00 = 45.00), delivered."""
    if lines is None:
        lines = [(SKUFactory(shop=shop, price="10.00"), 2), (SKUFactory(shop=shop, price="25.00"), 1)]
    order = make_order(shop, lines=lines, **buyer)
    return advance(order, Order.Status.DELIVERED)


def paid_order(shop, to=Order.Status.AWAITING_SHIPMENT, **kwargs):
    order = make_order(shop, lines=[(SKUFactory(shop=shop, price="15.00"), 2)], **kwargs)
    return advance(order, to)


def open_return(order, *, kind="return", qty=None, reason=None, description="Cracked", files=()):
    reason = reason or ("no_longer_needed" if kind == "cancel" else "damaged")
    lines = list(order.lines.all())
    quantities = qty if qty is not None else {lines[0].pk: 1}
    return actions.open_request(order=order, kind=kind, reason=reason, description=description,
                                quantities=quantities, photos=photos.check_photos(list(files)))


def open_cancel(order, reason="no_longer_needed"):
    return actions.open_request(order=order, kind="cancel", reason=reason, description="")
