"""Keyset page tokens: the last row's (time, id), opaque to clients, checked when it comes back."""

import base64
import json
from datetime import datetime

from .common import Problem


def next_token(value, pk):
    raw = json.dumps([value.isoformat(), pk]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def after_token(token):
    try:
        value, pk = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        when = datetime.fromisoformat(value)
        if not isinstance(pk, int) or isinstance(pk, bool) or not 0 < pk < 2**63 or when.tzinfo is None:
            raise ValueError
        return when, pk
    except (ValueError, TypeError, json.JSONDecodeError, UnicodeDecodeError):
        raise Problem(400, "invalid_page_token", "The page token is not one this API gave",
                      errors=[{"path": "page_token", "message": "pass next_page_token back unchanged"}]) from None
