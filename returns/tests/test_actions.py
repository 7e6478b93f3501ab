import hashlib
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.actor import Actor
from orders.actions import ActionRefused
from orders.models import Order, OrderEvent, OrderMessage
from orders.tests.factories import advance, make_order
from shops import policy_windows
from shops.models import Notification
from shops.tests.factories import ShopFactory, UserFactory

from .. import actions, transitions
from ..models import BuyerRequest, Refund, RequestEvent
from ..transitions import InvalidTransition
from .factories import delivered_order, open_cancel, open_return, paid_order, upload

pytestmark = pytest.mark.django_db
R = BuyerRequest.Status


@pytest.fixture
def seller_actor(seller):
    return Actor.seller(seller)


def _through(req, status, seller_actor):
    """Walk a return request forward through the actions."""
    if status in (R.APPROVED, R.RETURN_SHIPPED, R.RECEIVED, R.REFUNDED, R.LAPSED, R.DISPUTED):
        req = actions.approve_request(request=req, actor=seller_actor)
    if status == R.LAPSED:
        req = actions.lapse_return(request=req, actor=Actor.policy("P13"))
    if status in (R.RETURN_SHIPPED, R.RECEIVED, R.REFUNDED, R.DISPUTED):
        req = actions.ship_back(request=req, carrier="UPS", tracking="1Z999")
    if status == R.DISPUTED:
        req = actions.dispute_return(request=req, actor=seller_actor, reason="not_received_back", note="Nothing came")
    if status in (R.RECEIVED, R.REFUNDED):
        req = actions.confirm_receipt(request=req, actor=seller_actor)
    if status == R.REFUNDED:
        req = actions.refund_request(request=req, actor=seller_actor)
    if status == R.REJECTED:
        req = actions.reject_request(request=req, actor=seller_actor, reason="no_defect")
    if status == R.WITHDRAWN:
        req = actions.withdraw_request(request=req)
    req.refresh_from_db()
    assert req.status == status
    return req


def test_open_return_with_photo_writes_timeline_history_and_rings_the_bell(shop):
    order = delivered_order(shop)
    req = open_return(order, files=[upload()])
    assert req.status == R.REQUESTED and req.amount == Decimal("10.00")
    assert req.photos.get().content_type == "image/png"
    assert list(req.events.values_list("action", flat=True)) == ["open"]
    assert OrderEvent.objects.filter(order=order, note__contains=req.number).exists()
    assert Notification.objects.filter(shop=shop, kind=Notification.Kind.REQUEST).exists()
    assert req.respond_by - req.created_at == policy_windows.window("P11").delta


def test_open_request_more_than_bought_is_refused(shop):
    order = delivered_order(shop)
    line = order.lines.first()
    with pytest.raises(ActionRefused, match="at most 2"):
        open_return(order, qty={line.pk: 3})
    assert not BuyerRequest.objects.exists()


def test_open_request_counts_quantities_already_requested(shop, seller_actor):
    order = delivered_order(shop)
    line = order.lines.first()  # 2 bought
    first = open_return(order, qty={line.pk: 1})
    _through(first, R.REFUNDED, seller_actor)
    with pytest.raises(ActionRefused, match="1 already in another request"):
        open_return(order, qty={line.pk: 2})
    second = open_return(order, qty={line.pk: 1})
    _through(second, R.REFUNDED, seller_actor)
    with pytest.raises(ActionRefused):
        open_return(order, qty={line.pk: 1})


def test_open_request_withdrawn_or_rejected_quantities_are_free_again(shop, seller_actor):
    order = delivered_order(shop)
    line = order.lines.first()
    _through(open_return(order, qty={line.pk: 2}), R.WITHDRAWN, seller_actor)
    _through(open_return(order, qty={line.pk: 2}), R.REJECTED, seller_actor)
    assert open_return(order, qty={line.pk: 2}).status == R.REQUESTED


@pytest.mark.parametrize("qty", [{}, {"x": 1}, {999999: 1}, {"LINE": -1}, {"LINE": 0}])
def test_open_request_bad_quantities_are_refused(shop, qty):
    order = delivered_order(shop)
    line = order.lines.first()
    qty = {(line.pk if k == "LINE" else k): v for k, v in qty.items()}
    with pytest.raises(ActionRefused):
        open_return(order, qty=qty)


def test_open_request_another_orders_line_is_refused(shop):
    order, other = delivered_order(shop), delivered_order(shop)
    with pytest.raises(ActionRefused, match="not on this order"):
        open_return(order, qty={other.lines.first().pk: 1})


