"""The value pipeline of one column: generator → modifiers in order → cast → NULLs."""

from __future__ import annotations

from dgsql.compiler.context import ColumnContext, Join
from dgsql.compiler.generators import RENDERERS as GENERATORS
from dgsql.compiler.modifiers import RENDERERS as MODIFIERS
from dgsql.compiler.sqltext import SQL_TYPES, double
from dgsql.dsl import model as S

ARITHMETIC_MODIFIERS = {"multiply", "add", "clamp", "jitter", "seasonality", "trend", "outliers", "effect"}


def fractional(col: S.Column, ds: S.Dataset) -> bool:
    """Whether the value before the cast may be a non-integer number (an int column rounds it)."""
    if any(m.transform in ARITHMETIC_MODIFIERS for m in col.modifiers):
        return True
    kind, spec = S.generator_kind(col.generator), S.generator_spec(col.generator)
    if kind == "sequence":
        return not (float(spec.start).is_integer() and float(spec.step).is_integer())
    if kind == "distribution":
        integral_clamp = spec.clamp is None or all(float(b).is_integer() for b in spec.clamp)
        return spec.type in ("normal", "lognormal") or not integral_clamp
    if kind == "expression":
        return True
    if kind in ("choice", "enum_list") and getattr(spec, "choices_ref", None) is None:
        values = spec.values if kind == "enum_list" else spec.choices
        return any(isinstance(v, float) and not v.is_integer() for v in values)
    if kind in ("choice", "lookup"):
        ref = spec.choices_ref if kind == "choice" else spec.from_
        table = ds.split_ref(ref)[0]
        target = next(c for c in ds.node(table).columns if c.name == ref[len(table) + 1 :])
        return target.type == "float"
    return False


def column_sql(ctx: ColumnContext) -> tuple[str, list[Join]]:
    """The column's value expression and the joins it needs."""
    col = ctx.column
    kind = S.generator_kind(col.generator)
    fragment = GENERATORS[kind].render(S.generator_spec(col.generator), ctx)
    joins = [fragment.join] if fragment.join else []
    sql = fragment.sql
    for i, mod in enumerate(col.modifiers):
        ctx.modifier = i
        sql = MODIFIERS[mod.transform].render(mod.args, sql, ctx)
    ctx.modifier = -1
    joins += ctx.modifier_joins
    if col.type == "int" and fractional(col, ctx.dataset):
        sql = f"round({sql})"  # DuckDB's cast rounds half to even; the DSL rounds half away from zero
    sql = f"CAST({sql} AS {SQL_TYPES[col.type]})"
    if col.nullable and col.null_rate:
        sql = f"CASE WHEN {ctx.uniform('null')} < {double(col.null_rate)} THEN NULL ELSE {sql} END"
    return sql, joins
