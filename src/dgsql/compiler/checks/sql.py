"""Safe SQL fragments for checks: every name is a quoted identifier, every value a literal.

A :class:`Sql` is a string this module vouches for. :func:`fill` puts fragments into a
constant template and refuses anything that is not a :class:`Sql`, so a user's string can
reach a query only through :func:`ident` or :func:`lit`.

>>> fill("SELECT {c} FROM {t} WHERE {c} > {v}", c=ident('a"b'), t=table("users"), v=lit(3))
'SELECT "a""b" FROM dg_check."users" WHERE "a""b" > 3'
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from sqlglot import exp

#: Schema that holds one view per table while checks run (``dg_check."orders"``).
SCHEMA = "dg_check"
#: Table macro returning the parsed ``.metadata.json`` as one JSON value ``doc``.
METADATA_MACRO = "dg_check_metadata"


class Sql(str):
    """A fragment of SQL built from quoted names, literals and constant templates."""


def ident(name: str) -> Sql:
    """A quoted identifier.

    >>> ident("order id")
    '"order id"'
    """
    return Sql(exp.to_identifier(name, quoted=True).sql("duckdb"))


def lit(value: Any) -> Sql:
    """A literal: strings quoted and escaped, numbers as written, bools, NULL.

    >>> lit("it's")
    "'it''s'"
    """
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{value} has no SQL literal")
    return Sql(exp.convert(value).sql("duckdb"))


def double(value: float) -> Sql:
    """A DOUBLE literal (plain numeric literals are DECIMAL in DuckDB).

    >>> double(0.25)
    'CAST(0.25 AS DOUBLE)'
    """
    return Sql(f"CAST({lit(float(value))} AS DOUBLE)")


def doubles(values: Iterable[float]) -> Sql:
    """A ``DOUBLE[]`` list literal.

    >>> doubles([1, 0.5])
    'CAST([1.0, 0.5] AS DOUBLE[])'
    """
    return Sql("CAST([" + ", ".join(lit(float(v)) for v in values) + "] AS DOUBLE[])")


def values_list(values: Iterable[Any]) -> Sql:
    """``(v1, v2, …)`` for ``IN``."""
    return Sql("(" + ", ".join(lit(v) for v in values) + ")")


def table(name: str) -> Sql:
    """The view that reads table ``name`` while checks run."""
    return Sql(f"{SCHEMA}.{ident(name)}")


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
    parts = list(parts)
    for part in parts:
        if not isinstance(part, Sql):
            raise TypeError(f"SQL part is {type(part).__name__}, not Sql")
    return Sql(sep.join(parts))


def metadata_rows(table_name: str) -> Sql:
    """The ``rows`` the build recorded for ``table_name`` in ``.metadata.json`` (NULL when absent)."""
    pointer = "/tables/" + table_name.replace("~", "~0").replace("/", "~1") + "/rows"
    return fill(
        "(SELECT CAST(json_extract(doc, {p}) AS BIGINT) FROM {m}())",
        p=lit(pointer),
        m=Sql(METADATA_MACRO),
    )