def test_open_request_one_open_request_per_order(shop):
    order = delivered_order(shop)
    first = open_return(order)
    with pytest.raises(ActionRefused, match=first.number):
        open_return(order, kind="refund_only")


def test_open_request_database_refuses_a_second_open_request(shop):
    order = delivered_order(shop)
    req = open_return(order)
    with pytest.raises(IntegrityError), transaction.atomic():
        BuyerRequest.objects.create(order=order, shop=shop, kind="refund_only", reason="damaged", amount=1,
                                    currency="USD", created_at=req.created_at, status_changed_at=req.created_at,
                                    respond_by=req.respond_by)


@pytest.mark.parametrize("status, kind, ok", [
    (Order.Status.AWAITING_CONFIRMATION, "cancel", True),
    (Order.Status.AWAITING_SHIPMENT, "cancel", True),
    (Order.Status.AWAITING_COLLECTION, "cancel", True),
    (Order.Status.IN_TRANSIT, "cancel", False),
    (Order.Status.DELIVERED, "cancel", False),
    (Order.Status.AWAITING_SHIPMENT, "return", False),
    (Order.Status.IN_TRANSIT, "refund_only", False),
    (Order.Status.DELIVERED, "refund_only", True),
    (Order.Status.COMPLETED, "return", False),
])
def test_open_request_kind_must_fit_the_order_status(shop, status, kind, ok):
    order = paid_order(shop, to=status)
    if ok:
        assert open_return(order, kind=kind).status == R.REQUESTED
    else:
        with pytest.raises(ActionRefused):
            open_return(order, kind=kind)


def test_open_cancel_on_unpaid_order_is_refused(shop):
    order = make_order(shop, paid=False)
    with pytest.raises(ActionRefused, match="not paid"):
        open_cancel(order)


def test_open_request_other_reason_needs_a_description(shop):
    order = delivered_order(shop)
    with pytest.raises(ActionRefused, match="Describe"):
        open_return(order, reason="other", description="  ")
    with pytest.raises(ActionRefused, match="reason"):
        open_return(order, reason="because")


def test_return_journey_approve_ship_back_receive_refund(shop, seller_actor):
    order = delivered_order(shop)
    req = _through(open_return(order), R.REFUNDED, seller_actor)
    assert list(req.events.values_list("action", flat=True)) == ["open", "approve", "ship_back", "receive", "refund"]
    refund = Refund.objects.get(order=order)
    assert (refund.amount, refund.partial, refund.request_id, refund.seq) == (Decimal("10.00"), False, req.pk, 1)
    # Every step is in the order's history and the buyer heard of each seller step.
    assert OrderEvent.objects.filter(order=order, action="buyer_request").count() == 4
    assert OrderEvent.objects.filter(order=order, action="refund").count() == 1
    assert OrderMessage.objects.filter(order=order, sender="platform").count() == 3


def test_refund_request_partial_needs_a_reason_and_never_exceeds_the_request(shop, seller_actor):
    req = _through(open_return(delivered_order(shop)), R.RECEIVED, seller_actor)
    with pytest.raises(ActionRefused, match="partial"):
        actions.refund_request(request=req, actor=seller_actor, amount="4.00")
    with pytest.raises(ActionRefused, match=r"At most \$10\.00"):
        actions.refund_request(request=req, actor=seller_actor, amount="10.01")
    with pytest.raises(ActionRefused, match="more than zero"):
        actions.refund_request(request=req, actor=seller_actor, amount="0")
    actions.refund_request(request=req, actor=seller_actor, amount="4.00", note="Scuffed by use")
    refund = Refund.objects.get()
    assert refund.amount == Decimal("4.00") and refund.partial


def test_refund_request_twice_is_refused(shop, seller_actor):
    req = _through(open_return(delivered_order(shop)), R.REFUNDED, seller_actor)
    with pytest.raises(InvalidTransition):
        actions.refund_request(request=req, actor=seller_actor)
    assert Refund.objects.count() == 1


def test_refund_order_is_idempotent_and_refunds_only_what_is_left(shop, seller_actor):
    order = delivered_order(shop)
    _through(open_return(order), R.REFUNDED, seller_actor)  # 10.00 of 45.00
    staff = Actor.staff(UserFactory(is_staff=True))
    first = actions.refund_order(order=order, actor=staff)
    second = actions.refund_order(order=order, actor=Actor.policy("P10"))
    assert first.pk == second.pk and first.amount == Decimal("35.00") and first.seq == 2
    assert sum(r.amount for r in Refund.objects.filter(order=order)) == order.total
    assert OrderEvent.objects.filter(order=order, note__startswith="Refunded 35.00").count() == 1


