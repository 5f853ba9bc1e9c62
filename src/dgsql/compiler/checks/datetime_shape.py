"""A ``datetime_series`` column with declared ``pattern``/``patterns`` or ``seasonality`` weights:
per weighted dimension (hour, dow, month), the observed shares of rows match the expected shares
— total variation distance (TVD) within a tolerance derived from the standard error.

Expected shares: each grid point weighs the product of all declared weights at its hour / dow /
month; ``time_jitter`` spreads it over the point ± N(0, std) (16 quantile offsets, so a point at
08:00 jittered by −5 min counts for 07:00, as the data does).

Where the expectation is exact — no jitter, no inequality bound, a grid of at most
:data:`~dgsql.compiler.checks.grid.MAX_POINTS` points — the counts are tested by the law checks'
chi-square (:mod:`binned`, a law check). Otherwise the tolerance for n rows
(:func:`tolerance`) is ``0.5 · (Σ σᵢ·√(2/π) + Z·√(Σ σᵢ²·(1 − 2/π))) + 0.01`` with
``σᵢ = √(pᵢ(1 − pᵢ)/n)``: the mean of the TVD of an exact sample plus ``Z`` (the normal bound at
the law checks' false-alarm rate) of its standard deviations, plus 0.01 of slack for the
approximate expectation (the jitter's quadrature, the thinned grid). Not evaluated below 30 rows.

A column drawn after a bound (an inequality, ``compiler/bounds.py``) is compared with the
**truncated expectation computed from the data's own bounds** (:data:`TRUNCATED`): a row with
bound b (the largest of its ``after`` columns, NULLs skipped; all NULL: unrestricted) follows
w(t)·1[t > b]/S(b) (``>=`` when no inequality is strict), S(b) the weight of the points
allowed, so the expected mass of a category c is Σ_rows Σ_{t∈c allowed} w(t)/S(b). Rows are
grouped by their first allowed grid point t₀ (an ASOF join of the bounds' histogram onto the
grid); with G(t) = Σ_{t₀ ≤ t} n(t₀)/S(t₀), a running sum, the mass is Σ_{t∈c} w(t)·G(t):
O(grid + distinct bounds), no pass over rows but the histogram's. Rows whose bound leaves no
weighted point are placed past the span by rule (the first grid point after the bound) and
count at their observed category. ``time_jitter`` offsets apply to the expected points as
above (a jittered value the guard moves back above its bound is not modelled). On a grid
thinned above 200,000 points (:func:`grid_sql`) the first allowed point is the thinned grid's:
an approximation of a few points' weight per row. Rows are independent but not identically
distributed, so the variance of a category's count, Σ_rows p_r(1 − p_r), is at most n·p(1 − p)
with p their mean: the same tolerance is conservative. A column with no ``after`` bound (the
first column of an inequality) is checked exactly as above.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from statistics import NormalDist
from typing import Any

from dgsql.compiler import behaviours, funnel
from dgsql.compiler.checks import binned
from dgsql.compiler.checks.grid import MAX_POINTS, Grid, column_grid, dimension, grid_sql, weight_at
from dgsql.compiler.checks.spec import CheckContext, CheckSpec, compiled, not_compiled
from dgsql.compiler.checks.views import table
from dgsql.compiler.sqltext import Sql, double, doubles, fill, ident, join, lit
from dgsql.dsl.laws import quantile_nodes
from dgsql.dsl.model import Column, DatetimeSeriesGen, Node
from dgsql.dsl.time import series_patterns

KIND = "datetime_shape"
CATEGORY = "statistical"
DECLARED_BY = None

Z = binned.Z_TWO_SIDED
SLACK = 0.01
JITTER_NODES = 16
MIN_ROWS = 30

DECLARED = """\
WITH grid AS ({grid}),
weighted AS (SELECT ts, {weight} AS w FROM grid),
offsets AS (SELECT unnest({offsets}) AS minutes),
expected AS (
  SELECT {dim_jittered} AS v, sum(w) AS mass
  FROM weighted, offsets
  GROUP BY v
),
"""
"The expected mass of each category: the declared weights of the grid points, jittered."

TRUNCATED = """\
WITH grid AS ({grid}),
weighted AS (SELECT ts, {weight} AS w FROM grid),
offsets AS (SELECT unnest({offsets}) AS minutes),
suffix AS (SELECT ts, w, sum(w) OVER (ORDER BY ts DESC ROWS UNBOUNDED PRECEDING) AS s FROM weighted),
last_weighted AS (SELECT max(ts) AS ts FROM weighted WHERE w > 0),
bounded AS (
  SELECT b, x, coalesce(b {allows} (SELECT ts FROM last_weighted), true) AS reached
  FROM (SELECT CAST({bound} AS TIMESTAMP) AS b, CAST({col} AS TIMESTAMP) AS x FROM {table} WHERE {col} IS NOT NULL) AS r
),
bounds AS (
  SELECT coalesce(b, '-infinity'::TIMESTAMP) AS b, count(*) AS n FROM bounded WHERE reached GROUP BY ALL
),
starts AS (
  SELECT g.ts, sum(f.n / g.s) AS m
  FROM bounds AS f ASOF JOIN suffix AS g ON f.b {allows} g.ts
  GROUP BY g.ts
),
reach AS (
  SELECT g.ts, g.w * sum(coalesce(f.m, 0)) OVER (ORDER BY g.ts ROWS UNBOUNDED PRECEDING) AS w
  FROM suffix AS g LEFT JOIN starts AS f ON f.ts = g.ts
),
expected AS (
  SELECT v, sum(mass) AS mass FROM (
    SELECT {dim_jittered} AS v, w / {nodes} AS mass FROM reach, offsets
    UNION ALL
    SELECT {dim_past} AS v, 1 AS mass FROM bounded WHERE NOT reached
  ) AS parts GROUP BY v
),
past_span AS (SELECT count(*) AS n FROM bounded WHERE NOT reached),
"""
"""The expected mass of each category for a column drawn after ``bound``: every row's declared
weights restricted to the points its bound allows (``allows``: ``<`` when strict, else ``<=``),
renormalised; rows with no weighted point left count at their observed category."""

COMPARE = """\
observed AS (SELECT {dim_observed} AS v, count(*) AS n FROM {table} WHERE {col} IS NOT NULL GROUP BY v),
shares AS (
  SELECT coalesce(e.mass, 0) / (SELECT sum(mass) FROM expected) AS p,
         coalesce(o.n, 0) / (SELECT CAST(sum(n) AS DOUBLE) FROM observed) AS q,
         (SELECT sum(n) FROM observed) AS total
  FROM expected AS e FULL OUTER JOIN observed AS o ON e.v = o.v
),
stat AS (
  SELECT any_value(total) AS row_count, 0.5 * sum(abs(q - p)) AS tvd,
    0.5 * (sum(sqrt(p * (1 - p) / total)) * sqrt(2 / pi())
           + {z} * sqrt(sum(p * (1 - p) / total) * (1 - 2 / pi()))) + {slack} AS tolerance
  FROM shares
)
SELECT row_count, tvd, tolerance, {dimension_name} AS dimension,{extra}
  CASE WHEN row_count IS NULL OR row_count < {min_rows} THEN NULL ELSE tvd <= tolerance END AS ok
