"""Literals and identifiers for the emitted SQL, always through sqlglot.

Nothing from a schema is pasted into SQL: names become quoted identifiers and
values become literals, so a schema can never inject SQL.

>>> ident('order')
'"order"'
>>> lit("it's")
"'it''s'"
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

from sqlglot import exp

DIALECT = "duckdb"
SQL_TYPES = {
    "int": "BIGINT",
    "float": "DOUBLE",
    "string": "VARCHAR",
    "bool": "BOOLEAN",
    "datetime": "TIMESTAMP",
    "date": "DATE",
}
"DSL column type → DuckDB type."


def ident(name: str) -> str:
    """A quoted identifier (quotes doubled inside)."""
    return exp.to_identifier(name, quoted=True).sql(DIALECT)


def lit(value: Any) -> str:
    """A SQL literal for a Python scalar; floats keep full precision."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return f"'{value}'::DOUBLE"
        text = repr(value)
        return text if ("e" in text or "." in text) else text + ".0"
    if isinstance(value, datetime):
        return f"TIMESTAMP '{value.isoformat(sep=' ')}'"
    if isinstance(value, date):
        return f"DATE '{value.isoformat()}'"
    return exp.convert(str(value)).sql(DIALECT)


def double(value: float) -> str:
    """A DOUBLE literal (a bare ``0.1`` is DECIMAL in DuckDB)."""
    return f"{lit(float(value))}::DOUBLE"


def list_of(values: list[Any], sql_type: str) -> str:
    """A typed list constant, e.g. ``[0.2, 0.8]::DOUBLE[]`` (untyped lists of decimals are slow)."""
    return "[" + ", ".join(lit(v) for v in values) + f"]::{sql_type}[]"


def typed_lit(value: Any, column_type: str) -> str:
    """A schema literal converted to the column's type at compile time (``resolve.castable`` has
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
    return f"CAST({lit(str(value))} AS {SQL_TYPES[column_type]})"


def join_key(column: str, column_type: str, other_type: str) -> str:
    """A table's key column as a grouped join side holds it. An int key matched with a float
    column is held as a DOUBLE: ints the comparison cannot tell apart (beyond 2^53) then form
    one group, whose first row wins, instead of one row matching two groups."""
    if column_type == "int" and other_type == "float":
        return f"CAST({ident(column)} AS DOUBLE)"
    return ident(column)
