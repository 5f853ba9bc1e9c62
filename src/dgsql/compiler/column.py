"""The value pipeline of one column: generator → modifiers in order → a parent's factors
(segment, vintage) → cast → NULLs."""

from __future__ import annotations

from dgsql.compiler.context import ColumnContext, Join, TableContext
from dgsql.compiler.generators import generator_of
from dgsql.compiler.modifiers import MODIFIERS
from dgsql.compiler.sqltext import SQL_TYPES, double
from dgsql.dsl import model as S


def fractional(col: S.Column, ds: S.Dataset) -> bool:
    """Whether the value before the cast may be a non-integer number (an int column rounds it)."""
    if any(MODIFIERS[m.transform].arithmetic for m in col.modifiers):
        return True
    kind, spec = generator_of(col)
    return kind.fractional(spec, col, ds)


def column_sql(ctx: ColumnContext) -> tuple[str, list[Join]]:
    """The column's value expression and the joins it needs."""
    col = ctx.column
    kind, spec = generator_of(col)
    fragment = kind.truncated(spec, ctx, *ctx.bound) if ctx.bound is not None else None
    if fragment is None:
        fragment = kind.render(spec, ctx)
    joins = list(fragment.joins)
    sql = fragment.sql
    for i, mod in enumerate(col.modifiers):
        ctx.modifier = i
        sql = MODIFIERS[mod.transform].render(mod.args, sql, ctx)
    ctx.modifier = -1
    joins += ctx.modifier_joins
    if ctx.floor is not None and col.modifiers:
        sql = f"greatest({sql}, {ctx.floor})"  # a modifier may move a truncated draw below its floor
    if ctx.factor is not None:
        sql = f"({sql}) * {ctx.factor}"
    if col.type == "int" and (ctx.factor is not None or fractional(col, ctx.dataset)):
        sql = f"round({sql})"  # DuckDB's cast rounds half to even; the DSL rounds half away from zero
    if col.modifiers or ctx.factor is not None or fragment.sql_type != SQL_TYPES[col.type]:
        sql = f"CAST({sql} AS {SQL_TYPES[col.type]})"
    if col.nullable and col.null_rate:
        sql = f"CASE WHEN {ctx.uniform('null')} < {double(col.null_rate)} THEN NULL ELSE {sql} END"
    return sql, joins


def recompute(tctx: TableContext, table: str, column: str, row: str) -> str:
    """SQL of a pure column of ``table`` (see ``TableFacts.pure``) recomputed at ``row``."""
    node = tctx.dataset.node(table)
    target = TableContext(tctx.dataset, node, tctx.seed, tctx.known, recompute)
    col = next(c for c in node.columns if c.name == column)
    sql, joins = column_sql(ColumnContext(target, col, f"{table}.{column}", at_row=row))
    assert not joins and not target.helpers, f"{table}.{column} is not pure"
    return sql