FROM stat"""
"Observed against expected shares: the TVD and its tolerance (:func:`tolerance`, in SQL)."


EPOCH_HOURS = "(epoch_us({ts}) // 3600000000)"
"Hours since 1970-01-01 of a timestamp: its hour of day, day of week and month all follow from it."
CHI_SQUARE = """\
observed AS (SELECT {dim_observed} AS v, count(*) AS o FROM {table} WHERE {col} IS NOT NULL GROUP BY v),
cells AS (
  SELECT row_number() OVER (ORDER BY coalesce(e.v, b.v)) AS k,
         coalesce(e.mass, 0) / (SELECT sum(mass) FROM expected) AS p, coalesce(b.o, 0) AS o
  FROM expected AS e FULL OUTER JOIN observed AS b ON e.v = b.v
),"""
"Observed counts against the exact expected shares: the cells of :func:`binned.chi_square`."
SHARES = "shares AS (SELECT v, mass / sum(mass) OVER () AS share FROM expected)\nSELECT v, share FROM shares ORDER BY v"
"The expected share of each category, for the report's charts."


def tolerance(shares: Sequence[float], rows: float) -> float:
    """The TVD within which the shares of ``rows`` rows drawn from ``shares`` stay (the check's
    tolerance, which its SQL computes from the expected shares).

    >>> round(tolerance([0.5, 0.5], 10_000), 4)
    0.0253
    """
    var = [p * (1 - p) / rows for p in shares]
    spread = sum(math.sqrt(v) for v in var) * math.sqrt(2 / math.pi)
    return 0.5 * (spread + Z * math.sqrt(sum(var) * (1 - 2 / math.pi))) + SLACK


def _offsets(std_minutes: float) -> list[float]:
    if std_minutes <= 0:
        return [0.0]
    return quantile_nodes(NormalDist(0.0, std_minutes).inv_cdf, JITTER_NODES)


def truncated_after(after: Sequence[str]) -> str:
    """What a bounded column's shares are compared with, as the report shows it.

    >>> truncated_after(["ordered_at"])
    'declared weights truncated after greatest(ordered_at) per row'
    """
    return f"declared weights truncated after greatest({', '.join(after)}) per row"


def _dimensions(column: str, at: Callable[[Sql], Sql]) -> dict[str, Sql]:
    """The category of the jittered grid points, of the column's values and of a row's value
    placed past the span: ``at`` maps a timestamp to its category."""
    jittered = Sql("ts + to_microseconds(CAST(minutes * 60000000 AS BIGINT))")
    observed = fill("CAST({c} AS TIMESTAMP)", c=ident(column))
    return {"dim_jittered": at(jittered), "dim_observed": at(observed), "dim_past": at(Sql("x"))}


def _expectation(
    ctx: CheckContext,
    node: Node,
    col: Column,
    grid: Grid,
    patterns: Sequence[tuple[str, list[float]]],
    jitter_var: float,
) -> tuple[str, dict[str, Sql], dict[str, Any]]:
    """The CTEs ending in ``expected(v, mass)`` (:data:`DECLARED` or :data:`TRUNCATED`), their
    parts but the dimension's, and how the report names the expectation."""
    bound = ctx.bound(node.id, col.name)
    after = bound.after if bound is not None else ()
    ts = Sql("ts")
    weight = (
        join((weight_at(w, dimension(d, ts)) for d, w in patterns), Sql(" * ")) if patterns else Sql("1.0")
    )
    offsets = _offsets(jitter_var**0.5)
    parts = dict(
        grid=grid_sql(grid),
        weight=weight,
        offsets=doubles(offsets),
        table=table(node.id),
        col=ident(col.name),
        z=double(Z),
        slack=double(SLACK),
        min_rows=double(MIN_ROWS),
    )
    if not after:
        parts.update(extra=Sql(""))
        return DECLARED, parts, {}
    assert bound is not None
    parts.update(
        bound=join(ident(a) for a in after)
        if len(after) == 1
        else fill("greatest({a})", a=join(ident(a) for a in after)),
        allows=Sql("<" if bound.strict else "<="),
        nodes=double(len(offsets)),
        extra=fill(
            " {after} AS truncated_after, (SELECT n FROM past_span) AS past_span_rows,",
            after=lit(", ".join(after)),
        ),
    )
    return TRUNCATED, parts, {"shares": truncated_after(after), "strict": bound.strict}


