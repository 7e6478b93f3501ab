"""List (and with --delete, remove) stored files no row points to.

Every FileField of every installed model names the files that belong (photos of buyers'
requests, handover photos); any other file in their storage is an orphan: the file of a row
whose transaction rolled back after the write (core.files covers the common case, not a block
inside a plain transaction.atomic() that rolled back, or a process killed between the write
and the commit). Files younger than --older-than are left alone: they may belong to a
transaction still running. Rows whose file is missing are reported too; they are never
changed (a dispute may still need the row).
"""

from datetime import timedelta

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import models
from django.utils import timezone


def file_fields():
    """(model, field) for every FileField of every installed model."""
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, models.FileField):
                yield model, field


def stored_names(storage, directory=""):
    """Every file name under `directory` of `storage`, as a FileField stores it."""
    dirs, names = storage.listdir(directory)
    for name in names:
        yield f"{directory}/{name}" if directory else name
    for sub in dirs:
        yield from stored_names(storage, f"{directory}/{sub}" if directory else sub)


def scan():
    """{storage: (referenced names, stored names)}, storages keyed by identity."""
    storages = {}
    for model, field in file_fields():
        storage = field.storage
        referenced, _ = storages.setdefault(id(storage), (set(), storage))
        referenced.update(
            model._default_manager.exclude(**{field.attname: ""}).exclude(**{f"{field.attname}__isnull": True})
            .values_list(field.attname, flat=True).iterator()
        )
    out = []
    for referenced, storage in storages.values():
        try:
            stored = set(stored_names(storage))
        except FileNotFoundError:  # nothing was ever stored
            stored = set()
        out.append((storage, referenced, stored))
    return out


class Command(BaseCommand):
    help = "List stored files no row points to (orphans); --delete removes them."

    def add_arguments(self, parser):
        parser.add_argument("--delete", action="store_true", help="remove the orphans listed (default: list only)")
        parser.add_argument("--older-than", type=float, default=1.0, metavar="HOURS",
                            help="only files last written at least this many hours ago (default 1)")

    def handle(self, *args, delete=False, older_than=1.0, **options):
        if older_than < 0:
            raise CommandError("--older-than is a number of hours, 0 or more.")
        cutoff = timezone.now() - timedelta(hours=older_than)
        orphans = young = missing = 0
        size = 0
        for storage, referenced, stored in scan():
            for name in sorted(stored - referenced):
                modified = storage.get_modified_time(name)
                if modified > cutoff:
                    young += 1
                    continue
                bytes_ = storage.size(name)
                orphans += 1
                size += bytes_
                if delete:
                    storage.delete(name)
                self.stdout.write(f"{'removed' if delete else 'orphan'} {name} ({bytes_} bytes, "
                                  f"written {modified:%Y-%m-%d %H:%M} UTC)")
            for name in sorted(referenced - stored):
                missing += 1
                self.stdout.write(f"missing {name} (a row points to it; the row is left as it is)")
        verb = "removed" if delete else "found (run with --delete to remove them)"
        self.stdout.write(f"{orphans} orphan file(s), {size} bytes, {verb}; {young} newer than {older_than:g} h "
                          f"left alone; {missing} row(s) whose file is missing.")
