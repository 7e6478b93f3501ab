"""core.files: a file an action stored is deleted when its transaction rolls back, and
`orphan_files` finds (and removes) the files no row points to."""

import os
import time
from io import StringIO
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from core import files
from returns import actions as returns_actions
from returns.models import RequestPhoto
from returns.tests.factories import delivered_order, open_return, upload
from shipping import actions as shipping_actions
from shipping.models import HandoverPhoto, PackageEvent
from shipping.tests.factories import ACTOR, arranged, order_to_ship, png_bytes
from shops.tests.factories import ShopFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return Path(settings.MEDIA_ROOT)


def stored(media):
    return sorted(str(p.relative_to(media)) for p in media.rglob("*") if p.is_file())


class Boom(Exception):
    pass


def test_a_handover_photo_whose_history_fails_leaves_no_file(media, monkeypatch):
    (pkg,) = arranged(order_to_ship(ShopFactory()))

    def fail(self, *a, **kw):
        raise Boom

    monkeypatch.setattr(PackageEvent, "save", fail)
    with pytest.raises(Boom):
        shipping_actions.add_handover_photo(package=pkg, upload=SimpleUploadedFile("box.png", png_bytes()), actor=ACTOR)
    assert not HandoverPhoto.objects.exists()
    assert stored(media) == []


def test_a_stored_handover_photo_keeps_its_file(media):
    (pkg,) = arranged(order_to_ship(ShopFactory()))
    photo = shipping_actions.add_handover_photo(package=pkg, upload=SimpleUploadedFile("box.png", png_bytes()),
                                                actor=ACTOR)
    assert stored(media) == [photo.image.name]


def test_a_buyer_request_that_fails_after_its_photos_leaves_no_file(media, monkeypatch):
    order = delivered_order(ShopFactory())

    def fail(*a, **kw):
        raise Boom

    monkeypatch.setattr(returns_actions.opening, "_tell_seller", fail)  # where open_request looks it up
    with pytest.raises(Boom):
        open_return(order, files=[upload(), upload("b.png", content=png_bytes((20, 20)))])
    assert not RequestPhoto.objects.exists()
    assert stored(media) == []
    monkeypatch.undo()
    request = open_return(order, files=[upload()])
    assert stored(media) == [request.photos.get().file.name]


def _write(name):
    field_file = default_storage.save(name, ContentFile(b"x"))
    return type("F", (), {"storage": default_storage, "name": field_file})()


def test_written_outside_a_block_is_refused():
    with pytest.raises(RuntimeError, match="outside files.atomic"):
        files.written(_write("loose.txt"))


def test_the_outermost_block_decides_and_a_failed_inner_block_deletes_its_own(media):
    with pytest.raises(Boom), files.atomic():
        files.written(_write("outer.txt"))
        with files.atomic():
            files.written(_write("inner.txt"))
        assert stored(media) == ["inner.txt", "outer.txt"]  # the inner block handed its file up
        raise Boom
    assert stored(media) == []
    with files.atomic():
        files.written(_write("kept.txt"))
        try:
            with files.atomic():
                files.written(_write("dropped.txt"))
                raise Boom
        except Boom:
            pass
        assert stored(media) == ["kept.txt"]
    assert stored(media) == ["kept.txt"]


def test_the_decorator_gives_each_call_its_own_block(media):
    @files.atomic()
    def store(name, fail=False):
        files.written(_write(name))
        if fail:
            raise Boom

    store("a.txt")
    with pytest.raises(Boom):
        store("b.txt", fail=True)
    store("c.txt")
    assert stored(media) == ["a.txt", "c.txt"]


# --- orphan_files ---------------------------------------------------------------------------


def _age(media, name, hours):
    then = time.time() - hours * 3600
    os.utime(media / name, (then, then))


def run(*args):
    out = StringIO()
    call_command("orphan_files", *args, stdout=out)
    return out.getvalue().splitlines()


def test_orphan_files_lists_then_removes_only_old_files_no_row_points_to(media):
    (pkg,) = arranged(order_to_ship(ShopFactory()))
    photo = shipping_actions.add_handover_photo(package=pkg, upload=SimpleUploadedFile("box.png", png_bytes()),
                                                actor=ACTOR)
    request = open_return(delivered_order(ShopFactory()), files=[upload()])
    buyer_photo = request.photos.get()
    old = default_storage.save("returns/photos/999/left-behind.png", ContentFile(b"12345"))
    young = default_storage.save("handover/1/2/just-written.png", ContentFile(b"1"))
    for name in (photo.image.name, buyer_photo.file.name, old):
        _age(media, name, hours=30)
    gone = HandoverPhoto.objects.create(package=pkg, image="handover/x/y/vanished.png", content_type="image/png",
                                        ext="png", size=1, width=1, height=1, sha256="0" * 64,
                                        uploaded_at=photo.uploaded_at)

    lines = run()
    assert lines[0].startswith(f"orphan {old} (5 bytes, written ")
    assert lines[1] == f"missing {gone.image.name} (a row points to it; the row is left as it is)"
    assert lines[-1] == ("1 orphan file(s), 5 bytes, found (run with --delete to remove them); 1 newer than 1 h "
                         "left alone; 1 row(s) whose file is missing.")
    assert old in stored(media)  # a dry run by default

    lines = run("--delete")
    assert lines[0].startswith(f"removed {old} ")
    assert sorted(stored(media)) == sorted([photo.image.name, buyer_photo.file.name, young])
    assert HandoverPhoto.objects.filter(pk=gone.pk).exists()

    run("--delete", "--older-than", "0")
    assert sorted(stored(media)) == sorted([photo.image.name, buyer_photo.file.name])


def test_orphan_files_on_an_empty_media_root():
    assert run() == ["0 orphan file(s), 0 bytes, found (run with --delete to remove them); 0 newer than 1 h "
                     "left alone; 0 row(s) whose file is missing."]
