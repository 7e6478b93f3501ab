from django.core.management.base import BaseCommand

from seller_center.schedules import setup


class Command(BaseCommand):
    help = "Create or update the django-q2 schedules (policies, demo carrier simulator). Idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--no-demo", action="store_true", help="Leave out demo-only jobs (production).")

    def handle(self, *args, no_demo=False, **options):
        jobs = setup(demo=not no_demo)
        for name, created in jobs:
            self.stdout.write(f"{'created' if created else 'up to date'}: {name}")
        if not jobs:
            self.stdout.write("no schedules to set up yet")
