"""From the shop's change feed to the webhooks' receivers.

Every change writes a ShopEvent in its own transaction (shops.feed): that row is the outbox, so a
rollback sends nothing and a commit always sends. After commit, two steps, each safe to run on
several workers at once and again after a crash:

1. `sequence()` takes the committed events that have no feed position yet, in id order, gives
   them the next positions (shops.feed.sequence) and makes one WebhookDelivery per (event, webhook
   that listens to its type), in one transaction under the sequencer's row lock. A change that commits late gets a
   later position than everything already sequenced, so a reader of the feed who pages by
   position never skips one (ids alone would: a transaction holding id 10 may commit after
   id 11 was read).
2. `deliver_due()` claims the deliveries that are due (SKIP LOCKED, and a one-minute lease in case
   the worker dies mid-send), POSTs them signed per Standard Webhooks from a pool of threads with
   keep-alive connections, and records each attempt. A failure (no answer in time, not 2xx) is
   retried on a schedule of about a day; after the last try the webhook is turned off, its other
   deliveries are held, and the shop's owner gets a bell and an email.

`pump()` runs both in a loop for a django-q2 schedule; `manage.py deliver_webhooks` runs them once.
"""

import http.client
import ipaddress
import json
import secrets
import socket
import threading
import time
from base64 import b64encode
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from standardwebhooks import Webhook as Signer

from core import sql
from core.refusals import Refused
from shops import feed
from shops.actions import notify
from shops.models import Notification, ShopEvent

from .models import Webhook, WebhookAttempt, WebhookDelivery

