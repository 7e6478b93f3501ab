from datetime import datetime

from django.core.management.base import BaseCommand, CommandError

from seller_center import policies


class Command(BaseCommand):
    help = "Apply the platform rules (P1-P14) as of a time; one line per rule with what it did."

    def add_arguments(self, parser):
        parser.add_argument("--at", help="ISO-8601 time to apply the rules as of (default: now)")
        parser.add_argument("--rule", action="append", help="Only this rule (P1..P14); repeatable")
        parser.add_argument("--dry-run", action="store_true", help="Count what would change; change nothing")
        parser.add_argument("--batch-size", type=int, default=policies.BATCH_SIZE)

    def handle(self, *args, at=None, rule=None, dry_run=False, batch_size=policies.BATCH_SIZE, **options):
        as_of = None
        if at:
            try:
                as_of = datetime.fromisoformat(at)
            except ValueError:
                raise CommandError(f"--at {at!r} is not an ISO-8601 time") from None
            if as_of.tzinfo is None:
                raise CommandError("--at needs a UTC offset, e.g. 2026-11-21T10:00:00Z")
        known = {r.rule for r in policies.RULES}
        for r in rule or []:
            if r not in known:
                raise CommandError(f"Unknown rule {r}; known: {', '.join(sorted(known))}")
        for line in policies.run(as_of=as_of, only=set(rule or []), dry_run=dry_run, batch_size=batch_size):
            self.stdout.write(line["text"])
