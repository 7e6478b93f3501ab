"""Status sets are named once, in each app's transitions.py: no template tests a status
against a string of statuses (a substring test: "PAID" would be "in" "UNPAID ...") or a
chain of comparisons, and no SQL text spells a list of statuses."""

import re
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
APPS = ("core", "orders", "shipping", "returns", "shops", "api", "seller_center")

# {% if x.status in "A B" %} / {% if x.status not in 'A' %}
SUBSTRING_TEST = re.compile(r"""\.status\s+(?:not\s+)?in\s+["']""")
# {% if x.status == "A" or x.status == "B" %}: a set spelled out as comparisons.
CHAIN = re.compile(r"""status\s*[!=]=\s*["'][A-Z_]+["']\s+(?:or|and)\s+[\w.]*status\s*[!=]=\s*["']""")
# WHERE status IN ('A', 'B') in Python source.
SQL_LIST = re.compile(r"""IN\s*\(\s*'[A-Z_]+'\s*,""", re.IGNORECASE)


def _templates():
    dirs = [ROOT / "templates", *(ROOT / app / "templates" for app in APPS)]
    return [p for d in dirs if d.is_dir() for p in sorted(d.rglob("*.html"))]


def _sources():
    for app in APPS:
        for p in sorted((ROOT / app).rglob("*.py")):
            if "migrations" not in p.parts and "tests" not in p.parts:
                yield p


def test_the_checks_see_the_templates_and_catch_the_old_forms():
    assert len(_templates()) > 20
    assert SUBSTRING_TEST.search('{% if order.status in "UNPAID AWAITING_CONFIRMATION" %}')
    assert CHAIN.search('{% if p.status == "PACKING" or p.status == "READY" %}')
    assert CHAIN.search('{% if order.status != "UNPAID" and order.status != "AWAITING_COLLECTION" and x %}')
    assert SQL_LIST.search("WHERE status IN ('UNPAID', 'AWAITING_CONFIRMATION')")
    assert not CHAIN.search('{% if r.status == "APPROVED" and r.kind == "return" %}')


def test_no_template_spells_a_set_of_statuses():
    found = [f"{p.relative_to(ROOT)}:{n}: {line.strip()}"
             for p in _templates() for n, line in enumerate(p.read_text().splitlines(), 1)
             if SUBSTRING_TEST.search(line) or CHAIN.search(line)]
    assert found == [], "use a flag from the model or view that reads a set in transitions.py"


def test_no_sql_text_spells_a_list_of_statuses():
    found = [f"{p.relative_to(ROOT)}:{n}: {line.strip()}"
             for p in _sources() for n, line in enumerate(p.read_text().splitlines(), 1) if SQL_LIST.search(line)]
    assert found == [], "build the list from a set in transitions.py (core.sql.in_values or constant_list)"
