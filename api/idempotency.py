"""Idempotency-Key for every POST: a repeat with the same key and body gets the first answer
without acting again; the same key with another body is a 409.

The claim row, the action and the stored answer are one transaction. A repeat that arrives
while the first request runs waits on the claim's unique index until the first commits, then
replays its answer; if the first was refused or failed, nothing of it was kept (the claim
included) and the repeat runs as a first request."""

import hashlib
import json
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from core.payload import text_error

from .models import IdempotentRequest

HOURS = 24
MAX_KEY = 200


def fingerprint(request):
    return hashlib.sha256(b"\n".join([request.method.encode(), request.path.encode(), request.body])).hexdigest()


def run(request, act, problem):
    """Answer `act()` -> (status, body) once per Idempotency-Key. `problem(status, code, title, detail)`
    raises the API's problem document."""
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return act()
    if not key or len(key) > MAX_KEY or text_error(key) or not key.isascii():
        problem(400, "invalid_idempotency_key", "The Idempotency-Key header is not usable",
                f"1 to {MAX_KEY} printable ASCII characters")
    api_key, digest = request.api_key, fingerprint(request)
    IdempotentRequest.objects.filter(api_key=api_key, key=key,
                                     created_at__lt=timezone.now() - timedelta(hours=HOURS)).delete()
    with transaction.atomic():
        try:
            with transaction.atomic():
                claim = IdempotentRequest.objects.create(api_key=api_key, key=key, fingerprint=digest)
        except IntegrityError:
            first = IdempotentRequest.objects.get(api_key=api_key, key=key)
            if first.fingerprint != digest:
                problem(409, "idempotency_key_reused", "The Idempotency-Key was used for another request",
                        "send a new key for a different request")
            return first.status, first.response
        status, body = act()
        claim.status, claim.response = status, json.loads(json.dumps(body, default=str))
        claim.save(update_fields=["status", "response"])
    return status, body