def _jitter(col: Column) -> tuple[float, list[str]]:
    """The summed variance of the column's ``time_jitter`` modifiers (minutes²), and the other
    modifiers that move its timestamps (seasonality does not: it scales values)."""
    jitter_var = 0.0
    other = []
    for mod in col.modifiers:
        if mod.transform == "seasonality":
            continue
        if mod.transform == "time_jitter":
            jitter_var += mod.args.std_minutes**2
        else:
            other.append(mod.transform)
    return jitter_var, other


def _problem(ctx: CheckContext, node: Node, col: Column, other: list[str], grid: Grid | None) -> str | None:
    """Why the column's shares have no expectation (None when they have one)."""
    if other:
        return f"the {', '.join(other)} modifier changes the timestamps in ways the check cannot model"
    if grid is None:
        return "the column's grid needs a timeframe"
    if behaviours.time_bounded(ctx.dataset, node, col):
        return "the column is drawn after its parent's created_at (vintage_behavior)"
    bound = ctx.bound(node.id, col.name)
    hidden = [c.name for c in node.columns if c.hidden and bound is not None and c.name in bound.after]
    if hidden:
        return (
            f"the column is drawn after {', '.join(hidden)}, hidden (never written), so the "
            "truncated shares cannot be computed from the file"
        )
    return None


