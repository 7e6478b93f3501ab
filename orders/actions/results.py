"""What an action answers: a refusal that is not about the order's status, and a bulk
action's result per order."""

from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.refusals import Refused


class ActionRefused(Refused):
    """An action that cannot be applied for a reason other than the order's status."""


@dataclass
class BulkResult:
    """What a bulk action did, per order: applied, or refused with the reason."""

    done: list = field(default_factory=list)  # Orders
    refused: dict = field(default_factory=dict)  # number -> InvalidTransition or ActionRefused

    def summary(self, verb):
        parts = [f"{len(self.done)} {verb}"]
        if self.refused:
            reasons = "; ".join(str(v) for v in list(self.refused.values())[:5])
            more = f" and {len(self.refused) - 5} more" if len(self.refused) > 5 else ""
            parts.append(f"{len(self.refused)} refused: {reasons}{more}")
        return "; ".join(parts)


def _refuse_missing(result, order_ids, orders):
    found = {o.pk for o in orders}
    missing = [i for i in order_ids if i not in found]
    if missing:
        # Another shop's orders are reported as not found, never named.
        result.refused["(not found)"] = ActionRefused(ngettext("%(count)s order not found in this shop", "%(count)s orders not found in this shop", len(missing)) % {"count": len(missing)})


def _raise_refusal(result, order):
    if not result.done:
        raise next(iter(result.refused.values()), ActionRefused(_("Refused.")))

