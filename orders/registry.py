"""Extension points of the order pages for higher apps (shipping, returns, policies).

Imports point down: a higher app registers here from its AppConfig.ready(); orders never
imports it. Each hook must keep a page's query count fixed (one or two queries per hook
whatever the page size).
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class BoardCard:
    """A needs-action card: a count that opens the matching filtered list."""

    key: str
    label: str
    count: Callable  # (shop, now) -> int
    query: dict  # URL query of the list it opens, e.g. {"board": "ship_within_24h"}
    filter: Callable | None = None  # (queryset, shop, now) -> queryset, for ?board=<key>
    order: int = 100


@dataclass(frozen=True)
class OrderPanel:
    """A section of the order page: a template and the context it needs."""

    key: str
    template: str
    context: Callable  # (shop, order) -> dict
    order: int = 100


@dataclass(frozen=True)
class ListFilter:
    """A Manage Orders filter contributed by a higher app, e.g. package status."""

    key: str  # the URL parameter
    label: str
    choices: list  # [(value, label)]
    apply: Callable  # (queryset, value) -> queryset


@dataclass(frozen=True)
class SearchResolver:
    """Turns pasted search tokens (tracking numbers, ...) into a Q over Order."""

    key: str
    resolve: Callable  # (shop, tokens: list[str]) -> django.db.models.Q | None
    # (shop, tokens) -> the set of those tokens it knows (one query), for "2 not found: ..."
    found: Callable | None = None
    # (shop) -> one token it would find in the shop, or None: what bench_orders searches for.
    example: Callable | None = None


@dataclass(frozen=True)
class RowValue:
    """A value of each Manage Orders row that a higher app knows, read inside the row query
    (a correlated subquery over OuterRef("pk"), never a query per row). The rows read three
    keys: `tracking` (the carrier/tracking column's text), `label` (a platform label is ready:
    the next action is Print, not Arrange) and `request` (an id that `url` turns into the row's
    "Answer request" action, for members holding `permission`)."""

    key: str
    expression: Callable  # () -> ORM expression
    url: Callable | None = None  # (shop, value) -> URL of the row's action
    permission: str = ""


@dataclass(frozen=True)
class PauseHook:
    """Deadlines a higher app keeps on an order's behalf (a request's answer-by) that a
    force-majeure pause (P12) moves with the order's own."""

    key: str
    pause: Callable  # (order_ids, pause: timedelta, actor, at) -> None, inside the pause's transaction


BOARD_CARDS: dict[str, BoardCard] = {}
ORDER_PANELS: dict[str, OrderPanel] = {}
LIST_FILTERS: dict[str, ListFilter] = {}
SEARCH_RESOLVERS: dict[str, SearchResolver] = {}
PAUSE_HOOKS: dict[str, PauseHook] = {}
ROW_VALUES: dict[str, RowValue] = {}
# Choices the rows' inline actions offer, by name: "carriers" ([(code, name)]) for the ship-by-
# seller row's carrier and tracking number, which posts to the higher app's own page.
ROW_CHOICES: dict[str, list] = {}
# Staff overrides (orders admin) a higher app refuses for an order: key -> f(order, override
# name) returning the refusal's text, or None. Shipping refuses shipment moves of an order
# that ships in packages, which must move with them.
OVERRIDE_GUARDS: dict[str, Callable] = {}
# Reactions of higher apps to orders being delivered: key -> f(order_ids=[...]), called by
# every delivery path inside the delivering transaction (never a post_save signal, which a
# set-based write would skip). A reaction with effects outside the database (an email)
# defers them with transaction.on_commit. Returns emails the buyer the return page's link.
DELIVERED_HOOKS: dict[str, Callable] = {}


def register_card(card: BoardCard):
    BOARD_CARDS[card.key] = card


def register_panel(panel: OrderPanel):
    ORDER_PANELS[panel.key] = panel


def register_filter(list_filter: ListFilter):
    LIST_FILTERS[list_filter.key] = list_filter


def register_search(resolver: SearchResolver):
    SEARCH_RESOLVERS[resolver.key] = resolver


def register_row_value(value: RowValue):
    ROW_VALUES[value.key] = value


def register_row_choices(key, choices):
    ROW_CHOICES[key] = list(choices)


def register_pause_hook(hook: PauseHook):
    PAUSE_HOOKS[hook.key] = hook


def register_override_guard(key, guard: Callable):
    OVERRIDE_GUARDS[key] = guard


def register_delivered_hook(key, hook: Callable):
    DELIVERED_HOOKS[key] = hook


def orders_delivered(order_ids):
    """Tell the higher apps these orders were just delivered (inside the transaction)."""
    for hook in DELIVERED_HOOKS.values():
        hook(order_ids=list(order_ids))


def override_refusal(order, name):
    return next((text for guard in OVERRIDE_GUARDS.values() if (text := guard(order, name))), None)


def cards():
    return sorted(BOARD_CARDS.values(), key=lambda c: (c.order, c.key))


def panels():
    return sorted(ORDER_PANELS.values(), key=lambda p: (p.order, p.key))