def test_refund_order_unpaid_refunds_nothing(shop):
    order = make_order(shop, paid=False)
    assert actions.refund_order(order=order, actor=Actor.policy("P10")) is None
    assert not Refund.objects.exists()


def test_refund_database_refuses_more_than_the_order_total(shop):
    order = delivered_order(shop)
    common = dict(order=order, kind="request", currency="USD", order_total=order.total, actor_kind="staff",
                  created_at=order.placed_at)
    Refund.objects.create(amount=Decimal("40.00"), seq=1, refunded_before=0, **common)
    with pytest.raises(IntegrityError), transaction.atomic():
        Refund.objects.create(amount=Decimal("5.01"), seq=2, refunded_before=Decimal("40.00"), **common)
    with pytest.raises(IntegrityError), transaction.atomic():  # two refunds building on the same total
        Refund.objects.create(amount=Decimal("1.00"), seq=1, refunded_before=0, **common)


def test_refund_database_refuses_a_second_whole_order_refund(shop):
    order = delivered_order(shop)
    common = dict(order=order, kind="order", currency="USD", order_total=order.total, actor_kind="policy",
                  created_at=order.placed_at)
    Refund.objects.create(amount=Decimal("1.00"), seq=1, refunded_before=0, **common)
    with pytest.raises(IntegrityError), transaction.atomic():
        Refund.objects.create(amount=Decimal("1.00"), seq=2, refunded_before=Decimal("1.00"), **common)


def test_refund_only_approval_refunds_the_asked_amount_or_less_with_a_reason(shop, seller_actor):
    order = delivered_order(shop)
    line = order.lines.last()  # 25.00
    req = open_return(order, kind="refund_only", qty={line.pk: 1})
    with pytest.raises(ActionRefused, match="partial"):
        actions.approve_request(request=req, actor=seller_actor, amount="20")
    actions.approve_request(request=req, actor=seller_actor, amount="20", note="Minor scratch only")
    req.refresh_from_db()
    assert req.status == R.REFUNDED
    assert Refund.objects.get(request=req).amount == Decimal("20.00")
    assert list(req.events.values_list("action", flat=True)) == ["open", "approve", "refund_approved"]


def test_cancel_request_approved_cancels_refunds_and_tells_the_buyer(shop, seller_actor):
    order = paid_order(shop)
    req = open_cancel(order)
    actions.approve_request(request=req, actor=seller_actor)
    order.refresh_from_db()
    req.refresh_from_db()
    assert order.status == Order.Status.CANCELLED and order.cancel_reason == "buyer_requested"
    assert req.status == R.REFUNDED
    refund = Refund.objects.get(order=order)
    assert (refund.kind, refund.amount) == ("order", order.total)
    assert OrderMessage.objects.filter(order=order, body__contains="was cancelled").exists()
    # The refund rule finds nothing more to do for this order.
    assert actions.refund_order(order=order, actor=Actor.policy("P10")).pk == refund.pk


def test_cancel_request_after_the_order_shipped_cannot_be_approved(shop, seller_actor):
    order = paid_order(shop)
    req = open_cancel(order)
    advance(order, Order.Status.IN_TRANSIT)
    with pytest.raises(ActionRefused, match="no longer be cancelled"):
        actions.approve_request(request=req, actor=seller_actor)
    req.refresh_from_db()
    assert req.status == R.REQUESTED and not Refund.objects.exists()
    actions.reject_request(request=req, actor=seller_actor, reason="already_shipped")


def test_reject_request_needs_a_listed_reason_and_other_needs_words(shop, seller_actor):
    req = open_return(delivered_order(shop))
    with pytest.raises(ActionRefused):
        actions.reject_request(request=req, actor=seller_actor, reason="")
    with pytest.raises(ActionRefused, match="Other"):
        actions.reject_request(request=req, actor=seller_actor, reason="other", note="")
    actions.reject_request(request=req, actor=seller_actor, reason="evidence", note="Photo shows no damage")
    req.refresh_from_db()
    assert (req.status, req.reject_reason) == (R.REJECTED, "evidence")
    assert OrderMessage.objects.filter(order=req.order, body__contains="Photo shows no damage").exists()


def test_extend_deadline_once_only(shop, seller_actor):
    req = open_return(delivered_order(shop))
    before = req.respond_by
    req = actions.extend_deadline(request=req, actor=seller_actor)
    assert req.respond_by == before + policy_windows.window("P11").delta
    with pytest.raises(ActionRefused, match="already extended"):
        actions.extend_deadline(request=req, actor=seller_actor)


