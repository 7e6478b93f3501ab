"""Files an action stores (photos) live and die with its transaction.

A FileField writes its file to storage when the row is saved, inside the transaction; if the
transaction then rolls back, the row is gone and the file would stay. An action that stores
files runs in `files.atomic()` instead of `transaction.atomic()` and names each file it wrote
with `files.written(field_file)`: when the block rolls back, those files are deleted.

Writing inside the transaction (not after its commit) keeps the other promise: a committed row
always has its file, because a failed write (disk full) fails the action before it commits.

What this cannot see: a block that succeeds inside a plain transaction.atomic() that then rolls
back, and a process killed between the write and the commit. Those files are orphans, and
`manage.py orphan_files` lists them (and removes them with --delete).
"""

from contextvars import ContextVar
from functools import wraps

from django.db import transaction

# The files written in the innermost open files.atomic() block: [(storage, name)].
_pending = ContextVar("core_files_pending", default=None)


class atomic:
    """transaction.atomic(), and the files written in it (files.written) are deleted if it
    rolls back. Nested blocks hand their files to the enclosing block when they succeed, so
    the outermost one decides; a rolled-back inner block deletes its own at once."""

    def __init__(self, using=None):
        self.using = using

    def __call__(self, func):
        # As a decorator, each call gets a block of its own (calls may nest, or run in threads).
        @wraps(func)
        def inner(*args, **kwargs):
            with type(self)(self.using):
                return func(*args, **kwargs)

        return inner

    def __enter__(self):
        self._files = []
        self._token = _pending.set(self._files)
        self._block = transaction.atomic(using=self.using)
        self._block.__enter__()
        return self

    def __exit__(self, exc_type, exc, tb):
        _pending.reset(self._token)
        try:
            self._block.__exit__(exc_type, exc, tb)  # commits, or rolls back; a failed commit raises
        except BaseException:
            _delete(self._files)
            raise
        if exc_type is not None:
            _delete(self._files)
            return False
        outer = _pending.get()
        if outer is not None:
            outer.extend(self._files)
        return False


def written(field_file):
    """Note that `field_file` (a FieldFile just saved) belongs to the current files.atomic()."""
    pending = _pending.get()
    if pending is None:
        raise RuntimeError("files.written() outside files.atomic(): the file would outlive a rollback")
    pending.append((field_file.storage, field_file.name))


def _delete(files):
    for storage, name in files:
        storage.delete(name)


def open_or_404(field_file, what="file"):
    """The stored file, open for reading, or a 404 naming what is missing (a row whose file is
    gone: restored from a backup without its media, removed by hand) instead of a server error."""
    from django.http import Http404

    try:
        return field_file.open("rb")
    except (FileNotFoundError, ValueError):  # ValueError: the row has no file at all
        raise Http404(f"The {what}'s stored file is missing.") from None
