"""The page a throttled login gets (django-axes calls lockout_response, AXES_LOCKOUT_CALLABLE).

django-axes counts the failures per (user name, client address) and writes the lockout to
its AccessAttempt table and the `axes` log; this only says so to the person, in the site's
own page, with how long to wait."""

import logging

from django.conf import settings
from django.shortcuts import render

log = logging.getLogger(__name__)


def lockout_response(request, original_response=None, credentials=None):
    username = ((credentials or {}).get("username") or request.POST.get("username") or "")[:150]
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    log.warning("login locked out: user name %r from %s (%s failures, %s minutes)",
                username, getattr(request, "axes_ip_address", None), settings.AXES_FAILURE_LIMIT, minutes)
    context = {"username": username, "failure_limit": settings.AXES_FAILURE_LIMIT, "cooloff_minutes": minutes}
    return render(request, "registration/locked_out.html", context, status=429)
