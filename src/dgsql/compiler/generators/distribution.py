"""``distribution``: normal (Box-Muller), lognormal, uniform, Poisson; then the clamp.

Poisson with lambda <= 50 is exact over the pmf, the mass beyond the clamp folded
onto its ends: a CASE over the cumulative pmf when a row makes few comparisons on
average (small lambda), else Walker's alias table. Above 50: a normal approximation
with continuity correction, rounded and floored at 0.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from dgsql.compiler.context import ColumnContext, Fragment
from dgsql.compiler.datagen import SIGMA_AS_STD
from dgsql.compiler.kind import GeneratorKind, Site
from dgsql.compiler.sqltext import double, list_of, lit
from dgsql.compiler.weights import CASE_BRANCHES, CASE_COMPARISONS, case_pick, expected_comparisons
from dgsql.dsl import model as S
from dgsql.dsl.laws import POISSON_EXACT_MAX, alias_table, poisson_pmf, poisson_point

UNBOUNDED = ("normal", "lognormal")
"Laws whose draws have no bound (uniform is bounded, Poisson bounded below and light-tailed)."


class Distribution(GeneratorKind):
    key = "distribution"
    always_pure = True
    types = ("int", "float", "string", "bool")

    def check(self, spec: S.DistributionSpec, site: Site) -> None:
        if spec.sigma_as_std:
            site.warn(".generator.distribution.params", SIGMA_AS_STD.format(sigma=spec.params["sigma"]))
        if spec.clamp is None and spec.type in UNBOUNDED:
            site.warn(
                ".generator.distribution", "no clamp; extreme draws are possible. Add clamp: [min, max]."
            )

    def capacity(
        self, spec: S.DistributionSpec, column: S.Column, ds: S.Dataset, expected: Mapping[str, float]
    ) -> float:
        if column.type != "int" or column.modifiers:
            return math.inf
        lo, hi = int_bounds(spec)
        return hi - lo + 1 if hi is not None and lo is not None else math.inf

    def value_range(
        self, spec: S.DistributionSpec, column: S.Column, ds: S.Dataset
    ) -> tuple[float, float] | None:
        if spec.clamp:
            return spec.clamp
        if spec.type == "uniform":
            return spec.params["low"], spec.params["high"]
        if spec.type in ("lognormal", "poisson"):
            return 0.0, math.inf  # exp(·) and counts are never negative
        return None

    def fractional(self, spec: S.DistributionSpec, column: S.Column, ds: S.Dataset) -> bool:
        integral_clamp = spec.clamp is None or all(float(b).is_integer() for b in spec.clamp)
        return spec.type in UNBOUNDED or not integral_clamp

    def render(self, spec: S.DistributionSpec, ctx: ColumnContext) -> Fragment:
        sql = draw(spec, ctx, "value", integer=ctx.column.type == "int")
        if spec.clamp is not None:
            sql = clamp(sql, *spec.clamp)
        return Fragment(sql)

    def truncated(
        self, spec: S.DistributionSpec, ctx: ColumnContext, bound: str, strict: bool
    ) -> Fragment | None:
        sql = truncated_draw(spec, ctx, bound, strict)
        if sql is None:
            return None
        if spec.clamp is not None:
            sql = clamp(sql, *spec.clamp)
        return Fragment(sql)


def int_bounds(spec: S.DistributionSpec) -> tuple[float | None, float | None]:
    """The integer range of an int column's draws (None where unbounded)."""
    lo, hi = spec.clamp if spec.clamp else (None, None)
    if spec.type == "uniform":
        lo = spec.params["low"] if lo is None else max(lo, spec.params["low"])
        hi = spec.params["high"] if hi is None else min(hi, spec.params["high"])
    if spec.type == "poisson":
        lo = 0 if lo is None else max(lo, 0)
    if lo is not None:
        lo = math.ceil(lo)
    if hi is not None:
        hi = math.floor(hi)
    return lo, hi


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


def truncated_draw(spec: S.DistributionSpec, ctx: ColumnContext, bound: str, strict: bool) -> str | None:
    """The unclamped draw of ``spec`` given that the clamped value lies above ``bound`` (at or
    above it unless ``strict``), by inverse CDF on the range left; None for Poisson (no
    truncated draw: the value is guarded). Below the clamp's low end a bound restricts
    nothing (every value lies above it). An int column's value is the rounded draw, so the
    draw must reach the bound's integer neighbour less a half."""
    p = spec.params
    integer = ctx.column.type == "int"
    if spec.type == "poisson":
        return None
    if spec.clamp is not None:
        bound = f"CASE WHEN {bound} >= {double(spec.clamp[0])} THEN {bound} END"
    if spec.type == "uniform" and integer:
        low, high = math.ceil(p["low"]), math.floor(p["high"])
        first = f"floor({bound}) + 1" if strict else f"ceil({bound})"
        start = f"greatest({lit(low)}, coalesce({first}, {lit(low)})::BIGINT)"
        left = f"greatest({lit(high)} - {start} + 1, 0)"
        return f"({start} + floor({ctx.uniform('value')} * {left})::BIGINT)"
    if spec.type == "uniform":
        start = f"greatest({double(p['low'])}, coalesce({bound}, {double(p['low'])}))"
        return f"({start} + ({double(p['high'])} - {start}) * {ctx.uniform('value')})"
    threshold = bound
    if integer:
        threshold = f"({bound} + 0.5)" if strict else f"({bound} - 0.5)"
    u = ctx.uniform("value")
    if spec.type == "normal":
        z = f"({threshold} - {double(p['mean'])}) / {double(p['std'])}"
        return f"({double(p['mean'])} + {double(p['std'])} * dg_normal_above({z}, {u}))"
    z = f"CASE WHEN {threshold} > 0 THEN (ln({threshold}) - {double(p['mean'])}) / {double(p['sigma'])} END"
    return f"exp({double(p['mean'])} + {double(p['sigma'])} * dg_normal_above({z}, {u}))"


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