# Seconds after a failed attempt before the next one: about 28 hours in all, eight attempts.
RETRY_DELAYS = (5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
LEASE = timedelta(seconds=60)
SEQUENCE_BATCH = 5000
DELIVERY_BATCH = 500
MAX_WEBHOOKS_PER_SHOP = 20
ROTATION_GRACE = timedelta(hours=24)
USER_AGENT = "SellerCenter-Webhooks/1"

EVENT_TYPES = ShopEvent.Type.values


class WebhookRefused(Refused):
    """A webhook that cannot be saved as asked; the message says why."""


# --- receivers' addresses ----------------------------------------------------------------


def _private(address):
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def url_problem(url):
    """Why a receiver's URL is refused, or "": http or https, a host, no credentials, and (unless
    WEBHOOKS_ALLOW_PRIVATE_URLS) only public addresses, checked against what the host resolves to."""
    if not isinstance(url, str) or not url.strip():
        return "give the receiver's URL"
    if len(url) > 2000:
        return "the URL is longer than 2000 characters"
    if not (url.isascii() and url.isprintable()) or any(c.isspace() for c in url):
        return "the URL has spaces or characters outside ASCII (punycode a non-ASCII host)"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        return f"the URL is not valid ({exc})"
    if parts.scheme not in ("http", "https"):
        return "only http:// and https:// URLs are allowed"
    if not parts.hostname:
        return "the URL has no host"
    if parts.username or parts.password:
        return "the URL must not carry a user name or password"
    if parts.fragment:
        return "the URL must not have a #fragment"
    if settings.WEBHOOKS_ALLOW_PRIVATE_URLS:
        return ""
    try:
        infos = socket.getaddrinfo(parts.hostname, port or (443 if parts.scheme == "https" else 80),
                                   type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return f"the host {parts.hostname} cannot be resolved"
    if any(_private(info[4][0]) for info in infos):
        return f"the host {parts.hostname} is a private, loopback or reserved address"
    return ""


# --- managing webhooks (the API and the Seller Center page call these) -----------------------


def new_secret():
    return "whsec_" + b64encode(secrets.token_bytes(24)).decode()


def _clean(url, events, description):
    if problem := url_problem(url):
        raise WebhookRefused(_("URL: %(problem)s.") % {"problem": problem})
    wanted = list(dict.fromkeys(e.strip() for e in events or () if isinstance(e, str) and e.strip()))
    unknown = [e for e in wanted if e not in EVENT_TYPES]
    if unknown:
        raise WebhookRefused(_("Unknown event type(s): %(items)s; choose from %(choices)s.") % {"items": ', '.join(unknown), "choices": ', '.join(EVENT_TYPES)})
    if not wanted:
        raise WebhookRefused(_("Choose at least one event type."))
    description = (description or "").strip()
    if len(description) > 200:
        raise WebhookRefused(_("The description is longer than 200 characters."))
    return url.strip(), wanted, description


@transaction.atomic
def create_webhook(*, shop, url, events, description="", by=""):
    url, events, description = _clean(url, events, description)
    if Webhook.objects.filter(shop=shop, removed_at=None).count() >= MAX_WEBHOOKS_PER_SHOP:
        raise WebhookRefused(_("A shop can have at most %(max_webhooks_per_shop)s webhooks; remove one first.") % {"max_webhooks_per_shop": MAX_WEBHOOKS_PER_SHOP})
    return Webhook.objects.create(shop=shop, url=url, events=events, description=description, secret=new_secret(),
                                  created_by_label=by[:150])


@transaction.atomic
def update_webhook(*, webhook, url=None, events=None, description=None, active=None, now=None):
    """Change what a webhook listens to or where it sends. Turning it back on resumes its held
    deliveries from now."""
    now = now or timezone.now()
    hook = Webhook.objects.select_for_update().get(pk=webhook.pk)
    url, events, description = _clean(hook.url if url is None else url, hook.events if events is None else events,
                                      hook.description if description is None else description)
    hook.url, hook.events, hook.description, hook.updated_at = url, events, description, now
    if active is True and not hook.active:
        hook.active, hook.disabled_at, hook.disabled_reason = True, None, ""
        hook.deliveries.filter(status=WebhookDelivery.Status.HELD).update(
            status=WebhookDelivery.Status.PENDING, next_attempt_at=now)
    elif active is False and hook.active:
        _turn_off(hook, now, "Turned off by the shop.")
    hook.save()
    return hook


def _turn_off(hook, now, reason):
    hook.active, hook.disabled_at, hook.disabled_reason = False, now, reason[:300]
    hook.deliveries.filter(status=WebhookDelivery.Status.PENDING).update(status=WebhookDelivery.Status.HELD)


@transaction.atomic
def remove_webhook(*, webhook, now=None):
    """Stop a webhook for good; the row and its delivery log stay."""
    now = now or timezone.now()
    hook = Webhook.objects.select_for_update().get(pk=webhook.pk)
    if hook.removed_at is None:
        _turn_off(hook, now, "Removed by the shop.")
        hook.removed_at = hook.updated_at = now
        hook.save()
    return hook


@transaction.atomic
def rotate_secret(*, webhook, now=None):
    """A new secret; the old one still signs beside it (two signatures in webhook-signature) for a
    day, so a receiver can switch without dropping a delivery."""
    now = now or timezone.now()
    hook = Webhook.objects.select_for_update().get(pk=webhook.pk)
    hook.previous_secret, hook.previous_secret_until = hook.secret, now + ROTATION_GRACE
    hook.secret, hook.updated_at = new_secret(), now
    hook.save()
    return hook


@transaction.atomic
def redeliver(*, delivery, now=None):
    """Send a delivery again now (the same webhook-id), whatever became of it; a held one waits
    until its webhook is turned back on."""
    now = now or timezone.now()
    row = WebhookDelivery.objects.select_for_update().select_related("webhook").get(pk=delivery.pk)
    if row.webhook.removed_at:
        raise WebhookRefused(_("That webhook was removed."))
    if not row.webhook.active:
        raise WebhookRefused(_("Turn the webhook back on first: it is off."))
    row.status, row.next_attempt_at, row.attempts = WebhookDelivery.Status.PENDING, now, 0
    row.save(update_fields=["status", "next_attempt_at", "attempts"])
    return row


# --- 1. sequencing ---------------------------------------------------------------------------


def sequence(*, now=None, limit=SEQUENCE_BATCH):
    """Give committed events without a position the next ones (shops.feed.sequence, under the
    sequencer's lock) and, in the same transaction, their deliveries: one per webhook of the event's
    shop that listens to its type and existed when it was recorded. Returns how many events."""
    if not ShopEvent.objects.filter(position__isnull=True).exists():
        return 0
    now = now or timezone.now()
    with transaction.atomic():
        first, last = feed.sequence(now=now, limit=limit)
        if last < first:
            return 0
        new = ShopEvent.objects.filter(position__gte=first, position__lte=last)
        hooks = defaultdict(list)
        for hook in Webhook.objects.filter(removed_at=None, shop_id__in=new.values("shop_id")).only(
                "id", "shop_id", "events", "active", "created_at"):
            hooks[hook.shop_id].append(hook)
        if hooks:
            status = {True: WebhookDelivery.Status.PENDING, False: WebhookDelivery.Status.HELD}
            WebhookDelivery.objects.bulk_create(
                (WebhookDelivery(webhook_id=hook.pk, event_id=event_id, status=status[hook.active],
                                 next_attempt_at=now, created_at=now)
                 for event_id, shop_id, type_, recorded_at in new.filter(shop_id__in=list(hooks)).values_list(
                     "id", "shop_id", "type", "recorded_at")
                 for hook in hooks[shop_id] if type_ in hook.events and hook.created_at <= recorded_at),
                batch_size=2000)
    return last - first + 1


# --- 2. delivering ---------------------------------------------------------------------------


def event_body(event):
    """The JSON a receiver gets: {type, timestamp, data}, data naming the object, the change and
    the event's sequence (it only grows per object: drop a delivery older than one you applied)."""
    data = {
        "object": event.object_type,
        "id": event.object_key,
        "sequence": event.pk,
        "position": event.position,
        "action": event.action,
        "from_status": event.from_status,
        "to_status": event.to_status,
        **({"order_number": event.order_number} if event.order_number else {}),
        **(event.data or {}),
    }
    return {"type": event.type, "timestamp": event.at.isoformat().replace("+00:00", "Z"), "data": data}


def _signature(hook, msg_id, sent_at, body, now):
    signatures = [Signer(hook.secret).sign(msg_id, sent_at, body)]
    if hook.previous_secret and hook.previous_secret_until and hook.previous_secret_until > now:
        signatures.append(Signer(hook.previous_secret).sign(msg_id, sent_at, body))
    return " ".join(signatures)


class _Connections(threading.local):
    """Each sending thread keeps one connection per receiver (scheme, host, port) open."""

    def __init__(self):
        self.open = {}

    def get(self, parts, timeout):
        key = (parts.scheme, parts.hostname, parts.port)
        conn = self.open.get(key)
        if conn is None:
            cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
            conn = self.open[key] = cls(parts.hostname, parts.port, timeout=timeout)
        return conn

    def drop(self, parts):
        conn = self.open.pop((parts.scheme, parts.hostname, parts.port), None)
        if conn is not None:
            conn.close()


_connections = _Connections()


def _post(url, headers, body, timeout):
    """(status code or None, error text, milliseconds)."""
    parts = urlsplit(url)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    started = time.monotonic()
    for retry_closed in (True, False):
        conn = _connections.get(parts, timeout)
        try:
            conn.request("POST", path, body=body, headers=headers)
            response = conn.getresponse()
            response.read(65536)
            if response.will_close:
                _connections.drop(parts)
            return response.status, "", int((time.monotonic() - started) * 1000)
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as exc:
            _connections.drop(parts)
            if not retry_closed:  # a kept-alive connection the receiver had closed: try once afresh
                return None, f"connection lost: {exc}"[:300], int((time.monotonic() - started) * 1000)
        except (OSError, http.client.HTTPException) as exc:
            _connections.drop(parts)
            reason = "no answer in time" if isinstance(exc, TimeoutError | socket.timeout) else str(exc) or type(exc).__name__
            return None, reason[:300], int((time.monotonic() - started) * 1000)
    return None, "connection lost", int((time.monotonic() - started) * 1000)


def _send(delivery, now):
    hook, event = delivery.webhook, delivery.event
    if not settings.WEBHOOKS_ALLOW_PRIVATE_URLS and (problem := url_problem(hook.url)):
        return None, problem, 0
    body = json.dumps(event_body(event), separators=(",", ":"))
    sent_at = timezone.now()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "webhook-id": delivery.msg_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": _signature(hook, delivery.msg_id, sent_at, body, now),
    }
    return _post(hook.url, headers, body.encode(), settings.WEBHOOK_TIMEOUT_SECONDS)


@dataclass
class Delivered:
    sequenced: int = 0
    sent: int = 0
    succeeded: int = 0
    failed: int = 0
    gave_up: int = 0
    turned_off: list = field(default_factory=list)


def _claim(now, limit):
    with transaction.atomic():
        qs = WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now)
        if sql.postgres():
            qs = qs.select_for_update(skip_locked=True, of=("self",))
        rows = list(qs.select_related("webhook", "event").order_by("next_attempt_at", "id")[:limit])
        if rows:
            WebhookDelivery.objects.filter(pk__in=[r.pk for r in rows]).update(next_attempt_at=now + LEASE)
    return rows


