"""Imports flow one way: core ← shops ← orders ← shipping ← returns ← api ← seller_center.

Every module of these apps is parsed (no import is executed) and each `import` / `from … import`,
at module level or inside a function, is checked: an app may import itself and the apps to its
left, never one to its right. So no app imports `seller_center`, and `orders` never imports
`shipping` or `returns`; a lower app that must show or react to a higher one defines a registry
the higher app registers into (orders/registry.py).

Held to the rule: application modules and migrations. Left out: `tests/` packages and conftest.py,
whose fixtures reach states through the higher apps' actions and pages (core's batching tests
need orders to batch); the rule is about the code that ships.
"""

import ast
import sys
from pathlib import Path

import pytest

ORDER = ["core", "shops", "orders", "shipping", "returns", "api", "seller_center"]
RANK = {app: rank for rank, app in enumerate(ORDER)}
ROOT = Path(__file__).resolve().parents[2]


def _checked_files():
    for app in ORDER:
        for path in sorted((ROOT / app).rglob("*.py")):
            parts = path.relative_to(ROOT).parts
            if "tests" in parts or path.name == "conftest.py":
                continue
            yield path


def _module_name(path):
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return parts


def _imported_modules(path):
    """(line, imported module, source text) for every import in the file, relative ones resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, ast.unparse(node)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)] if node.level > 1 else package
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            yield node.lineno, target, ast.unparse(node)


def violations(files=None):
    found = []
    for path in files if files is not None else _checked_files():
        own = RANK[path.relative_to(ROOT).parts[0]]
        for line, target, source in _imported_modules(path):
            app = target.split(".")[0]
            if app in RANK and RANK[app] > own:
                found.append(f"{path.relative_to(ROOT)}:{line}: {source}  ({ORDER[own]} must not import {app})")
    return found


def test_every_app_imports_only_itself_and_lower_apps():
    found = violations()
    assert not found, "imports pointing up " + " ← ".join(ORDER) + ":\n" + "\n".join(found)


def test_the_check_sees_function_level_and_relative_imports(tmp_path, monkeypatch):
    """The checker itself: an upward import inside a function, and a relative one resolving
    inside the app, are told apart."""
    app = tmp_path / "shops"
    app.mkdir()
    (app / "__init__.py").write_text("")
    bad = app / "bad.py"
    bad.write_text("from . import models\n\ndef f():\n    from returns.models import Request\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    found = violations([bad])
    assert found == ["shops/bad.py:4: from returns.models import Request  (shops must not import returns)"]


def test_the_check_resolves_relative_imports_inside_a_package(tmp_path, monkeypatch):
    """Inside an actions/ package `from ..models` is the app's models and `from .counters` a sibling."""
    package = tmp_path / "orders" / "actions"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("from .moves import confirm\n")
    moves = package / "moves.py"
    moves.write_text("from .. import history\nfrom ..models import Order\nfrom .counters import bump\n")
    init = package / "__init__.py"
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert [target for _, target, _ in _imported_modules(moves)] == [
        "orders", "orders.models", "orders.actions.counters"]
    assert [target for _, target, _ in _imported_modules(init)] == ["orders.actions.moves"]
    assert violations([moves, init]) == []


@pytest.mark.parametrize("app", ORDER)
def test_every_app_is_checked(app):
    assert any(path.relative_to(ROOT).parts[0] == app for path in _checked_files())
