"""No app above orders spells another app's tables in SQL text.

Where shipping, returns or the API write their own tables in SQL (returns' set-based refunds, the
carrier feed's package lock), what they read of the orders is an ORM queryset or subquery compiled
into the statement, and history rows go through orders/history.py; so a table renamed or a column
moved in orders breaks no hand-written statement elsewhere. Every module of those apps is parsed
(tests and migrations left out) and fails on a string naming another app's table, or on
`Model._meta.db_table` of a model imported from another app (or reached through `related_model`).

Not held to it: orders' cancellation, one WITH statement that also releases shops' stock and
settles the bell (its speed is the reason for the statement), and the benchmarks' generators.
"""

import ast
import re
import sys
from pathlib import Path

import pytest
from django.apps import apps

CHECKED = ["shipping", "returns", "api"]
ROOT = Path(__file__).resolve().parents[2]


def _tables():
    """{table name: app} of every model of the project's apps."""
    found = {}
    for model in apps.get_models(include_auto_created=True):
        app = model.__module__.split(".")[0]
        if (ROOT / app).is_dir():
            found[model._meta.db_table] = app
    return found


def _checked_files(app):
    for path in sorted((ROOT / app).rglob("*.py")):
        parts = path.relative_to(ROOT).parts
        if "tests" not in parts and "migrations" not in parts and path.name != "conftest.py":
            yield path


def violations(path, tables):
    app = path.relative_to(ROOT).parts[0]
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    foreign = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            other = node.module.split(".")[0]
            if other != app and other in tables.values():
                foreign.update({alias.asname or alias.name: other for alias in node.names})
    found = []
    where = path.relative_to(ROOT)
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and node.attr == "db_table" and isinstance(node.value, ast.Attribute)
                and node.value.attr == "_meta"):
            base = node.value.value
            if isinstance(base, ast.Name) and base.id in foreign:
                found.append((node.lineno, f"{ast.unparse(node)} (a table of {foreign[base.id]})"))
            elif isinstance(base, ast.Attribute) and base.attr == "related_model":
                found.append((node.lineno, f"{ast.unparse(node)} (a related model's table)"))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            for table, owner in tables.items():
                if owner != app and re.search(rf"\b{re.escape(table)}\b", node.value):
                    found.append((node.lineno, f"{table!r} (a table of {owner})"))
    return [f"{where}:{line}: {text}" for line, text in sorted(found)]


@pytest.mark.parametrize("app", CHECKED)
def test_no_sql_text_over_another_apps_tables(app):
    tables = _tables()
    files = list(_checked_files(app))
    assert files
    found = [v for path in files for v in violations(path, tables)]
    assert not found, f"{app} spells other apps' tables:\n" + "\n".join(found)


def test_the_check_sees_a_table_name_a_db_table_and_a_related_model(tmp_path, monkeypatch):
    app = tmp_path / "returns"
    app.mkdir()
    bad = app / "bad.py"
    bad.write_text(
        "from orders.models import Order\n"
        "from .models import Refund\n"
        "A = f'SELECT * FROM {Order._meta.db_table} o'\n"
        "B = Refund._meta.db_table\n"
        "C = Refund._meta.get_field('order').related_model._meta.db_table\n"
        "D = f'UPDATE x SET y = 1 FROM orders_orderevent e WHERE {B}'\n"
    )
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    tables = {"orders_order": "orders", "orders_orderevent": "orders", "returns_refund": "returns"}
    assert violations(bad, tables) == [
        "returns/bad.py:3: Order._meta.db_table (a table of orders)",
        "returns/bad.py:5: Refund._meta.get_field('order').related_model._meta.db_table (a related model's table)",
        "returns/bad.py:6: 'orders_orderevent' (a table of orders)",
    ]
