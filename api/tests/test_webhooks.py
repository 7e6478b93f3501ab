"""Webhooks and the event feed: the outbox is written with the change, the sequencer orders it by
commit, deliveries are signed per Standard Webhooks (verified here with the standardwebhooks
package), retried on a backoff, and a receiver that fails for a day gets its webhook turned off."""

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from django.utils import timezone
from standardwebhooks import Webhook as Verifier
from standardwebhooks.webhooks import WebhookVerificationError

from api import keys, outbox
from api.models import Webhook, WebhookAttempt, WebhookDelivery
from core.actor import Actor
from orders import actions
from orders.models import Order
from orders.tests.factories import make_order
from shops.models import Notification, ShopEvent
from shops.tests.factories import ShopFactory, SKUFactory

pytestmark = pytest.mark.django_db
S = Order.Status


class Receiver:
    """A local HTTP receiver: records every request, answers with the next code of `codes`
    (the last one repeats)."""

    def __init__(self):
        self.requests, self.codes, self.answered = [], [200], {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append((dict(self.headers), body))
                code = receiver.codes.pop(0) if len(receiver.codes) > 1 else receiver.codes[0]
                receiver.answered[self.headers["webhook-id"]] = code
                body = b"" if code in (204, 304) else b"ok"  # those carry no body (a client reads none)
                self.send_response(code)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def bodies(self):
        return [json.loads(body) for _, body in self.requests]


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.server.shutdown()
    r.server.server_close()


@pytest.fixture
def hook(shop, receiver):
    return outbox.create_webhook(shop=shop, url=receiver.url, events=["order.status_changed", "order.created"],
                                 by="test")


def seller(shop):
    return Actor.seller(shop.memberships.get().user)


def test_a_confirmed_order_reaches_the_receiver_signed_and_verifiable(shop, hook, receiver):
    order = make_order(shop)
    actions.confirm_order(order=order, actor=seller(shop))
    result = outbox.run_once()
    assert result.succeeded == result.sent == 3  # created, paid's status change, confirmed
    assert [b["type"] for b in receiver.bodies()].count("order.status_changed") == 2
    headers, body = next((h, b) for h, b in receiver.requests if json.loads(b)["data"]["to_status"] == S.AWAITING_SHIPMENT)
    # The receiver's side: the standardwebhooks package verifies what we sent.
    payload = Verifier(hook.secret).verify(body, headers)
    assert payload["type"] == "order.status_changed"
    assert payload["data"]["id"] == order.number and payload["data"]["from_status"] == S.AWAITING_CONFIRMATION
    assert payload["data"]["action"] == "confirm"
    assert headers["webhook-id"].startswith("msg_")
    with pytest.raises(WebhookVerificationError):
        Verifier(outbox.new_secret()).verify(body, headers)
    # Sequence numbers only grow per object, so a receiver can drop older ones.
    seqs = [b["data"]["sequence"] for b in receiver.bodies() if b["data"]["id"] == order.number]
    assert seqs == sorted(seqs) or len(set(seqs)) == len(seqs)
    assert WebhookDelivery.objects.filter(status="succeeded").count() == 3
    assert WebhookAttempt.objects.filter(response_code=200).count() == 3


def test_a_rolled_back_change_writes_no_event_and_sends_nothing(shop, hook, receiver):
    order = make_order(shop)
    outbox.run_once()
    receiver.requests.clear()
    before = ShopEvent.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        actions.confirm_order(order=order, actor=seller(shop))
        assert ShopEvent.objects.count() > before  # written in the change's transaction ...
        raise RuntimeError("the rest of the request failed")
    assert ShopEvent.objects.count() == before  # ... and gone with it
    assert outbox.run_once().sent == 0 and receiver.requests == []


def test_a_failing_receiver_is_retried_with_the_same_webhook_id_then_succeeds(shop, hook, receiver):
    receiver.codes = [500, 503, 200]
    t0 = timezone.now()
    make_order(shop)
    outbox.sequence(now=t0)
    WebhookDelivery.objects.exclude(event__action="place").delete()
    first = outbox.run_once(now=t0)
    assert first.failed == 1
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "pending" and delivery.response_code == 500
    assert delivery.next_attempt_at == t0 + timedelta(seconds=outbox.RETRY_DELAYS[0])
    assert outbox.run_once(now=t0 + timedelta(seconds=1)).sent == 0  # not due yet
    assert outbox.run_once(now=t0 + timedelta(seconds=6)).failed == 1  # 503
    assert outbox.run_once(now=t0 + timedelta(minutes=6)).succeeded == 1
    ids = {h["webhook-id"] for h, _ in receiver.requests}
    assert len(receiver.requests) == 3 and ids == {delivery.msg_id}
    delivery.refresh_from_db()
    assert delivery.status == "succeeded" and delivery.attempts == 3
    assert list(delivery.attempt_log.order_by("id").values_list("response_code", flat=True)) == [500, 503, 200]


def test_a_receiver_failing_for_a_day_turns_the_webhook_off_and_tells_the_owner(shop, hook, receiver, mailoutbox,
                                                                                django_capture_on_commit_callbacks):
    receiver.codes = [500]
    shop.email = "owner@example.com"
    shop.save()
    t = timezone.now()
    make_order(shop)
    outbox.sequence(now=t)
    keep = WebhookDelivery.objects.order_by("id").first()
    WebhookDelivery.objects.exclude(pk=keep.pk).delete()
    with django_capture_on_commit_callbacks(execute=True):
        for delay in (0, *outbox.RETRY_DELAYS):
            t += timedelta(seconds=delay)
            outbox.run_once(now=t)
    keep.refresh_from_db()
    hook.refresh_from_db()
    assert keep.status == "failed" and keep.attempts == outbox.MAX_ATTEMPTS
    assert sum(outbox.RETRY_DELAYS) > 24 * 3600  # "about a day"
    assert not hook.active and "8 failed attempts" in hook.disabled_reason
    note = Notification.objects.get(kind=Notification.Kind.INTEGRATION)
    assert "turned off" in note.text and note.shop == shop
    assert [m.subject for m in mailoutbox] == ["A webhook was turned off"]
    # While it is off, new events wait (held), and nothing is sent.
    make_order(shop)
    outbox.run_once(now=t + timedelta(hours=1))
    assert WebhookDelivery.objects.filter(status="held").exists()
    sent = len(receiver.requests)
    assert outbox.run_once(now=t + timedelta(hours=2)).sent == 0 and len(receiver.requests) == sent
    # Turned back on (the receiver fixed), the held deliveries go.
    receiver.codes = [200]
    outbox.update_webhook(webhook=hook, active=True, now=t + timedelta(hours=3))
    assert outbox.run_once(now=t + timedelta(hours=3)).succeeded >= 1
    assert not WebhookDelivery.objects.filter(status="held").exists()


def test_a_webhook_only_gets_the_types_it_listens_to_and_only_after_it_was_made(shop, receiver):
    make_order(shop)
    outbox.sequence()
    hook = outbox.create_webhook(shop=shop, url=receiver.url, events=["order.paid"])
    make_order(shop)
    make_order(ShopFactory())  # another shop's order reaches no webhook of this shop
    outbox.run_once()
    assert [b["type"] for b in receiver.bodies()] == ["order.paid"]
    assert WebhookDelivery.objects.filter(webhook=hook).count() == 1


def test_rotation_signs_with_both_secrets_for_a_day(shop, hook, receiver):
    old = hook.secret
    rotated = outbox.rotate_secret(webhook=hook)
    assert rotated.secret != old and rotated.secret.startswith("whsec_")
    make_order(shop)
    outbox.run_once()
    headers, body = receiver.requests[0]
    assert len(headers["webhook-signature"].split(" ")) == 2
    Verifier(old).verify(body, headers)
    Verifier(rotated.secret).verify(body, headers)


def test_the_sequencer_puts_a_late_commit_after_what_was_already_read(shop):
    at = timezone.now()

    def event(pk):
        return ShopEvent.objects.create(id=pk, shop=shop, type="order.updated", object_type="order", object_id=1,
                                        object_key="X", at=at)

    high = ShopEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    event(high + 20), event(high + 21)
    outbox.sequence()
    first = list(ShopEvent.objects.filter(shop=shop).order_by("position").values_list("id", "position"))
    # A transaction that took id high+10 commits only now: it must come after, not be skipped.
    event(high + 10)
    outbox.sequence()
    late = ShopEvent.objects.get(id=high + 10)
    assert late.position > max(p for _, p in first)


def test_deliver_webhooks_command_takes_at(shop, hook, receiver):
    make_order(shop)
    out = StringIO()
    call_command("deliver_webhooks", "--at", (timezone.now() + timedelta(minutes=1)).isoformat(), stdout=out)
    assert "sent 2 deliveries: 2 delivered" in out.getvalue()
    with pytest.raises(Exception, match="UTC offset"):
        call_command("deliver_webhooks", "--at", "2026-01-01T00:00:00")


@pytest.mark.parametrize("url, problem", [
    ("ftp://example.com/x", "only http"),
    ("http://user:pw@example.com/", "user name"),
    ("http://", "no host"),
    ("http://exa mple.com/", "spaces"),
    ("http://example.com:99999/", "not valid"),
    ("https://example.com/#x", "fragment"),
])
def test_receiver_urls_are_checked(url, problem):
    assert problem in outbox.url_problem(url)


@override_settings(WEBHOOKS_ALLOW_PRIVATE_URLS=False)
@pytest.mark.parametrize("url", ["http://127.0.0.1:8000/", "http://10.1.2.3/", "http://[::1]/", "http://localhost/",
                                 "http://169.254.169.254/latest/meta-data", "http://[::ffff:127.0.0.1]/"])
def test_private_and_loopback_receivers_are_refused_in_production(url):
    assert "private" in outbox.url_problem(url) or "resolved" in outbox.url_problem(url)


# --- the API -----------------------------------------------------------------------------------

@pytest.fixture
def api(client, shop):
    _, clear = keys.create_key(shop=shop, name="ERP", scopes=["webhooks:manage", "orders:read"])
    headers = {"Authorization": f"Bearer {clear}"}

    class Api:
        def get(self, url, **params):
            return client.get(url, params, headers=headers)

        def post(self, url, body=None, **extra):
            return client.post(url, json.dumps(body or {}), content_type="application/json",
                               headers={**headers, **extra})

        def patch(self, url, body):
            return client.patch(url, json.dumps(body), content_type="application/json", headers=headers)

        def delete(self, url):
            return client.delete(url, headers=headers)
    return Api()


def test_webhook_crud_through_the_api(api, shop, receiver):
    r = api.post("/api/v1/webhooks", {"url": receiver.url, "events": ["order.created", "refund.created"]})
    assert r.status_code == 201, r.content
    made = r.json()
    assert made["secret"].startswith("whsec_") and made["active"] is True
    listed = api.get("/api/v1/webhooks").json()
    assert [h["id"] for h in listed] == [made["id"]] and "secret" not in listed[0]
    r = api.patch(f"/api/v1/webhooks/{made['id']}", {"events": ["order.paid"], "active": False})
    assert r.status_code == 200 and r.json()["events"] == ["order.paid"] and r.json()["active"] is False
    r = api.post(f"/api/v1/webhooks/{made['id']}/rotate-secret")
    assert r.status_code == 200 and r.json()["secret"] != made["secret"]
    assert api.delete(f"/api/v1/webhooks/{made['id']}").status_code == 204
    assert api.get(f"/api/v1/webhooks/{made['id']}").status_code == 404
    assert Webhook.objects.get(pk=made["id"]).removed_at is not None  # kept, with its log


@pytest.mark.parametrize("body, path", [
    ({"url": "ftp://x.example/", "events": ["order.paid"]}, None),
    ({"url": "https://x.example/", "events": ["order.shipped"]}, "events.0"),
    ({"url": "https://x.example/", "events": []}, "events"),
    ({"events": ["order.paid"]}, "url"),
])
def test_invalid_webhooks_are_422_problems(api, body, path):
    r = api.post("/api/v1/webhooks", body)
    assert r.status_code == 422, r.content
    assert r["Content-Type"] == "application/problem+json"
    if path:
        assert path in [e["path"] for e in r.json()["errors"]]


def test_webhooks_need_the_scope_and_stay_in_their_shop(client, api, shop, receiver):
    other = outbox.create_webhook(shop=ShopFactory(), url=receiver.url, events=["order.paid"])
    assert api.get(f"/api/v1/webhooks/{other.pk}").status_code == 404
    assert api.delete(f"/api/v1/webhooks/{other.pk}").status_code == 404
    _, clear = keys.create_key(shop=shop, name="reader", scopes=["orders:read"])
    r = client.get("/api/v1/webhooks", headers={"Authorization": f"Bearer {clear}"})
    assert r.status_code == 403 and "webhooks:manage" in r.json()["detail"]
    assert client.get("/api/v1/webhooks").status_code == 401


def test_delivery_log_and_redeliver(api, shop, hook, receiver):
    make_order(shop)
    outbox.run_once()
    log = api.get(f"/api/v1/webhooks/{hook.pk}/deliveries").json()["items"]
    assert {d["status"] for d in log} == {"succeeded"} and all(d["response_code"] == 200 for d in log)
    first = log[0]
    r = api.post(f"/api/v1/webhooks/{hook.pk}/deliveries/{first['id']}/redeliver")
    assert r.status_code == 202 and r.json()["status"] == "pending"
    n = len(receiver.requests)
    outbox.run_once()
    assert len(receiver.requests) == n + 1
    assert receiver.requests[-1][0]["webhook-id"] == first["webhook_id"]
    assert api.post(f"/api/v1/webhooks/{hook.pk}/deliveries/999999/redeliver").status_code == 404


def test_the_event_feed_pages_by_cursor_and_replays(api, shop):
    orders = [make_order(shop) for _ in range(3)]
    make_order(ShopFactory())  # not this shop's
    page = api.get("/api/v1/events", limit=4).json()
    assert len(page["items"]) == 4
    rest = api.get("/api/v1/events", after=page["next_cursor"]).json()
    items = page["items"] + rest["items"]
    # created, paid, status change: three events per order, oldest first.
    assert len(items) == 9 and {i["data"]["id"] for i in items} == {o.number for o in orders}
    assert [i["data"]["position"] for i in items] == sorted(i["data"]["position"] for i in items)
    assert api.get("/api/v1/events", after=rest["next_cursor"]).json() == {"items": [], "next_cursor": rest["next_cursor"]}
    assert api.get("/api/v1/events", after="0").json()["items"][:4] == page["items"]  # replay
    for bad in ("-1", "abc", "1e3", "²"):
        r = api.get("/api/v1/events", after=bad)
        assert r.status_code == 400 and r.json()["code"] == "invalid_cursor"


def test_the_feed_shows_a_key_only_what_its_scopes_read(client, shop):
    sku = SKUFactory(shop=shop, stock_on_hand=10)
    make_order(shop, lines=[(sku, 1)])
    _, clear = keys.create_key(shop=shop, name="stock", scopes=["inventory:read"])
    r = client.get("/api/v1/events", headers={"Authorization": f"Bearer {clear}"})
    assert r.status_code == 200 and all(i["data"]["object"] == "sku" for i in r.json()["items"])


def test_bulk_confirm_with_two_webhooks_adds_one_insert(shop, receiver, django_assert_num_queries):
    sku = SKUFactory(shop=shop, stock_on_hand=1000)
    orders = [make_order(shop, lines=[(sku, 1)]) for _ in range(20)]
    ids = [o.pk for o in orders]
    actor = seller(shop)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as without:
        actions.confirm_orders(shop=shop, order_ids=ids[:10], actor=actor)
    for _ in range(2):
        outbox.create_webhook(shop=shop, url=receiver.url, events=["order.status_changed"])
    with CaptureQueriesContext(connection) as with_hooks:
        actions.confirm_orders(shop=shop, order_ids=ids[10:], actor=actor)
    # Subscriptions cost the write nothing: deliveries are made after commit by the sequencer.
    # (The first run also made the status counters' rows, hence "at most".)
    assert len(with_hooks) <= len(without)
    assert sum("shops_shopevent" in q["sql"] for q in with_hooks.captured_queries) == 1
    outbox.run_once()
    assert WebhookDelivery.objects.count() == 20


def test_stock_changes_and_low_stock_are_in_the_feed(shop, receiver, settings):
    from shops.stock import change_stock

    settings.STOCK_LOW_THRESHOLD = 5
    hook = outbox.create_webhook(shop=shop, url=receiver.url, events=["stock.low", "stock.changed"])
    sku = SKUFactory(shop=shop, stock_on_hand=6)
    change_stock(sku=sku, actor=seller(shop), reason="count", on_hand=7)  # 6 -> 7: changed, not low
    order = make_order(shop, lines=[(sku, 3)])
    actions.confirm_order(order=order, actor=seller(shop))  # 7 -> 4 available: low
    sku.refresh_from_db()
    change_stock(sku=sku, actor=seller(shop), reason="damaged", delta=-1)  # already low: changed only
    outbox.run_once()
    got = [(b["type"], b["data"]["available_before"], b["data"]["available"]) for b in receiver.bodies()]
    assert sorted(got) == sorted([("stock.changed", 6, 7), ("stock.low", 7, 4), ("stock.changed", 4, 3)])
    assert WebhookDelivery.objects.filter(webhook=hook).count() == 3


def test_package_moves_from_the_carrier_feed_and_from_actions_are_in_the_feed(shop, receiver):
    from shipping.tests.factories import arranged, event, feed, order_to_ship

    outbox.create_webhook(shop=shop, url=receiver.url, events=["package.updated"])
    order = order_to_ship(shop)
    [package] = arranged(order)
    before = package.status
    feed(event(package, "InTransit"))
    feed(event(package, "InTransit", location="Second hub"))  # a scan that moves nothing: not announced
    outbox.run_once()
    moves = [(b["data"]["action"], b["data"]["from_status"], b["data"]["to_status"]) for b in receiver.bodies()]
    # Deliveries go out in parallel: receivers order them by data.sequence, and so does this test.
    moves = [m for _, m in sorted(zip([b["data"]["sequence"] for b in receiver.bodies()], moves, strict=True))]
    assert moves[-1] == ("carrier_event", before, "IN_TRANSIT")
    assert moves[0][0] == "create"  # the package's own history rows are in the feed too
    assert all(b["data"]["object"] == "package" and b["data"]["id"] == str(package.pk) for b in receiver.bodies())
    assert all(b["data"]["order_number"] == order.number for b in receiver.bodies())
    assert sum(1 for m in moves if m[0] == "carrier_event") == 1


def test_refunds_are_in_the_feed_with_their_amount(shop, receiver):
    from returns import actions as returns_actions

    outbox.create_webhook(shop=shop, url=receiver.url, events=["refund.created"])
    order = make_order(shop)
    actions.cancel_order(order=order, actor=seller(shop), reason="out_of_stock")
    returns_actions.refund_orders(order_ids=[order.pk], actor=Actor.policy("P10"))
    outbox.run_once()
    [body] = receiver.bodies()
    assert body["type"] == "refund.created" and body["data"]["order_number"] == order.number
    assert body["data"]["amount"] == f"{order.total:.2f}" and body["data"]["currency"] == order.currency


def test_the_pump_fits_in_the_task_timeout_and_delivers(shop, hook, receiver, settings):
    from api import tasks

    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "timeout": 30}
    assert tasks.pump_seconds() == 25
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "timeout": 240}
    assert tasks.pump_seconds() == 55
    make_order(shop)
    assert outbox.pump(seconds=0.5, idle_sleep=0.05)["succeeded"] == 2


