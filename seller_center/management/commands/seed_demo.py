from django.core.management.base import BaseCommand

from seller_center.demo import seed


class Command(BaseCommand):
    help = "Create the demo shops, sellers (alice, bob), staff user and orders in every status. Idempotent."

    def handle(self, *args, **options):
        seed(stdout=self.stdout)
