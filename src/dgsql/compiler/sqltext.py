"""The one quoting module: literals, identifiers and typed SQL fragments.

Nothing from a schema is pasted into SQL: names become quoted identifiers and values become
literals, so a schema can never inject SQL. Both the generating script and the checks use it.
A :class:`Sql` is a string this module vouches for; :func:`fill` puts fragments into a constant
template and refuses anything that is not a :class:`Sql`.

>>> ident('order')
'"order"'
>>> lit("it's")
"'it''s'"
>>> fill("SELECT {c} FROM t WHERE {c} > {v}", c=ident('a"b'), v=lit(3))
'SELECT "a""b" FROM t WHERE "a""b" > 3'
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

SQL_TYPES = {
    "int": "BIGINT",
    "float": "DOUBLE",
    "string": "VARCHAR",
    "bool": "BOOLEAN",
    "datetime": "TIMESTAMP",
    "date": "DATE",
}
"DSL column type → DuckDB type."


class Sql(str):
    """A fragment of SQL built from quoted names, literals and constant templates."""


def ident(name: str) -> Sql:
    """A quoted identifier: DuckDB's only escape inside double quotes is a doubled quote
    (what sqlglot writes too; tests/test_hostile.py compares them)."""
    return Sql('"' + name.replace('"', '""') + '"')


def lit(value: Any) -> Sql:
    """A SQL literal for a Python scalar; floats keep full precision."""
    if value is None:
        return Sql("NULL")
    if isinstance(value, bool):
        return Sql("TRUE" if value else "FALSE")
    if isinstance(value, int):
        return Sql(str(value))
    if isinstance(value, float):
        if not math.isfinite(value):
            return Sql(f"'{value}'::DOUBLE")
        text = repr(value)
        return Sql(text if ("e" in text or "." in text) else text + ".0")
    if isinstance(value, datetime):
        return Sql(f"TIMESTAMP '{value.isoformat(sep=' ')}'")
    if isinstance(value, date):
        return Sql(f"DATE '{value.isoformat()}'")
    return Sql("'" + str(value).replace("'", "''") + "'")  # no backslash escapes in DuckDB strings


def double(value: float) -> Sql:
    """A DOUBLE literal (a bare ``0.1`` is DECIMAL in DuckDB).

    >>> double(0.25)
    '0.25::DOUBLE'
    """
    return Sql(f"{lit(float(value))}::DOUBLE")


LINE_WIDTH = 100
"Long lists and CASE chains of the script break their lines at about this width."
INDENT = " " * 12
"Indent of a continued line (the script's column expressions start at 8)."


def wrapped(items: Iterable[str], sep: str = ", ") -> str:
    """``items`` joined by ``sep``, broken onto indented lines of about :data:`LINE_WIDTH`.

    >>> wrapped(["1", "2"])
    '1, 2'
    >>> wrapped([str(10**30)] * 6).count("\\n")
    1
    """
    lines: list[str] = []
    line = ""
    for item in items:
        if line and len(line) + len(sep) + len(item) > LINE_WIDTH:
            lines.append(line + sep.rstrip())
            line = item
        else:
            line = f"{line}{sep}{item}" if line else item
    lines.append(line)
    return ("\n" + INDENT).join(lines)


LONG_LIST = 32
"""A list of more numbers than this is written as one string constant cast to the list type,
``'[0.2, 0.8, …]'::DOUBLE[]``: DuckDB binds a list literal element by element (each a DECIMAL
cast to DOUBLE), ~40 µs each, again wherever a macro repeats its argument — a 370-weight alias
pick took 28 ms to plan, 5 ms as a string. Both forms read every number to the same double
(correctly rounded; tests/test_sqltext.py compares them)."""
NUMBER = re.compile(r"-?\d+(\.\d+)?(e[+-]?\d+)?")
"A number literal as :func:`lit` writes a finite int or float."


def list_of(values: Iterable[Any], sql_type: str) -> Sql:
    """A typed list constant, e.g. ``[0.2, 0.8]::DOUBLE[]`` (untyped lists of decimals are slow);
    a long list of finite numbers as a string constant (:data:`LONG_LIST`).

    >>> list_of(range(40), "BIGINT")[:12]
    "'[0, 1, 2, 3"
    """
    return sql_list([lit(v) for v in values], sql_type)


def sql_list(items: Sequence[Sql], sql_type: str) -> Sql:
    """A typed list of literals (:func:`list_of`'s two spellings)."""
    body = wrapped(items)
    if len(items) > LONG_LIST and all(NUMBER.fullmatch(item) for item in items):
        return Sql(f"'[{body}]'::{sql_type}[]")
    return Sql(f"[{body}]::{sql_type}[]")


def doubles(values: Iterable[float]) -> Sql:
    """A ``DOUBLE[]`` list constant that may be subscripted as it stands (``x::DOUBLE[][2]``
    would read as an array type).

    >>> doubles([1, 0.5])
    'CAST([1.0, 0.5] AS DOUBLE[])'
    """
    return Sql(f"CAST([{', '.join(lit(float(v)) for v in values)}] AS DOUBLE[])")


def values_list(values: Iterable[Any]) -> Sql:
    """``(v1, v2, …)`` for ``IN``."""
    return Sql("(" + ", ".join(lit(v) for v in values) + ")")


def qualified(alias: str, column: str) -> Sql:
    """``alias."column"``; ``alias`` is a constant of the template (a short letter)."""
    if not alias.isidentifier():
        raise ValueError(f"alias {alias!r} must be a plain identifier")
    return Sql(f"{alias}.{ident(column)}")


def fill(template: str, **parts: Sql) -> Sql:
    """Fill a constant template with :class:`Sql` fragments only."""
    for key, part in parts.items():
        if not isinstance(part, Sql):
            raise TypeError(
                f"SQL part {key!r} is {type(part).__name__}, not Sql; quote it with ident() or lit()"
            )
    return Sql(template.format(**parts))


def join(parts: Iterable[Sql], sep: str = ", ") -> Sql:
    """Fragments joined by a constant separator."""
    parts = list(parts)
    for part in parts:
        if not isinstance(part, Sql):
            raise TypeError(f"SQL part is {type(part).__name__}, not Sql")
    return Sql(sep.join(parts))


def typed_lit(value: Any, column_type: str) -> Sql:
    """A schema literal converted to the column's type at compile time (``dsl.types.castable`` has
    checked it converts), so a list of them has one type whatever the JSON mixed.

    >>> typed_lit(False, "float"), typed_lit("12", "int"), typed_lit(2.5, "int"), typed_lit(True, "string")
    ('0.0', '12', '3', "'true'")
    """
    if column_type == "string":
        return lit(str(value).lower() if isinstance(value, bool) else str(value))
    if column_type == "bool":
        return lit(value if isinstance(value, bool) else str(value).lower() in ("true", "t", "1", "1.0"))
    if column_type in ("int", "float"):
        number = float(value)
        if column_type == "float":
            return lit(number)
        if isinstance(value, int) and not isinstance(value, bool):
            return lit(value)
        return lit(int(math.floor(abs(number) + 0.5)) * (1 if number >= 0 else -1))
    return Sql(f"CAST({lit(str(value))} AS {SQL_TYPES[column_type]})")


def join_key(column: str, column_type: str, other_type: str) -> Sql:
    """A table's key column as a grouped join side holds it. An int key matched with a float
    column is held as a DOUBLE: ints the comparison cannot tell apart (beyond 2^53) then form
    one group, whose first row wins, instead of one row matching two groups."""
    if column_type == "int" and other_type == "float":
        return Sql(f"CAST({ident(column)} AS DOUBLE)")
    return ident(column)
