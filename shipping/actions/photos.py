"""Photos of a package at handover."""

from django.core.files.base import ContentFile
from django.utils import timezone
from django.utils.translation import gettext as _

from core import files
from core.locks import lock_one
from orders.actions import ActionRefused

from .. import content, transitions
from ..models import HandoverPhoto, Package
from .events import _event


@files.atomic()
def add_handover_photo(*, package, upload, actor):
    package = lock_one(Package.objects, package.pk, also_lock=("order",))
    transitions.check("add_photo", package)
    if package.photos.count() >= content.MAX_PHOTOS_PER_PACKAGE:
        raise ActionRefused(_("At most %(max_photos_per_package)s photos per package.") % {"max_photos_per_package": content.MAX_PHOTOS_PER_PACKAGE})
    image = content.check_photo(upload)
    if package.photos.filter(sha256=image.sha256).exists():
        raise ActionRefused(_("That photo is already on this package."))
    now = timezone.now()
    photo = HandoverPhoto(package=package, content_type=image.content_type, ext=image.ext, size=len(image.data),
                          width=image.width, height=image.height, sha256=image.sha256, uploaded_by=actor.user,
                          uploaded_at=now)
    photo.image.save(f"{image.sha256[:16]}.{image.ext}", ContentFile(image.data), save=False)
    files.written(photo.image)  # deleted if the photo's row is not stored after all
    photo.save()
    _event(package, "add_photo", actor, at=now, data={"photo": photo.pk, "bytes": len(image.data)}).save()
    return photo