def test_staff_may_overrule_a_rejection(shop, seller_actor):
    req = _through(open_return(delivered_order(shop)), R.REJECTED, seller_actor)
    with pytest.raises(InvalidTransition):
        actions.approve_request(request=req, actor=seller_actor)
    staff = Actor.staff(UserFactory(is_staff=True))
    actions.approve_request(request=req, actor=staff, note="Photos show the crack")
    req.refresh_from_db()
    assert req.status == R.APPROVED and req.reject_reason == ""
    assert req.events.last().action == "staff_approve"
    assert Notification.objects.filter(shop=shop, text__contains="approved by platform staff").exists()


def test_staff_may_refund_a_return_the_seller_never_confirmed(shop, seller_actor):
    req = _through(open_return(delivered_order(shop)), R.RETURN_SHIPPED, seller_actor)
    with pytest.raises(InvalidTransition):
        actions.refund_request(request=req, actor=seller_actor)
    actions.refund_request(request=req, actor=Actor.staff(UserFactory(is_staff=True)), note="Carrier shows delivered")
    req.refresh_from_db()
    assert req.status == R.REFUNDED


ALL_STATUSES = [R.REQUESTED, R.APPROVED, R.RETURN_SHIPPED, R.RECEIVED, R.REFUNDED, R.REJECTED, R.WITHDRAWN, R.LAPSED,
                R.DISPUTED]


@pytest.mark.parametrize("action", [a for a in transitions.TRANSITIONS if a not in transitions.STAFF_ONLY])
@pytest.mark.parametrize("status", ALL_STATUSES)
def test_every_illegal_move_is_refused(shop, seller_actor, action, status):
    """A return request in each status, tried with each action the table does not allow from it."""
    sources, _, kinds = transitions.TRANSITIONS[action]
    if status in sources and "return" in kinds:
        pytest.skip("allowed move")
    req = _through(open_return(delivered_order(shop)), status, seller_actor)
    call = {
        "approve": lambda: actions.approve_request(request=req, actor=seller_actor),
        "reject": lambda: actions.reject_request(request=req, actor=seller_actor, reason="no_defect"),
        "extend": lambda: actions.extend_deadline(request=req, actor=seller_actor),
        "withdraw": lambda: actions.withdraw_request(request=req),
        "ship_back": lambda: actions.ship_back(request=req, carrier="", tracking="X1"),
        "receive": lambda: actions.confirm_receipt(request=req, actor=seller_actor),
        "refund": lambda: actions.refund_request(request=req, actor=seller_actor),
        "refund_approved": lambda: transitions.check("refund_approved", req),
        "dispute": lambda: actions.dispute_return(request=req, actor=seller_actor, reason="used", note="Worn"),
    }[action]
    events = RequestEvent.objects.count()
    with pytest.raises((InvalidTransition, ActionRefused)) as exc:
        call()
    assert req.number in str(exc.value) or "extended" in str(exc.value)
    assert RequestEvent.objects.count() == events


def test_ship_back_on_a_refund_only_request_is_refused(shop):
    req = open_return(delivered_order(shop), kind="refund_only")
    with pytest.raises(InvalidTransition, match="refund only request cannot be"):
        actions.ship_back(request=req, carrier="", tracking="X")


def test_post_message_buyer_rings_the_bell_seller_emails_the_buyer(shop, seller, mailoutbox,
                                                                  django_capture_on_commit_callbacks):
    order = delivered_order(shop)
    with django_capture_on_commit_callbacks(execute=True):
        actions.post_message(order=order, sender="buyer", body="Where is my refund?")
        actions.post_message(order=order, sender="seller", author=seller, body="Sent today.")
    assert Notification.objects.filter(shop=shop, kind="message", text__contains="Where is my refund").exists()
    assert any(m.to == [order.buyer_email] and "Sent today." in m.body for m in mailoutbox)
    with pytest.raises(ActionRefused):
        actions.post_message(order=order, sender="buyer", body="   ")


def test_delivery_emails_the_buyer_a_signed_link_once(shop, mailoutbox, django_capture_on_commit_callbacks):
    order = paid_order(shop, to=Order.Status.IN_TRANSIT)
    with django_capture_on_commit_callbacks(execute=True):
        advance(order, Order.Status.DELIVERED)
    links = [m for m in mailoutbox if m.to == [order.buyer_email] and "/returns/o/" in m.body]
    assert len(links) == 1
    assert actions.send_return_link(order_id=order.pk) is False


