"""Inequalities between columns of a table, honoured while generating.

Method: the columns tied together by ``<``/``<=``/``>``/``>=`` constraints (of one
type) form a group; every column is drawn from its own generator, then the row's
values of the group are **sorted and assigned along a linear extension** of the
inequalities (for ``a < b``: ``a`` gets the smaller value, ``b`` the larger). With a
strict inequality in the group, a tie moves the later value one step up: the grid
step of a ``datetime_series``, 1 for an int, a day for a date, a second for another
timestamp, the next representable double for a float. A row with a NULL in the
group is left alone.

Effect on the distributions: the group's values become their order statistics (for a
pair: the lower and upper of the two draws); the multiset of values in the row is
unchanged except for tie steps. Documented in docs/dsl.md.
"""

from __future__ import annotations

from dgsql.compiler.plan import InequalityFix
from dgsql.compiler.sqltext import SQL_TYPES, ident
from dgsql.dsl import model as S
from dgsql.dsl.time import series_grid


def _step_up(column: S.Column, ds: S.Dataset, value: str) -> str:
    """The smallest value of ``column``'s kind above ``value``."""
    if column.type == "int":
        return f"({value} + 1)"
    if column.type == "float":
        return f"nextafter({value}, 'inf'::DOUBLE)"
    if column.type == "date":
        return f"({value} + 1)"  # DATE + INTEGER is a DATE
    g = (
        series_grid(column.generator.datetime_series, ds)
        if isinstance(column.generator, S.DatetimeSeriesGen)
        else None
    )
    if g is not None:
        if g.step_us is None:
            return f"({value} + to_months({g.months}))"
        return f"({value} + to_microseconds({g.step_us}))"
    return f"({value} + INTERVAL 1 SECOND)"


def fixed(fix: InequalityFix, node: S.Node, ds: S.Dataset, source: str) -> list[str]:
    """``REPLACE`` items giving the group's fixed columns."""
    columns = {c.name: c for c in node.columns}
    refs = [f"{source}.{ident(name)}" for name in fix.order]
    sorted_list = f"list_sort([{', '.join(refs)}])"
    any_null = " OR ".join(f"{r} IS NULL" for r in refs)
    items = []
    previous = ""
    for i, (name, ref) in enumerate(zip(fix.order, refs, strict=True)):
        value = f"{sorted_list}[{i + 1}]"
        if fix.strict and previous:
            value = f"greatest({value}, {_step_up(columns[name], ds, previous)})"
        previous = value
        sql_type = SQL_TYPES[columns[name].type]
        items.append(f"CASE WHEN {any_null} THEN {ref} ELSE CAST({value} AS {sql_type}) END AS {ident(name)}")
    return items
