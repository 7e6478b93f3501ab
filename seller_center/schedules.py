"""The django-q2 schedules of the platform: one row per job, created idempotently.

A job whose function is not importable (its app not installed) is skipped, so each app
can add its jobs here as it lands.
"""

from importlib import import_module

# (schedule name, dotted function, every N minutes)
JOBS = [
    ("carrier simulator (demo)", "shipping.tasks.simulate_carrier_tick", 1),
    ("policies", "seller_center.policies.run_all_task", 5),
    ("webhooks", "api.tasks.pump_webhooks", 1),
]


def importable(path):
    module, _, name = path.rpartition(".")
    try:
        return hasattr(import_module(module), name)
    except ModuleNotFoundError as exc:
        if exc.name == module:
            return False
        raise


def setup(*, demo=True):
    """Create or update every job's schedule; return (name, created) pairs."""
    from django_q.models import Schedule

    done = []
    for name, func, minutes in JOBS:
        if not importable(func) or (not demo and "(demo)" in name):
            continue
        _, created = Schedule.objects.update_or_create(
            name=name,
            defaults={"func": func, "schedule_type": Schedule.MINUTES, "minutes": minutes, "repeats": -1},
        )
        done.append((name, created))
    return done
