"""The backup path of docs/operations.md ("Backups and restore"), end to end: the demo, with a
handover photo, dumped with pg_dump and a tar of MEDIA_ROOT, restored into a fresh database
and media directory, and served from there: the seller's orders page and the photo."""

import json
import shutil
import subprocess
import sys
import tarfile
import uuid

import psycopg
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from core.actor import Actor
from seller_center.demo import seed
from shipping import actions as shipping_actions
from shipping.models import Package
from shipping.tests.factories import png_bytes
from tests.services import ROOT, database_url

SERVE = """
import json, sys
from django.contrib.auth import get_user_model
from django.test import Client
from shipping.models import HandoverPhoto
from shops.models import Shop

client = Client()
client.force_login(get_user_model().objects.get(username="alice"))
shop = Shop.objects.get(memberships__user__username="alice")
page = client.get(f"/s/{shop.slug}/orders/")
photo = HandoverPhoto.objects.get()
image = client.get(f"/s/{photo.package.shop.slug}/shipping/photos/{photo.pk}")
json.dump({"page": page.status_code, "html": page.content.decode(), "photo": image.status_code,
           "photo_bytes": b"".join(image.streaming_content).hex()}, sys.stdout)
"""


def _tools():
    missing = [t for t in ("pg_dump", "pg_restore") if shutil.which(t) is None]
    if missing:
        pytest.skip(f"{' and '.join(missing)} not on PATH (apt-get install postgresql-client)")


@pytest.mark.django_db(transaction=True)
def test_a_dump_of_the_demo_restores_into_a_fresh_database_and_serves(on_postgres, settings, tmp_path):
    _tools()
    settings.MEDIA_ROOT = str(tmp_path / "media")
    seed(scale=0.2)
    package = next(p for p in Package.objects.order_by("pk") if p.can_add_photo)
    photo = shipping_actions.add_handover_photo(package=package, upload=SimpleUploadedFile("box.png", png_bytes()),
                                                actor=Actor.seller(package.shop.memberships.get(role="owner").user))
    original = photo.image.read()
    numbers = set(package.shop.orders.values_list("number", flat=True))

    # Back up, as docs/operations.md says: the database and MEDIA_ROOT.
    dump, media_tar = tmp_path / "seller_center.dump", tmp_path / "media.tgz"
    subprocess.run(["pg_dump", "--format=custom", f"--file={dump}", database_url()], check=True, timeout=120)
    with tarfile.open(media_tar, "w:gz") as tar:
        tar.add(settings.MEDIA_ROOT, arcname=".")

    # Restore into a database and a directory that never held any of it.
    fresh = f"{connection.settings_dict['NAME']}_restore_{uuid.uuid4().hex[:6]}"
    admin_url = database_url().rsplit("/", 1)[0] + "/postgres"
    restored_media = tmp_path / "restored-media"
    restored_media.mkdir()
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{fresh}"')
    try:
        fresh_url = database_url().rsplit("/", 1)[0] + f"/{fresh}"
        subprocess.run(["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={fresh_url}", str(dump)],
                       check=True, timeout=120)
        with tarfile.open(media_tar) as tar:
            tar.extractall(restored_media, filter="data")
        env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": fresh_url, "MEDIA_ROOT": str(restored_media),
               "DJANGO_SETTINGS_MODULE": "seller_center.settings"}

        def manage(*args):
            return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, check=True, timeout=120,
                                  capture_output=True, text=True, env=env).stdout

        manage("migrate", "--check")  # the dump carried the schema and its migration history
        orphans = manage("orphan_files", "--older-than", "0").splitlines()[-1]
        served = manage("shell", "--no-imports", "-c", SERVE)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{fresh}" WITH (FORCE)')
    assert orphans.startswith("0 orphan file(s)") and orphans.endswith("0 row(s) whose file is missing."), orphans
    answer = json.loads(served)
    assert answer["page"] == 200
    assert "Manage orders" in answer["html"]
    assert any(number in answer["html"] for number in numbers)
    assert answer["photo"] == 200 and bytes.fromhex(answer["photo_bytes"]) == original