def expected_shares(ctx: CheckContext, node: Node, col: Column, rows: Sql | None = None) -> Sql | str:
    """``SELECT v, share``: the share the check expects of a ``datetime_series`` column in each
    hour since the epoch ``v`` (:data:`EPOCH_HOURS`; hour of day, day of week and month follow
    from it), from the declared weights (or the grid's own spread when none), or why there is
    none. The report charts the data against it. ``rows``: the relation whose rows' bounds
    truncate the expectation (default: the whole table)."""
    gen = col.generator
    if not isinstance(gen, DatetimeSeriesGen):
        return "not a datetime_series column"
    patterns = [(p.dimension, p.weights) for p in series_patterns(gen.datetime_series, col)]
    if col.name in funnel.roles(node):
        return "the funnel sets the column's times"
    jitter_var, other = _jitter(col)
    grid = column_grid(ctx.dataset, col)
    problem = _problem(ctx, node, col, other, grid)
    if problem:
        return problem
    assert grid is not None
    head, parts, _ = _expectation(ctx, node, col, grid, patterns, jitter_var)
    if rows is not None:
        parts["table"] = rows
    return fill(head + SHARES, **parts, **_dimensions(col.name, lambda ts: fill(EPOCH_HOURS, ts=ts)))


def compile(ctx: CheckContext) -> Iterator[CheckSpec]:
    for node in ctx.dataset.nodes:
        for col in node.written:
            gen = col.generator
            if not isinstance(gen, DatetimeSeriesGen) or col.name in funnel.roles(node):
                continue  # a funnel's stage times are checked by funnel_times
            patterns = [(p.dimension, p.weights) for p in series_patterns(gen.datetime_series, col)]
            jitter_var, other = _jitter(col)
            if not patterns:
                continue
            ref = f"{node.id}.{col.name}"
            source = ctx.column_path(node.id, col.name) + ".generator.datetime_series"
            grid = column_grid(ctx.dataset, col)
            problem = _problem(ctx, node, col, other, grid)
            if problem:
                for dim in dict.fromkeys(d for d, _ in patterns):
                    yield not_compiled(KIND, CATEGORY, ref, source, problem, id=f"{KIND}:{ref}:{dim}")
                continue
            assert grid is not None
            head, parts, how = _expectation(ctx, node, col, grid, patterns, jitter_var)
            resolved = grid.resolve()
            exact = not how and jitter_var == 0 and (resolved.points <= MAX_POINTS or resolved.freq.monthly)
            for dim in dict.fromkeys(d for d, _ in patterns):
                dims = _dimensions(col.name, lambda ts, dim=dim: dimension(dim, ts))
                if exact:
                    cells = fill(head + CHI_SQUARE, **parts, **dims)
                    sql = binned.chi_square(cells, fill(" {d} AS dimension,", d=lit(dim)))
                    how = binned.parameters()
                else:
                    sql = fill(head + COMPARE, **parts, **dims, dimension_name=lit(dim))
                yield compiled(
                    KIND,
                    CATEGORY,
                    ref,
                    id=f"{KIND}:{ref}:{dim}",
                    sql=sql,
                    mode="stat",
                    source=source,
                    expect={"dimension": dim, "weights": [w for d, w in patterns if d == dim], **how},
                    law=exact,
                )
