"""The carriers' signed tracking endpoint.

POST one event, or {"events": [...]} (at most 1000). Signed like the storefront:
X-Signature: sha256=<hex HMAC-SHA256 of the raw body> with settings.CARRIER_SECRET.
Answers: 401 bad or missing signature, 400 malformed body or (single event) malformed
event, 422 a well-formed single event for an unknown package, 201 stored, 200 a repeat
(stored once) or an event held for a number in dispute ("held": applied once staff rule). A batch answers 200 when every event was taken, 207 when some were
rejected (the good ones are kept, the bad ones listed by index), 400 when none was.
"""

from django.conf import settings
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from core.payload import PayloadError, json_object
from core.signing import verify

from .tracking import MAX_BATCH, receive


def _summary(result):
    summary = {"stored": result.stored, "duplicates": result.duplicates, "moved": result.moved,
               "rejected": result.rejected}
    if result.held:
        summary["held"] = result.held
    return summary


@csrf_exempt
@require_POST
def carrier_events(request):
    if not verify(request.body, request.headers.get("X-Signature"), settings.CARRIER_SECRET):
        return JsonResponse({"error": "missing or wrong X-Signature"}, status=401)
    try:
        data = json_object(request.body, expected='expected a JSON object: one event or {"events": [...]}')
    except PayloadError as exc:
        return JsonResponse({"errors": exc.errors}, status=400)
    if "events" in data:
        events = data["events"]
        if not isinstance(events, list) or not events:
            return JsonResponse({"errors": {"events": ["a non-empty list of events"]}}, status=400)
        if len(events) > MAX_BATCH:
            return JsonResponse({"errors": {"events": [f"at most {MAX_BATCH} events per request"]}}, status=400)
        result = receive(events)
        taken = len(events) - len(result.rejected)
        status = 200 if not result.rejected else (207 if taken else 400)
        return JsonResponse(_summary(result), status=status)
    result = receive([data])
    if result.rejected:
        errors = result.rejected[0]["errors"]
        status = 422 if set(errors) == {"tracking_number"} and "no package" in errors["tracking_number"][0] else 400
        return JsonResponse({"errors": errors}, status=status)
    return JsonResponse(_summary(result), status=201 if result.stored else 200)
