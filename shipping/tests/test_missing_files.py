"""A photo row whose stored file is gone (a database restored without its media, a file removed
by hand) is a 404 that says so, never a server error."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404

from core import files
from shipping import actions
from shipping.models import HandoverPhoto

from .factories import ACTOR, order_to_ship, png_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_a_photo_whose_file_is_gone_is_a_404_naming_it(seller_client, shop):
    order = order_to_ship(shop, model="SELLER")
    (pkg,) = actions.ensure_packages(order, ACTOR)
    photo = actions.add_handover_photo(package=pkg, upload=SimpleUploadedFile("p.png", png_bytes()), actor=ACTOR)
    url = f"/s/{shop.slug}/shipping/photos/{photo.pk}"
    assert seller_client.get(url).status_code == 200
    photo.image.storage.delete(photo.image.name)
    r = seller_client.get(url)
    assert r.status_code == 404
    assert HandoverPhoto.objects.filter(pk=photo.pk).exists()  # the row (what a dispute needs) stays


def test_open_or_404_refuses_a_field_without_a_file():
    photo = HandoverPhoto()
    with pytest.raises(Http404, match="photo's stored file is missing"):
        files.open_or_404(photo.image, "photo")
