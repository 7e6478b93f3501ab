"""The one base class of every refused move or action.

A view or endpoint catches `Refused` once and shows it as a 409 or an inline error; the
subclasses say why in the seller's words: a status that does not allow the move
(orders/returns `InvalidTransition`, shipping `InvalidPackageMove`) or another reason
(`orders.actions.ActionRefused` and its subclasses).
"""


class Refused(Exception):
    """A move or action that cannot be applied; str() is the reason, in words."""