_pool = None
_pool_lock = threading.Lock()


def _executor():
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=max(1, settings.WEBHOOK_CONCURRENCY), thread_name_prefix="webhook")
        return _pool


def deliver_due(*, now=None, limit=DELIVERY_BATCH, result=None):
    """Send every delivery due at `now` once (up to `limit`); record what each receiver said."""
    now = now or timezone.now()
    result = result or Delivered()
    rows = _claim(now, limit)
    if not rows:
        return result
    outcomes = list(_executor().map(lambda d: _send(d, now), rows)) if len(rows) > 1 else [_send(rows[0], now)]
    attempts, exhausted = [], {}
    for delivery, (code, error, ms) in zip(rows, outcomes, strict=True):
        delivery.attempts += 1
        delivery.last_attempt_at, delivery.response_code, delivery.error = now, code, error
        ok = code is not None and 200 <= code < 300
        if ok:
            delivery.status, delivery.next_attempt_at = WebhookDelivery.Status.SUCCEEDED, None
            result.succeeded += 1
        elif delivery.attempts >= MAX_ATTEMPTS:
            delivery.status, delivery.next_attempt_at = WebhookDelivery.Status.FAILED, None
            exhausted.setdefault(delivery.webhook_id, delivery)
            result.gave_up += 1
        else:
            delivery.next_attempt_at = now + timedelta(seconds=RETRY_DELAYS[delivery.attempts - 1])
            delivery.error = delivery.error or f"the receiver answered {code}"
            result.failed += 1
        attempts.append(WebhookAttempt(delivery=delivery, at=now, response_code=code,
                                       error=error or ("" if ok else f"the receiver answered {code}"),
                                       duration_ms=ms))
    result.sent += len(rows)
    with transaction.atomic():
        _record(rows, now)
        WebhookAttempt.objects.bulk_create(attempts)
        for hook_id, delivery in exhausted.items():
            _give_up(hook_id, delivery, now)
            result.turned_off.append(hook_id)
    return result


