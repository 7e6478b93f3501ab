import time

from django.core.management.base import BaseCommand

from shipping.tasks import simulate_carrier_tick


class Command(BaseCommand):
    help = ("The demo carrier: move packages ready or with the carrier one step per tick through the same "
            "ingest path as the carriers' endpoint.")

    def add_arguments(self, parser):
        parser.add_argument("--ticks", type=int, default=1, help="How many ticks (0: run until interrupted).")
        parser.add_argument("--every", type=float, default=30, help="Seconds between ticks.")
        parser.add_argument("--min-age", type=float, default=2, help="Minutes a package waits between two steps.")
        parser.add_argument("--force", action="store_true", help="Run even when settings.CARRIER_SIMULATOR is off.")

    def handle(self, *args, ticks, every, min_age, force, **options):
        n = 0
        while True:
            n += 1
            self.stdout.write(simulate_carrier_tick(min_age_minutes=min_age, force=force))
            if ticks and n >= ticks:
                break
            time.sleep(every)
