"""Create an API key for a shop and print it, alone, on the last line (it is never shown again)."""

from django.core.management.base import BaseCommand, CommandError

from shops.models import Shop

from ...keys import KeyRefused, create_key
from ...models import ApiKey


class Command(BaseCommand):
    help = "Create a shop's API key: --shop SLUG --name NAME --scopes orders:read,orders:write"

    def add_arguments(self, parser):
        parser.add_argument("--shop", required=True)
        parser.add_argument("--name", required=True)
        parser.add_argument("--scopes", required=True, help=f"comma-separated, from {', '.join(ApiKey.Scope.values)}")

    def handle(self, *, shop, name, scopes, **options):
        found = Shop.objects.filter(slug=shop).first()
        if found is None:
            raise CommandError(f"no shop {shop!r}")
        try:
            api_key, key = create_key(shop=found, name=name, scopes=scopes.split(","))
        except KeyRefused as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Key {api_key.prefix}… '{api_key.name}' for {found.slug}, scopes {', '.join(api_key.scopes)}.")
        self.stdout.write("Shown once; store it now:")
        self.stdout.write(key)
