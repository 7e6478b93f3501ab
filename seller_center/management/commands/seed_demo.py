from django.core.mail.backends.base import BaseEmailBackend
from django.core.management.base import BaseCommand
from django.test.utils import override_settings

from seller_center.demo import seed


class DemoOutbox(BaseEmailBackend):
    """Where the demo's emails go while it is seeded: counted, never sent or printed. The
    story of 320 orders would otherwise mail (or, with the console backend, print) every
    new order, delivery and request of it: some 3,400 lines before the server starts."""

    sent = 0

    def send_messages(self, email_messages):
        DemoOutbox.sent += len(email_messages)
        return len(email_messages)


class Command(BaseCommand):
    help = "Create the demo shops, sellers (alice, bob, minh), staff user and orders in every status. Idempotent."

    def handle(self, *args, **options):
        DemoOutbox.sent = 0
        # seed() is one transaction: its emails are handed over when it commits, inside this block.
        with override_settings(EMAIL_BACKEND=f"{__name__}.DemoOutbox"):
            seed(stdout=self.stdout)
        if DemoOutbox.sent:
            self.stdout.write(f"({DemoOutbox.sent} notification emails of the demo's story were not sent.)")
