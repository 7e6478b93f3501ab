"""Answers to a named POST action, the same way on every page.

HTMX requests get the page's partial again with a toast (django-htmx's
trigger_client_event); other requests get the message flashed and a redirect (PRG), so
every page works without JavaScript.
"""

from django.contrib import messages
from django.shortcuts import redirect
from django_htmx.http import trigger_client_event


def form_errors(form):
    """Every error of a bound form joined into one message."""
    return "; ".join(e for errs in form.errors.values() for e in errs)


def toast(response, message, *, level="success"):
    """`response` with a toast the page shows (static/js/app.js styles it by `level`)."""
    return trigger_client_event(response, "toast", {"level": level, "message": message})


def after_action(request, *, render_partial, redirect_to, ok=None, error=None):
    """HTMX: `render_partial()` (the re-rendered part of the page, with its status) with a
    toast; otherwise the message flashed and a redirect to the URL `redirect_to`."""
    if request.htmx:
        return toast(render_partial(), error or ok, level="error" if error else "success")
    if error:
        messages.error(request, error)
    else:
        messages.success(request, ok)
    return redirect(redirect_to)
