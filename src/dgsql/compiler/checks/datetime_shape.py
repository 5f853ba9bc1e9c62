"""A ``datetime_series`` column with declared ``pattern``/``patterns`` or ``seasonality`` weights:
per weighted dimension (hour, dow, month), the observed shares of rows match the expected shares
— total variation distance (TVD) within a tolerance derived from the standard error.

Expected shares: each grid point weighs the product of all declared weights at its hour / dow /
month; ``time_jitter`` spreads it over the point ± N(0, std) (16 quantile offsets, so a point at
08:00 jittered by −5 min counts for 07:00, as the data does). Tolerance for n rows:
``0.5 · (Σ σᵢ·√(2/π) + 4·√(Σ σᵢ²·(1 − 2/π))) + 0.01`` with ``σᵢ = √(pᵢ(1 − pᵢ)/n)``: the mean of
the TVD of an exact sample plus 4 of its standard deviations, plus 0.01 of slack.
Not evaluated below 30 rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from statistics import NormalDist

from dgsql.compiler.checks.grid import column_grid, dimension, grid_sql, weight_at
from dgsql.compiler.checks.spec import CheckContext, CheckSpec, compiled, not_compiled
from dgsql.compiler.checks.views import table
from dgsql.compiler.sqltext import Sql, double, doubles, fill, ident, join, lit
from dgsql.dsl.laws import quantile_nodes
from dgsql.dsl.model import DatetimeSeriesGen
from dgsql.dsl.time import series_patterns

KIND = "datetime_shape"
CATEGORY = "statistical"
DECLARED_BY = None

Z = 4.0
SLACK = 0.01
JITTER_NODES = 16
MIN_ROWS = 30

TEMPLATE = """\
WITH grid AS ({grid}),
weighted AS (SELECT ts, {weight} AS w FROM grid),
offsets AS (SELECT unnest({offsets}) AS minutes),
expected AS (
  SELECT {dim_jittered} AS v, sum(w) AS mass
  FROM weighted, offsets
  GROUP BY v
),
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
SELECT row_count, tvd, tolerance, {dimension_name} AS dimension,
  CASE WHEN row_count IS NULL OR row_count < {min_rows} THEN NULL ELSE tvd <= tolerance END AS ok
FROM stat"""


def _offsets(std_minutes: float) -> list[float]:
    if std_minutes <= 0:
        return [0.0]
    return quantile_nodes(NormalDist(0.0, std_minutes).inv_cdf, JITTER_NODES)


def compile(ctx: CheckContext) -> Iterator[CheckSpec]:
    for node in ctx.dataset.nodes:
        for col in node.written:
            gen = col.generator
            if not isinstance(gen, DatetimeSeriesGen):
                continue
            patterns = [(p.dimension, p.weights) for p in series_patterns(gen.datetime_series, col)]
            jitter_var = 0.0
            other = []
            for mod in col.modifiers:
                if mod.transform == "seasonality":
                    continue
                if mod.transform == "time_jitter":
                    jitter_var += mod.args.std_minutes**2
                else:
                    other.append(mod.transform)
            if not patterns:
                continue
            ref = f"{node.id}.{col.name}"
            source = ctx.column_path(node.id, col.name) + ".generator.datetime_series"
            grid = column_grid(ctx.dataset, col)
            problem = None
            if other:
                problem = (
                    f"the {', '.join(other)} modifier changes the timestamps in ways the check cannot model"
                )
            elif grid is None:
                problem = "the column's grid needs a timeframe"
            if problem:
                for dim in dict.fromkeys(d for d, _ in patterns):
                    yield not_compiled(KIND, CATEGORY, ref, source, problem, id=f"{KIND}:{ref}:{dim}")
                continue
            assert grid is not None
            ts = Sql("ts")
            weight = join((weight_at(w, dimension(d, ts)) for d, w in patterns), Sql(" * "))
            jittered = Sql("ts + to_microseconds(CAST(minutes * 60000000 AS BIGINT))")
            observed = fill("CAST({c} AS TIMESTAMP)", c=ident(col.name))
            for dim in dict.fromkeys(d for d, _ in patterns):
                sql = fill(
                    TEMPLATE,
                    grid=grid_sql(grid),
                    weight=weight,
                    offsets=doubles(_offsets(jitter_var**0.5)),
                    dim_jittered=dimension(dim, jittered),
                    dim_observed=dimension(dim, observed),
                    table=table(node.id),
                    col=ident(col.name),
                    z=double(Z),
                    slack=double(SLACK),
                    min_rows=double(MIN_ROWS),
                    dimension_name=lit(dim),
                )
                yield compiled(
                    KIND,
                    CATEGORY,
                    ref,
                    id=f"{KIND}:{ref}:{dim}",
                    sql=sql,
                    mode="stat",
                    source=source,
                    expect={"dimension": dim, "weights": [w for d, w in patterns if d == dim]},
                )
