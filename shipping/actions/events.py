"""A package's history row, built in memory; the actions save it or write many at once."""

from ..models import PackageEvent


def _event(package, action, actor, *, at, from_status=None, to_status=None, note="", data=None):
    return PackageEvent(
        package=package, at=at, actor_kind=actor.kind, actor=actor.user, actor_label=actor.label, action=action,
        from_status=package.status if from_status is None else from_status,
        to_status=package.status if to_status is None else to_status, note=note, data=data or {},
    )
