from django.db import transaction


def order_event_saved(sender, instance, created, **kwargs):
    """An order was delivered: email the buyer their signed return-page link, after commit."""
    if created and instance.action == "mark_delivered":
        from .actions import send_return_link

        order_id = instance.order_id
        transaction.on_commit(lambda: send_return_link(order_id=order_id))
