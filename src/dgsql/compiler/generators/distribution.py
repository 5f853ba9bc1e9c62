"""``distribution``: normal (Box-Muller), lognormal, uniform, Poisson; then the clamp.

Poisson with lambda <= 50 is exact over the pmf, the mass beyond the clamp folded
onto its ends: a CASE over the cumulative pmf when a row makes few comparisons on
average (small lambda), else Walker's alias table. Above 50: a normal approximation
with continuity correction, rounded and floored at 0.
"""

from __future__ import annotations

import math

from dgsql.compiler.context import ColumnContext, Fragment
from dgsql.compiler.sqltext import double, list_of, lit
from dgsql.compiler.weights import (
    CASE_BRANCHES,
    CASE_COMPARISONS,
    alias_table,
    case_pick,
    expected_comparisons,
    poisson_pmf,
    poisson_point,
)
from dgsql.dsl import model as S

POISSON_EXACT_MAX = 50.0


def dependencies(spec: S.DistributionSpec, column: S.Column, node: S.Node) -> list[str]:
    return []


def clamp(sql: str, lo: float | None, hi: float | None) -> str:
    if lo is not None:
        sql = f"greatest({sql}, {double(lo)})"
    if hi is not None:
        sql = f"least({sql}, {double(hi)})"
    return sql


def poisson(lam: float, u: str, z: str, lo: int = 0, hi: int | None = None) -> str:
    """A Poisson(lam) count clamped to [lo, hi]. Up to lam 50 an exact pick over the pmf: a CASE
    over its cumulative shares when that takes few comparisons and branches, else an alias pick;
    above 50 the normal approximation (``z`` a standard normal draw)."""
    if lam <= POISSON_EXACT_MAX:
        point = poisson_point(lam, lo, hi)
        if point is not None:
            return lit(point)
        pmf = poisson_pmf(lam, lo, hi)
        live = [(lit(k), p) for k, p in enumerate(pmf) if p > 0]
        if len(live) == 1:
            return live[0][0]
        if len(live) <= CASE_BRANCHES and expected_comparisons([p for _, p in live]) <= CASE_COMPARISONS:
            return f"({case_pick(u, live)})"
        probs, keep, alias = alias_table(pmf)
        return f"dg_alias({u}, {list_of(probs, 'DOUBLE')}, {list_of(keep, 'BIGINT')}, {list_of(alias, 'BIGINT')})"
    draw = f"round({double(lam)} + {double(math.sqrt(lam))} * {z})::BIGINT"
    return (
        f"least(greatest({draw}, {lit(lo)}), {lit(hi)})" if hi is not None else f"greatest({draw}, {lit(lo)})"
    )


def draw(spec: S.DistributionSpec, ctx: ColumnContext, draw_name: str, integer: bool) -> str:
    """The unclamped draw of ``spec`` from the column's streams named ``draw_name``."""
    p = spec.params
    if spec.type == "normal":
        return f"({double(p['mean'])} + {double(p['std'])} * {ctx.normal(draw_name)})"
    if spec.type == "lognormal":
        return f"exp({double(p['mean'])} + {double(p['sigma'])} * {ctx.normal(draw_name)})"
    if spec.type == "uniform":
        u = ctx.uniform(draw_name)
        if integer:
            low, high = math.ceil(p["low"]), math.floor(p["high"])
            return f"({lit(low)} + floor({u} * {lit(high - low + 1)})::BIGINT)"
        return f"({double(p['low'])} + {double(p['high'] - p['low'])} * {u})"
    lo = hi = None
    if spec.clamp is not None:
        lo, hi = math.ceil(spec.clamp[0]), math.floor(spec.clamp[1])
    return poisson(p["lambda"], ctx.uniform(draw_name), ctx.normal(draw_name), max(lo or 0, 0), hi)


def render(spec: S.DistributionSpec, ctx: ColumnContext) -> Fragment:
    sql = draw(spec, ctx, "value", integer=ctx.column.type == "int")
    if spec.clamp is not None:
        sql = clamp(sql, *spec.clamp)
    return Fragment(sql)
