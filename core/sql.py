"""The few vendor differences of the set-based SQL that bulk actions and policies write
(INSERT ... SELECT of history rows, messages and refunds), so that one statement does the
work of thousands of Python objects on PostgreSQL and on SQLite alike."""

import json

from django.db import connection
from django.db.models import Func, Lookup, TextField


def postgres():
    return connection.vendor == "postgresql"


def in_ids(column, ids):
    """`column` matches one of `ids`: a single array parameter on PostgreSQL (one plan,
    whatever the count), a list of placeholders on SQLite."""
    ids = list(ids)
    if postgres():
        return f"{column} = ANY(%s)", [ids]
    return f"{column} IN ({', '.join(['%s'] * len(ids)) or 'NULL'})", ids


class InIds(Lookup):
    """The ORM's form of in_ids(): `InIds(F("pk"), ids)` in filter(). Django's pk__in
    binds one placeholder per id, which for the policies' batches of thousands of ids
    cost more Python (preparing each value, then psycopg splitting the long query) than
    the statement itself took in PostgreSQL."""

    lookup_name = "in_ids"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = compiler.compile(self.lhs)
        sql, params = in_ids(lhs, (int(i) for i in self.rhs))
        return sql, [*lhs_params, *params]


def in_values(column, values):
    """`column` is one of a few constant strings (statuses)."""
    values = sorted(values)
    return f"{column} IN ({', '.join(['%s'] * len(values))})", values


def constant_list(values):
    """A parenthesised SQL list of constant strings, for SQL text that is formatted rather
    than given parameters (the benchmarks' hand-written statements): ('A', 'B'). Only
    plain names (statuses) are allowed, so nothing needs quoting; the order is fixed."""
    values = sorted(values)
    if not values or not all(isinstance(v, str) and v.replace("_", "").isalnum() and v.isascii() for v in values):
        raise ValueError(f"not a list of plain names: {values!r}")
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


def json_with_time(base, key, column):
    """A JSON object: the constant `base` dict plus `key` set to the timestamp `column`
    of each row, in ISO 8601 as Python's isoformat() writes it (null stays null)."""
    if postgres():
        # PostgreSQL trims trailing zeros of the fraction; isoformat() writes six digits,
        # or none when the time falls on a whole second.
        utc = f"({column} AT TIME ZONE 'UTC')"
        iso = (f"CASE WHEN date_trunc('second', {utc}) = {utc} "
               f"THEN to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS\"+00:00\"') "
               f"ELSE to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"+00:00\"') END")
        return f"(%s::jsonb || jsonb_build_object(%s::text, {iso}))", [json.dumps(base), key]
    # Django keeps SQLite timestamps as 'YYYY-MM-DD HH:MM:SS[.ffffff]' in UTC.
    iso = f"CASE WHEN {column} IS NULL THEN NULL ELSE replace({column}, ' ', 'T') || '+00:00' END"
    return f"json_set(%s, '$.' || %s, {iso})", [json.dumps(base), key]


def json_constant(base):
    if postgres():
        return "%s::jsonb", [json.dumps(base)]
    return "%s", [json.dumps(base)]


def money_text(column, currency=None):
    """A decimal money column as text at its currency's precision (core.money): 12.50, or
    1250000 when `currency` (a column) names a currency without minor units (VND, IDR, JPY);
    two decimals without a currency column."""
    if postgres():
        two, none = f"to_char({column}, 'FM999999999990.00')", f"to_char({column}, 'FM999999999990')"
    else:
        two, none = f"printf('%%.2f', {column})", f"printf('%%d', CAST(round({column}) AS INTEGER))"
    if currency is None:
        return two
    from .money import whole_currencies

    codes = ", ".join(f"'{code}'" for code in whole_currencies())
    return f"CASE WHEN {currency} IN ({codes}) THEN {none} ELSE {two} END"


class MoneyText(Func):
    """money_text() as an ORM expression: MoneyText("amount") reads 12.50;
    MoneyText("amount", "currency") reads 1250000 for a VND amount."""

    output_field = TextField()

    def as_sql(self, compiler, connection, **extra):
        column, params = compiler.compile(self.source_expressions[0])
        if len(self.source_expressions) == 1:
            return money_text(column), params
        currency, currency_params = compiler.compile(self.source_expressions[1])
        # CASE WHEN <currency> IN (…) THEN <column, whole> ELSE <column, two decimals> END
        return money_text(column, currency), [*currency_params, *params, *params]


def execute(sql, params=()):
    """Run one statement; return its row count."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def fetch(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def when(value):
    """A timestamp parameter stored as the ORM stores it (naive UTC text on SQLite), so
    raw and ORM writes compare and read back alike."""
    return connection.ops.adapt_datetimefield_value(value)


def bind(text, params, name, fragment, fragment_params):
    """Put the SQL `fragment` (with its own parameters) where `text` says {name}, and its
    parameters at the matching place among `params`."""
    head, tail = text.split("{" + name + "}")
    k = head.count("%s")
    return head + fragment + tail, [*params[:k], *fragment_params, *params[k:]]


def read_time(value):
    """A timestamp read by raw SQL as an aware datetime (SQLite hands back text)."""
    if isinstance(value, str):
        from datetime import UTC

        from django.utils.dateparse import parse_datetime

        value = parse_datetime(value)
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
    return value
