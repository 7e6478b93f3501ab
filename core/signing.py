"""HMAC signatures of the machine endpoints (storefront, carriers)."""

import hashlib
import hmac


def sign(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(body: bytes, header: str | None, secret: str) -> bool:
    """Constant-time check; compares bytes so a header with non-ASCII text is simply wrong."""
    if not header:
        return False
    return hmac.compare_digest(sign(body, secret).encode(), header.strip().encode("utf-8", "replace"))
