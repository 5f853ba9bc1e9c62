"""Inequalities between two columns of a table, honoured while generating.

Method: both columns are drawn from their own generators; in the rows where the
pair breaks ``left op right`` the two values are exchanged. For a strict ``<``
(``>``) a tie moves ``right`` one step up (down): the grid step of a
``datetime_series``, 1 for an int, a day for a date, a second for a timestamp,
the next representable double for a float. NULLs are left alone.

Effect on the distributions: the pair becomes the (min, max) of the two draws,
so ``left`` follows the lower and ``right`` the upper order statistic of the two
columns' draws; the union of the two columns' values is unchanged. Documented in
docs/dsl.md.
"""

from __future__ import annotations

from dgsql.compiler import schema as S
from dgsql.compiler.generators.datetime_series import grid, span_of_dataset
from dgsql.compiler.plan import InequalityFix
from dgsql.compiler.sqltext import ident


def _step_up(column: S.Column, ds: S.Dataset, value: str, sign: str) -> str:
    if column.type == "int":
        return f"({value} {sign} 1)"
    if column.type == "float":
        target = "'inf'::DOUBLE" if sign == "+" else "'-inf'::DOUBLE"
        return f"nextafter({value}, {target})"
    if column.type == "date":
        return f"({value} {sign} INTERVAL 1 DAY)"
    if S.generator_kind(column.generator) == "datetime_series":
        spec = column.generator.datetime_series
        g = grid(span_of_dataset(spec, ds), spec.freq or (ds.timeframe.freq if ds.timeframe else "S"))
        if g.step_us is None:
            return f"({value} {sign} to_months({g.months}))"
        return f"({value} {sign} to_microseconds({g.step_us}))"
    return f"({value} {sign} INTERVAL 1 SECOND)"


def fixed(fix: InequalityFix, node: S.Node, ds: S.Dataset, source: str) -> list[str]:
    """``REPLACE`` items giving the fixed left and right columns."""
    left, right = f"{source}.{ident(fix.left)}", f"{source}.{ident(fix.right)}"
    right_col = next(c for c in node.columns if c.name == fix.right)
    ascending = fix.op in ("<", "<=")
    broken = f"{left} > {right}" if ascending else f"{left} < {right}"
    new_left = f"CASE WHEN {broken} THEN {right} ELSE {left} END"
    new_right = f"CASE WHEN {broken} THEN {left} ELSE {right} END"
    if fix.op in ("<", ">"):
        nudged = _step_up(right_col, ds, left, "+" if ascending else "-")
        new_right = f"CASE WHEN {left} = {right} THEN {nudged} ELSE {new_right} END"
    return [f"{new_left} AS {ident(fix.left)}", f"{new_right} AS {ident(fix.right)}"]
