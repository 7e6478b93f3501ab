from django.apps import AppConfig
from django.db.models import Exists, OuterRef, Subquery
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class ReturnsConfig(AppConfig):
    name = "returns"
    verbose_name = "Returns and refunds"

    def ready(self):
        from orders import registry

        from .models import BuyerRequest

        def having(qs, requests):
            return qs.filter(Exists(requests.filter(order=OuterRef("pk"))))

        def due_within(now, hours):
            from datetime import timedelta

            return BuyerRequest.objects.awaiting_answer().filter(respond_by__lt=now + timedelta(hours=hours))

        def refunded_by_platform_within(now, hours):
            from datetime import timedelta

            return BuyerRequest.objects.awaiting_refund().filter(refund_by__lt=now + timedelta(hours=hours))

        registry.register_card(registry.BoardCard(
            key="requests_awaiting",
            label=_("Buyer requests awaiting your answer"),
            count=lambda shop, now: BuyerRequest.objects.for_shop(shop).awaiting_answer().count(),
            query={"board": "requests_awaiting", "sort": "newest"},
            filter=lambda qs, shop, now: having(qs, BuyerRequest.objects.for_shop(shop).awaiting_answer()),
            order=40,
        ))
        # Cards of what the platform does within 24 h unless the seller acts first.
        for order, key, label, due in (
            (41, "requests_auto_approve_24h", _("Requests approved automatically within 24 h"), due_within),
            (42, "returns_auto_refund_24h", _("Returns refunded by the platform within 24 h"), refunded_by_platform_within),
        ):
            registry.register_card(registry.BoardCard(
                key=key, label=label, order=order, query={"board": key, "sort": "newest"},
                count=lambda shop, now, due=due: due(now, 24).filter(shop=shop).count(),
                filter=lambda qs, shop, now, due=due: having(qs, due(now, 24).filter(shop=shop)),
            ))
        registry.register_filter(registry.ListFilter(
            key="request",
            label=_("Buyer request"),
            choices=[("awaiting", _("Awaiting your answer")), ("open", _("Open request")), ("any", _("Any request"))],
            apply=lambda qs, value: having(qs, {
                "awaiting": BuyerRequest.objects.awaiting_answer(),
                "open": BuyerRequest.objects.open(),
            }.get(value, BuyerRequest.objects.all())),
        ))
        registry.register_panel(registry.OrderPanel(
            key="requests", template="returns/_order_panel.html", context=_panel_context, order=50,
        ))
        registry.register_row_value(registry.RowValue(
            key="request", permission="requests.answer",
            expression=lambda: Subquery(BuyerRequest.objects.awaiting_answer().filter(order=OuterRef("pk"))
                                        .order_by("pk").values("pk")[:1]),
            url=lambda shop, pk: reverse("returns:detail", kwargs={"shop": shop.slug, "pk": pk}),
        ))
        registry.register_pause_hook(registry.PauseHook(key="requests", pause=_pause_requests))
        registry.register_delivered_hook("return_link", _send_return_links)


def _panel_context(shop, order):
    """The order page's requests section: two queries whatever the number of requests."""
    from .forms import MessageForm
    from .models import BuyerRequest, Refund

    return {
        "requests": list(BuyerRequest.objects.for_shop(shop).filter(order=order).order_by("-created_at", "-id")),
        "refunds": list(Refund.objects.filter(order=order, order__shop=shop)),
        "message_form": MessageForm(),
    }


def _send_return_links(*, order_ids):
    """Delivered orders: email each buyer their signed return-page link, once the delivery commits."""
    from django.db import transaction

    from .actions import send_return_link

    for order_id in order_ids:
        transaction.on_commit(lambda order_id=order_id: send_return_link(order_id=order_id))


def _pause_requests(*, order_ids, pause, actor, at):
    from .actions import pause_request_deadlines

    pause_request_deadlines(order_ids=order_ids, pause=pause, actor=actor, at=at)
