"""Literals and identifiers for the emitted SQL, always through sqlglot.

Nothing from a schema is pasted into SQL: names become quoted identifiers and
values become literals, so a schema can never inject SQL.

>>> ident('order')
'"order"'
>>> lit("it's")
"'it''s'"
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlglot import exp

DIALECT = "duckdb"


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
