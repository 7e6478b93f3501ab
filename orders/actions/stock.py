"""The stock an order's lines reserve and consume."""

from collections import Counter, defaultdict

from ..models import OrderLine


def _lines_by_order(order_ids):
    per_order = defaultdict(Counter)

    # order_by(): the default ordering would join and sort by the order for nothing.
    for order_id, sku_id, qty in OrderLine.objects.filter(order_id__in=order_ids).order_by().values_list(
        "order_id", "sku_id", "quantity"
    ):
        per_order[order_id][sku_id] += qty
    return per_order