def test_a_batch_with_many_different_answers_records_each_delivery_right(shop, receiver, django_assert_max_num_queries):
    """Outcomes are written one UPDATE per distinct outcome, the rarest past MAX_OUTCOME_UPDATES by
    bulk_update: every delivery still gets its own answer, and the query count stays bounded."""
    codes = [200, 201, 202, 204, 500, 502, 503, 504, 404, 410, 429, 418]
    assert len(set(codes)) > outbox.MAX_OUTCOME_UPDATES
    hooks = [outbox.create_webhook(shop=shop, url=f"{receiver.url}/{i}", events=["order.created"], by="test")
             for i in range(len(codes))]
    receiver.codes = codes + [200]
    t0 = timezone.now()
    make_order(shop)
    outbox.sequence(now=t0)
    with django_assert_max_num_queries(8 + outbox.MAX_OUTCOME_UPDATES):  # claim, lease, outcomes, log, savepoints
        result = outbox.deliver_due(now=t0)
    assert result.sent == len(hooks) and result.succeeded == 4 and result.failed == 8
    for d in WebhookDelivery.objects.filter(webhook__in=hooks):
        code = receiver.answered[d.msg_id]
        assert d.response_code == code and d.attempts == 1 and d.last_attempt_at == t0, (d.error, code)
        if 200 <= code < 300:
            assert d.status == "succeeded" and d.next_attempt_at is None and d.error == ""
        else:
            assert d.status == "pending" and d.error == f"the receiver answered {code}"
            assert d.next_attempt_at == t0 + timedelta(seconds=outbox.RETRY_DELAYS[0])
