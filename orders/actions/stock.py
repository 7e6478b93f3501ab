"""The stock an order's lines reserve and consume."""

from collections import Counter, defaultdict

from django.db.models import Case, F, IntegerField, Value, When

from shops.models import SKU

from ..models import OrderLine


def _sku_update(changes, field_name):
    """One UPDATE adding changes[sku_id] to `field_name` of each SKU."""
    if not changes:
        return
    SKU.objects.filter(pk__in=list(changes)).update(
        **{
            field_name: F(field_name)
            + Case(
                *[When(pk=pk, then=Value(delta)) for pk, delta in changes.items()],
                default=Value(0),
                output_field=IntegerField(),
            )
        }
    )


def _lines_by_order(order_ids):
    per_order = defaultdict(Counter)

    # order_by(): the default ordering would join and sort by the order for nothing.
    for order_id, sku_id, qty in OrderLine.objects.filter(order_id__in=order_ids).order_by().values_list(
        "order_id", "sku_id", "quantity"
    ):
        per_order[order_id][sku_id] += qty
    return per_order
