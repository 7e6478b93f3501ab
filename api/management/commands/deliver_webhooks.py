"""Sequence the shop change feed and deliver every webhook delivery that is due, once."""

from datetime import datetime

from django.core.management.base import BaseCommand, CommandError

from ...outbox import run_once


class Command(BaseCommand):
    help = "Deliver every webhook delivery that is due once; --at TIME treats TIME as now (ISO 8601 with offset)."

    def add_arguments(self, parser):
        parser.add_argument("--at", help="ISO-8601 time to treat as now, e.g. 2026-11-21T10:00:00Z (default: now)")

    def handle(self, *, at=None, **options):
        now = None
        if at:
            try:
                now = datetime.fromisoformat(at.replace("Z", "+00:00"))
            except ValueError:
                raise CommandError(f"--at {at!r} is not an ISO-8601 time") from None
            if now.tzinfo is None:
                raise CommandError("--at needs a UTC offset, e.g. 2026-11-21T10:00:00Z")
        result = run_once(now=now)
        self.stdout.write(
            f"sequenced {result.sequenced} events; sent {result.sent} deliveries: {result.succeeded} delivered, "
            f"{result.failed} to retry, {result.gave_up} given up"
            + (f"; turned off webhook(s) {', '.join(map(str, result.turned_off))}" if result.turned_off else ""))
