"""Creating, checking and revoking API keys."""

import hashlib
import hmac
import secrets

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import ApiKey

PREFIX_LEN = 12  # "sc_" + 9 characters shown in the key list
MAX_NAME = 80


class KeyRefused(ValueError):
    pass


def _digest(key):
    return hashlib.sha256(key.encode()).hexdigest()


def clean_scopes(scopes):
    wanted = list(dict.fromkeys(s.strip() for s in scopes if s and s.strip()))
    unknown = [s for s in wanted if s not in ApiKey.Scope.values]
    if unknown:
        raise KeyRefused(_("unknown scope(s): %(items)s; choose from %(choices)s") % {"items": ', '.join(unknown), "choices": ', '.join(ApiKey.Scope.values)})
    if not wanted:
        raise KeyRefused(_("choose at least one scope"))
    return wanted


@transaction.atomic
def create_key(*, shop, name, scopes, user=None):
    """A new key for the shop: returns (ApiKey, the key in clear — shown once, never stored)."""
    name = (name or "").strip()
    if not name or len(name) > MAX_NAME:
        raise KeyRefused(_("a name of 1 to %(max_name)s characters") % {"max_name": MAX_NAME})
    scopes = clean_scopes(scopes)
    key = "sc_" + secrets.token_urlsafe(32)
    api_key = ApiKey.objects.create(shop=shop, name=name, prefix=key[:PREFIX_LEN], key_hash=_digest(key),
                                    scopes=scopes, created_by=user)
    return api_key, key


def authenticate(key):
    """The active key for this bearer token, with its shop, or None."""
    if not isinstance(key, str) or not key.startswith("sc_") or len(key) > 100 or not (key.isascii() and key.isprintable()):
        return None
    found = ApiKey.objects.select_related("shop").filter(prefix=key[:PREFIX_LEN], revoked_at=None).first()
    if found is None or not hmac.compare_digest(found.key_hash, _digest(key)):
        return None
    return found


def touch(api_key, ip, *, now=None):
    """Record the last use, at most once a minute per key (a write per request would cost more than it tells)."""
    now = now or timezone.now()
    if api_key.last_used_at and (now - api_key.last_used_at).total_seconds() < 60 and api_key.last_used_ip == ip:
        return
    ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now, last_used_ip=ip)


@transaction.atomic
def revoke_key(*, api_key, user=None):
    ApiKey.objects.filter(pk=api_key.pk, revoked_at=None).update(revoked_at=timezone.now(), revoked_by=user)