def test_carrier_feed_delivering_orders_emails_each_buyer_the_link_once(shop, mailoutbox,
                                                                       django_capture_on_commit_callbacks):
    # The carrier feed delivers orders many at a time; each buyer gets one link, and events
    # arriving again deliver nothing and send nothing.
    from shipping import actions as shipping_actions
    from shipping.tests.factories import ACTOR, arranged, event, feed, order_to_ship

    t = timezone.now() - timedelta(days=1)
    packages = []
    for email in ("robin@example.com", "sam@example.com"):
        (pkg,) = arranged(order_to_ship(shop, placed_at=t - timedelta(days=1), email=email))
        shipping_actions.mark_ready(package=pkg, actor=ACTOR)
        packages.append(pkg)
    feed(*[event(pkg, "InTransit", subtag="InTransit_002", at=t) for pkg in packages])
    delivered = [event(pkg, "Delivered", at=t + timedelta(hours=5)) for pkg in packages]
    with django_capture_on_commit_callbacks(execute=True):
        feed(*delivered)
        feed(*delivered)
    assert Order.objects.filter(pk__in=[p.order_id for p in packages], status=Order.Status.DELIVERED).count() == 2
    links = sorted(m.to[0] for m in mailoutbox if "/returns/o/" in m.body)
    assert links == ["robin@example.com", "sam@example.com"]


def test_the_return_link_follows_the_delivery_action_not_a_history_row(shop, mailoutbox,
                                                                       django_capture_on_commit_callbacks):
    # orders.registry's delivered hook, called by orders.actions.mark_delivered; a history row
    # written by itself (as a set-based write would) is not what sends it.
    from orders import registry

    assert "return_link" in registry.DELIVERED_HOOKS
    order = paid_order(shop, to=Order.Status.IN_TRANSIT)
    with django_capture_on_commit_callbacks(execute=True):
        OrderEvent.objects.create(order=order, at=timezone.now(), actor_kind="policy", action="mark_delivered",
                                  from_status="IN_TRANSIT", to_status="DELIVERED")
    assert not [m for m in mailoutbox if "/returns/o/" in m.body]


def test_requests_are_per_shop(shop):
    other = ShopFactory()
    open_return(delivered_order(other))
    assert BuyerRequest.objects.for_shop(shop).count() == 0


def test_buyer_photo_is_stored_without_its_location(shop):
    from core.tests.test_images import GPS_IFD, opened, photo

    order = delivered_order(shop)
    req = open_return(order, files=[upload("IMG_0001.jpg", photo("JPEG"), "image/jpeg")])
    stored = req.photos.get()
    with stored.file.open("rb") as f:
        data = f.read()
    assert stored.content_type == "image/jpeg" and stored.sha256 == hashlib.sha256(data).hexdigest()
    assert GPS_IFD not in opened(data).getexif() and b"PhoneCo" not in data


def test_seller_disputes_a_return_staff_rule_and_p14_waits(shop, seller_actor):
    from shops import policy_windows

    from .. import policies

    req = _through(open_return(delivered_order(shop)), R.RETURN_SHIPPED, seller_actor)
    with pytest.raises(ActionRefused, match="Describe what arrived"):
        actions.dispute_return(request=req, actor=seller_actor, reason="not_received_back", note=" ")
    with pytest.raises(ActionRefused, match="from the list"):
        actions.dispute_return(request=req, actor=seller_actor, reason="no_defect", note="x")
    actions.dispute_return(request=req, actor=seller_actor, reason="not_received_back",
                           note="The carrier shows no parcel at our address")
    req.refresh_from_db()
    assert req.status == R.DISPUTED and req.is_open
    assert req.order.messages.filter(body__contains=f"The seller disputes your return {req.number}").exists()
    # The platform's automatic refund waits for the ruling.
    p14 = policy_windows.window("P14")
    assert policies.refund_unrefunded_returns(as_of=req.refund_by + timedelta(days=1), window=p14) == 0
    # Staff reject it (the seller was right) ...
    staff = Actor.staff(UserFactory(is_staff=True))
    actions.reject_request(request=req, actor=staff, reason="not_received_back", note="Tracking number is fake")
    req.refresh_from_db()
    assert req.status == R.REJECTED and not Refund.objects.filter(request=req).exists()
    assert req.events.filter(action="staff_reject").exists()


def test_staff_can_refund_a_disputed_return(shop, seller_actor):
    req = _through(open_return(delivered_order(shop)), R.DISPUTED, seller_actor)
    actions.refund_request(request=req, actor=Actor.staff(UserFactory(is_staff=True)), note="Delivered per carrier")
    req.refresh_from_db()
    assert req.status == R.REFUNDED and Refund.objects.filter(request=req).count() == 1
