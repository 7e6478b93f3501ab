"""Helpers for tests of the signed machine endpoints."""

import json

from django.conf import settings

from core.signing import sign


def post_signed(client, url, payload_or_bytes, *, secret=None, signature=None, **headers):
    """POST a JSON body signed the way the storefront signs it (X-Signature: sha256=<hex HMAC>).

    A dict or list is JSON-encoded; bytes are sent as they are, so a test can sign a malformed
    body. `signature` overrides the header (None computes it, "" sends none at all).
    """
    body = payload_or_bytes if isinstance(payload_or_bytes, bytes) else json.dumps(payload_or_bytes).encode()
    if signature is None:
        signature = sign(body, secret if secret is not None else settings.STOREFRONT_SECRET)
    if signature:
        headers["X-Signature"] = signature
    return client.post(url, data=body, content_type="application/json", headers=headers)