# Above this many different outcomes in one batch (all failing in different ways), the rest are
# written by bulk_update, whose CASE per field costs more than one UPDATE per outcome.
MAX_OUTCOME_UPDATES = 8


def _record(rows, now):
    """Write the batch's outcomes: one UPDATE per distinct outcome (a healthy batch is one outcome:
    succeeded, with the same answer), rather than bulk_update's CASE WHEN per row and field, which
    Django takes longer to build than the receivers take to answer."""
    groups = defaultdict(list)
    for d in rows:
        groups[(d.status, d.attempts, d.next_attempt_at, d.response_code, d.error)].append(d.pk)
    ordered = sorted(groups.items(), key=lambda item: -len(item[1]))
    for (status, attempts, next_at, code, error), ids in ordered[:MAX_OUTCOME_UPDATES]:
        WebhookDelivery.objects.filter(pk__in=ids).update(
            status=status, attempts=attempts, next_attempt_at=next_at, last_attempt_at=now, response_code=code,
            error=error)
    if rest := {pk for _, ids in ordered[MAX_OUTCOME_UPDATES:] for pk in ids}:
        WebhookDelivery.objects.bulk_update(
            [d for d in rows if d.pk in rest],
            ["status", "attempts", "next_attempt_at", "last_attempt_at", "response_code", "error"])


def _give_up(hook_id, delivery, now):
    hook = Webhook.objects.select_for_update().select_related("shop").get(pk=hook_id)
    if not hook.active:
        return
    last = f"answered {delivery.response_code}" if delivery.response_code else (delivery.error or "did not answer")
    _turn_off(hook, now, f"Turned off after {MAX_ATTEMPTS} failed attempts over about a day (last: {last}).")
    hook.updated_at = now
    hook.save()
    text = f"Webhook to {hook.url[:120]} was turned off: its receiver failed for a day. Fix it, then turn it back on."
    notify(shop=hook.shop, kind=Notification.Kind.INTEGRATION, text=text[:300],
           url=f"/s/{hook.shop.slug}/settings/webhooks/", email_subject="A webhook was turned off", at=now)


def run_once(*, now=None):
    """Sequence, then deliver what is due, once: the deliver_webhooks command and the tests."""
    result = Delivered(sequenced=sequence(now=now))
    while True:
        before = result.sent
        deliver_due(now=now, result=result)
        if result.sent == before or result.sent - before < DELIVERY_BATCH:
            return result


def pump(seconds=55, idle_sleep=0.25):
    """Keep sequencing and delivering for `seconds` (a django-q2 schedule starts one a minute)."""
    deadline = time.monotonic() + seconds
    total = Delivered()
    while time.monotonic() < deadline:
        total.sequenced += sequence()
        before = total.sent
        deliver_due(result=total)
        if total.sent == before:
            time.sleep(idle_sleep)
    return {"sequenced": total.sequenced, "sent": total.sent, "succeeded": total.succeeded}
