"""The database holds every constraint and index the models declare: a migration that
changes a column must not take a unique rule (a refund at most once) down with it."""

import pytest
from django.apps import apps
from django.db import connection

pytestmark = pytest.mark.django_db


def test_every_declared_constraint_and_index_exists_in_the_database():
    missing = []
    with connection.cursor() as cursor:
        for model in apps.get_models():
            if model._meta.app_label not in {"shops", "orders", "shipping", "returns"}:
                continue
            names = set(connection.introspection.get_constraints(cursor, model._meta.db_table))
            declared = [c.name for c in model._meta.constraints] + [i.name for i in model._meta.indexes]
            missing += [f"{model._meta.label}.{name}" for name in declared if name not in names]
    assert not missing
