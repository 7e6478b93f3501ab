"""The policy runner: every platform rule (SPEC P1-P12, and P13-P14) of every app, applied as of a time.

Each app keeps its rules in its own policies.py as functions of (as_of, window); this
module only lists them, reads the current windows once and calls them in order. A run is
idempotent, so the schedule, a back-fill with --at, and two workers at once are all safe.
"""

from dataclasses import dataclass
from importlib import import_module

from django.db import transaction
from django.utils import timezone

from core.locks import run_alone
from shops import policy_windows


@dataclass(frozen=True)
class Rule:
    rule: str  # P1..P14, whose window it reads
    func: str  # dotted path of f(*, as_of, window, dry_run, batch_size) -> int
    verb: str  # what the count means, for the run's report
    always: bool = False  # runs even when staff switched the rule's window off


# Order matters: flags before cancellations, lost before the cancellations they cause,
# refunds last so they see every cancellation of this run.
RULES = [
    Rule("P2", "orders.policies.flag_late_dispatch", "orders marked late dispatch"),
    Rule("P4", "orders.policies.flag_handover_overdue", "orders flagged overdue for handover"),
    Rule("P5", "orders.policies.remind_untracked", "orders in today's no-tracking reminder"),
    Rule("P1", "orders.policies.cancel_unpaid", "unpaid orders cancelled"),
    Rule("P5", "orders.policies.cancel_untracked", "orders cancelled for no tracking update"),
    Rule("P3", "shipping.policies.flag_late_collection", "packages late to be collected or dropped off"),
    Rule("P9", "shipping.policies.mark_delayed", "packages marked delayed"),
    Rule("P6", "shipping.policies.lost_after_failed_attempts", "packages marked lost after failed attempts"),
    Rule("P7", "shipping.policies.lost_unacknowledged", "packages marked lost (receipt not acknowledged)"),
    Rule("P8", "shipping.policies.lost_seller_shipped", "packages marked lost (ship by seller, not received)"),
    Rule("P10", "shipping.policies.cancel_abnormal", "orders cancelled for lost or abnormal delivery"),
    Rule("P11", "returns.policies.auto_approve_unanswered", "unanswered requests approved"),
    Rule("P13", "returns.policies.remind_ship_back", "buyers reminded to ship a return back within a day"),
    Rule("P14", "returns.policies.remind_refund", "sellers reminded to refund a shipped-back return within a day"),
    Rule("P13", "returns.policies.lapse_unreturned", "approved returns closed: not shipped back in time"),
    Rule("P14", "returns.policies.refund_unrefunded_returns", "returns refunded: the seller did not refund in time"),
    # Refunds follow every cancellation of a paid order, whoever cancelled it, so switching
    # P10 off never stops a buyer's refund.
    Rule("P10", "returns.policies.refund_cancelled_paid", "cancelled paid orders refunded", always=True),
]


def _load(path):
    """The rule's function, or None when its module does not exist (its app is not
    installed). Any other import error is a bug and is raised, never hidden."""
    module, _, name = path.rpartition(".")
    try:
        loaded = import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name == module:
            return None
        raise
    return getattr(loaded, name)


def available():
    """The rules whose code is installed, with their functions."""
    return [(r, f) for r in RULES if (f := _load(r.func)) is not None]


# Rows per batch transaction. A batch of cancellations is a handful of statements whatever
# its size (orders.actions.cancel_due_orders), so the size only trades per-batch costs
# (locking select, counters, a durable commit) against the longest transaction.
# bench_policies on the 2-core benchmark machine: 5000 rows, longest transaction about
# 0.3-0.5 s (target < 1 s); 2000 rows ran the same 100k cancellations 30 % slower.
BATCH_SIZE = 5000


def run(*, as_of=None, only=None, funcs=None, dry_run=False, batch_size=BATCH_SIZE):
    """Apply (or, dry_run, count) every rule as of `as_of`; return report lines. `only`
    keeps some rules (P1..P14), `funcs` some functions (by name), for back-fills and benches."""
    as_of = as_of or timezone.now()
    windows = policy_windows.current()
    lines = []
    for rule, func in available():
        if only and rule.rule not in only:
            continue
        if funcs and rule.func.rsplit(".", 1)[1] not in funcs:
            continue
        window = windows[rule.rule]
        if not window.enabled and not rule.always:
            lines.append({"rule": rule.rule, "func": rule.func, "version": window.version, "count": 0,
                          "text": f"{rule.rule} v{window.version}: off"})
            continue
        count = func(as_of=as_of, window=window, dry_run=dry_run, batch_size=batch_size)
        verb = f"would be {rule.verb}" if dry_run else rule.verb
        lines.append({
            "rule": rule.rule, "func": rule.func, "version": window.version, "count": count,
            "text": f"{rule.rule} v{window.version} ({window.display}): {count} {verb}",
        })
    return lines


RUN_LOCK = "policy-run"


def run_all_task(as_of=None):
    """django-q2 entry point of the schedule. One run at a time across every worker and
    machine: a copy handed out while another runs (the broker's retry of a slow task, two
    schedule ticks) returns at once and says so. A run killed half-way has committed its
    finished batches; the broker hands it out again (settings Q_CLUSTER, retry) and the
    retry does what is left."""
    with run_alone(RUN_LOCK) as alone:
        if not alone:
            return ["skipped: another policy run is in progress"]
        return [line["text"] for line in run(as_of=as_of)]


# Each app's function(before, after, actor) that moves the deadlines it stored from a
# rule's window when staff change it (requests' answer-by, packages' collect-by).
WINDOW_FOLLOWERS = ["shipping.actions.follow_window", "returns.actions.follow_window"]


@transaction.atomic
def change_window(*, rule, hours, user=None, note="", enabled=True):
    """Staff change a rule's window: a new version, and the open orders', packages' and
    requests' deadlines derived from it follow it, in the same transaction."""
    from core.actor import Actor
    from orders.actions import recompute_deadlines

    before = policy_windows.current()[rule]
    version = policy_windows.add_version(rule=rule, hours=hours, user=user, note=note, enabled=enabled)
    windows = policy_windows.current()
    recompute_deadlines(windows=windows)
    actor = Actor.staff(user) if user is not None else Actor.policy(rule)
    for path in WINDOW_FOLLOWERS:
        follow = _load(path)
        if follow is not None:
            follow(before=before, after=windows[rule], actor=actor)
    return version
