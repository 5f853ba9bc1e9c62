"""Inequalities between columns of a table, in SQL: the bound a column is drawn after, and
the guard that makes every row keep the inequalities (``compiler/bounds.py`` says which
column is bounded by which).

The bound of a column drawn after others is the largest of them (``greatest`` skips NULLs:
a NULL bound restricts nothing). Its guard replaces a value that is still not allowed — the
truncated range was empty, a modifier moved the value, or the kind has no truncated draw —
by the bound plus one step: the grid step of a ``datetime_series`` (without modifiers), a
microsecond for another datetime, a day for a date, 1 for an int, the next double for a
float. A column that must stay below a column it reads takes that column minus one step.
A NULL value is left alone.
"""

from __future__ import annotations

from dgsql.compiler.bounds import Bound
from dgsql.compiler.sqltext import ident
from dgsql.dsl import model as S
from dgsql.dsl.time import series_grid


def bound_sql(bound: Bound, source: str) -> str:
    """The value a column is drawn after: the largest of its ``after`` columns."""
    refs = [f"{source}.{ident(name)}" for name in bound.after]
    return refs[0] if len(refs) == 1 else f"greatest({', '.join(refs)})"


def _step(column: S.Column, ds: S.Dataset, value: str, sign: str) -> str:
    """``value`` moved one step of ``column``'s kind up (``sign`` ``+``) or down (``-``)."""
    if column.type == "int":
        return f"({value} {sign} 1)"
    if column.type == "float":
        return f"nextafter({value}, '{'' if sign == '+' else '-'}inf'::DOUBLE)"
    if column.type == "date":
        return f"({value} {sign} 1)"  # DATE ± INTEGER is a DATE
    g = (
        series_grid(column.generator.datetime_series, ds)
        if isinstance(column.generator, S.DatetimeSeriesGen) and not column.modifiers
        else None
    )
    if g is not None and g.step_us is None:
        return f"({value} {sign} to_months({g.months}))"
    step = g.step_us if g is not None else 1
    return f"({value} {sign} to_microseconds({step}))"


def guard(bound: Bound, column: S.Column, ds: S.Dataset, source: str) -> str:
    """The ``REPLACE`` item giving the column's guarded value."""
    value = f"{source}.{ident(bound.column)}"
    below, above = ("<=", ">=") if bound.strict else ("<", ">")
    branches = []
    if bound.after:
        low = bound_sql(bound, source)
        target = _step(column, ds, low, "+") if bound.strict else low
        branches.append(f"WHEN {value} {below} {low} THEN {target}")
    for name in bound.before:
        high = f"{source}.{ident(name)}"
        target = _step(column, ds, high, "-") if bound.strict else high
        branches.append(f"WHEN {value} {above} {high} THEN {target}")
    return f"CASE {' '.join(branches)} ELSE {value} END AS {ident(bound.column)}"
