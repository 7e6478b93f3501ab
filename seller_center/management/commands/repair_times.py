"""Find (and with --fix, repair) times no seller, carrier or storefront could have meant.

Before the machine endpoints range-checked times, PostgreSQL stored values such as
0001-01-01T00:00:00+01:00 (1 BC in UTC) or 9999-12-31T23:59:59-05:00 (year 10000): psycopg
cannot read them back, so every page and list that touched the row answered 500. This scans
every time column of the app's tables with SQL that never reads such a value as a datetime
(it compares in the database and prints the stored text), and --fix sets each one to the row's
own received/created time when that is sane, else to now. Each repair is printed, with the
stored text, so the operator's log keeps what the row held.
"""

from datetime import timedelta

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import connection, models, transaction
from django.utils import timezone

from core.payload import EARLIEST

APPS = ("shops", "orders", "shipping", "returns")
# Columns a row's repaired time is taken from, first sane one wins.
FALLBACKS = ("received_at", "created_at", "at", "placed_at", "updated_at")
# Deadlines run ahead of now, by days or weeks; a year ahead is no deadline anyone set.
FUTURE = timedelta(days=366)


def time_columns():
    """(model, [DateTimeField]) for every concrete model of the app's own tables."""
    for label in APPS:
        for model in apps.get_app_config(label).get_models():
            fields = [f for f in model._meta.concrete_fields if isinstance(f, models.DateTimeField)]
            if fields:
                yield model, fields


def _as_text(column):
    return f"CAST({column} AS TEXT)" if connection.vendor == "postgresql" else column


def scan(*, fix=False, now=None, write=print):
    """Report every out-of-range time; with fix, replace each. Returns the number found."""
    now = now or timezone.now()
    ops, qn = connection.ops, connection.ops.quote_name
    lo, hi = ops.adapt_datetimefield_value(EARLIEST), ops.adapt_datetimefield_value(now + FUTURE)
    found = 0
    for model, fields in time_columns():
        table, pk = qn(model._meta.db_table), qn(model._meta.pk.column)
        names = {f.column for f in fields}
        for field in fields:
            col = qn(field.column)
            bad = f"({col} < %s OR {col} > %s)"
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT {pk}, {_as_text(col)} FROM {table} WHERE {bad} ORDER BY {pk}", [lo, hi])
                rows = cursor.fetchall()
            if not rows:
                continue
            found += len(rows)
            for row_pk, stored in rows:
                write(f"{model._meta.label} {row_pk} {field.name}: {stored}")
            if not fix:
                continue
            cases = " ".join(
                f"WHEN {qn(c)} >= %s AND {qn(c)} <= %s THEN {qn(c)}" for c in FALLBACKS if c in names and c != field.column
            )
            params = [v for c in FALLBACKS if c in names and c != field.column for v in (lo, hi)]
            replacement = f"CASE {cases} ELSE %s END" if cases else "%s"
            with transaction.atomic(), connection.cursor() as cursor:
                # A queryset update would pass through the append-only history's guards;
                # this is the one sanctioned rewrite, and it is printed above.
                cursor.execute(f"UPDATE {table} SET {col} = {replacement} WHERE {bad}",
                               [*params, ops.adapt_datetimefield_value(now), lo, hi])
    return found


class Command(BaseCommand):
    help = "Report times outside 2000-01-01 .. now + 1 year in every time column; --fix repairs them."

    def add_arguments(self, parser):
        parser.add_argument("--fix", action="store_true", help="set each to the row's own sane time, else now")

    def handle(self, *args, fix=False, **options):
        found = scan(fix=fix, write=self.stdout.write)
        if not found:
            self.stdout.write("No out-of-range times.")
        elif fix:
            self.stdout.write(self.style.SUCCESS(f"{found} out-of-range times repaired."))
        else:
            self.stdout.write(self.style.WARNING(f"{found} out-of-range times; run with --fix to repair them."))
