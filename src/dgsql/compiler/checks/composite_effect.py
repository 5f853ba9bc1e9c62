"""``targets.composite_effect``: the observed lift per stratum matches the product of the declared
multipliers, within ``tolerance`` (``mae`` and ``mape``, both fractions: 0.1 = 10 %).

Strata are the combinations of the influences' dimensions: the hour / dow / month of each
``seasonality``, the quarter since the timeframe start for a ``trend``, and matched / unmatched
for an ``effect``. Each row's declared multiplier ``m`` is the product of its seasonality
weights, trend factor and effect factor (``outliers`` scale every stratum alike, so they cancel).

* ``metric: "volume"``: rows per stratum, normalised by exposure — the number of grid points of
  the timestamp's grid in the stratum — so that a 31-day month is not a 3 % lift over a 30-day
  one. Observed lift ``(nₛ/Eₛ)/(N/E)``; expected ``(Σₛm/Eₛ)/(Σm/E)`` over grid points.
* a numeric column: observed lift ``mean(metric | s) / mean(metric)``; expected
  ``mean(m | s) / mean(m)``.

MAE and MAPE are averaged over strata with an expected 30 rows or more (the others are counted
as skipped). The noise a correct generator shows at this size (``noise_mape``) is reported: a
tolerance below it cannot be met reliably.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from dgsql.compiler.checks.grid import Grid, column_grid, dimension, grid_sql, weight_at
from dgsql.compiler.checks.spec import CheckContext, CheckSpec, compiled, not_compiled
from dgsql.compiler.checks.targets import entries
from dgsql.compiler.checks.views import table
from dgsql.compiler.sqltext import Sql, double, fill, ident, join, lit, qualified
from dgsql.dsl.model import CompositeEffect, Influence

KIND = "composite_effect"
CATEGORY = "behaviour"
DECLARED_BY = "composite_effect"
MIN_EXPECTED_ROWS = 30

VOLUME = """\
WITH grid AS ({grid}),
exposure AS (SELECT {grid_keys}, count(*) AS exposure, sum({grid_m}) AS mass FROM grid GROUP BY ALL),
observed AS (SELECT {row_keys}, count(*) AS n FROM {table} WHERE {ts} IS NOT NULL GROUP BY ALL),
strata AS (
  SELECT e.exposure, e.mass, coalesce(o.n, 0) AS n
  FROM exposure AS e LEFT JOIN observed AS o USING ({key_names})
),
totals AS (SELECT sum(exposure) AS e_total, sum(mass) AS m_total, sum(n) AS n_total FROM strata),
lifts AS (
  SELECT (n / exposure) / (n_total / e_total) AS observed_lift,
         (mass / exposure) / (m_total / e_total) AS expected_lift,
         n_total * mass / m_total AS expected_rows,
         1 / sqrt(n_total * mass / m_total) AS noise
  FROM strata, totals
  WHERE exposure > 0 AND m_total > 0
)
{summary}"""

METRIC = """\
WITH base AS (
  SELECT row_number() OVER () AS __dg_rid, * FROM {table} WHERE {metric} IS NOT NULL AND {ts} IS NOT NULL
){effects},
keyed AS (SELECT {row_keys}, {metric} AS y, {row_m} AS m FROM base{effect_joins}),
strata AS (
  SELECT count(*) AS n, avg(y) AS y_mean, stddev_samp(y) AS y_sd, avg(m) AS m_mean FROM keyed GROUP BY {key_names}
),
totals AS (SELECT avg(y) AS y_total, avg(m) AS m_total, count(*) AS n_total FROM keyed),
lifts AS (
  SELECT y_mean / y_total AS observed_lift, m_mean / m_total AS expected_lift, n AS expected_rows,
         y_sd / (abs(y_mean) * sqrt(n)) AS noise
  FROM strata, totals
  WHERE y_total <> 0 AND m_total <> 0
)
{summary}"""

EFFECT = """,
{name} AS (
  SELECT b.__dg_rid, arg_min({field}, {order}) AS __dg_factor
  FROM base AS b JOIN {effect_table} AS e ON {condition}
  GROUP BY b.__dg_rid
)"""

SUMMARY = """\
SELECT count(*) AS strata,
  count(*) FILTER (WHERE expected_rows >= {min_rows}) AS strata_used,
  avg(abs(observed_lift - expected_lift)) FILTER (WHERE expected_rows >= {min_rows}) AS mae,
  avg(abs(observed_lift - expected_lift) / expected_lift)
    FILTER (WHERE expected_rows >= {min_rows} AND expected_lift > 0) AS mape,
  max(abs(observed_lift - expected_lift)) FILTER (WHERE expected_rows >= {min_rows}) AS max_abs_error,
  {tol_mae} AS tolerance_mae, {tol_mape} AS tolerance_mape,
  avg(noise) FILTER (WHERE expected_rows >= {min_rows}) * sqrt(2 / pi()) AS noise_mape,
  CASE WHEN count(*) FILTER (WHERE expected_rows >= {min_rows}) < 2 THEN NULL
       ELSE {criteria} END AS ok
FROM lifts"""


def _trend(inf: Influence, t: Sql) -> Sql:
    g = double(inf.growth_rate or 0.0)
    if inf.type == "exponential":
        return fill("pow(1 + {g}, {t})", g=g, t=t)
    if inf.type == "linear":
        return fill("(1 + {g} * {t})", g=g, t=t)
    return fill("(1 + 0.1 * ln(1 + 1.0 * {t}))", t=t)


@dataclass
class _Plan:
    """Strata keys and multiplier of one target, as SQL over a timestamp expression."""

    keys: list[tuple[Sql, Sql]] = field(default_factory=list)
    "Per stratum key: (over the grid's ``ts``, over the table's rows)."
    m_grid: list[Sql] = field(default_factory=list)
    "Factors of the multiplier over the grid's ``ts``."
    m_row: list[Sql] = field(default_factory=list)
    "Factors of the multiplier over the table's rows."
    effects: list[Sql] = field(default_factory=list)
    "CTEs that find each row's effect factor."
    effect_joins: list[Sql] = field(default_factory=list)


def _plan(ctx: CheckContext, target: CompositeEffect, ts_name: str, volume: bool) -> _Plan | str:
    plan = _Plan()
    tf = ctx.dataset.timeframe
    start = lit(tf.start) if tf is not None else None
    for inf in target.influences:
        col_name = inf.column or ts_name
        if inf.kind in ("seasonality", "trend") and ctx.column(target.table, col_name) is None:
            return f"table {target.table!r} has no column {col_name!r}"
        if volume and inf.kind in ("seasonality", "trend") and col_name != ts_name:
            return f"a volume target counts rows over one timestamp ({ts_name!r}), not {col_name!r}"
        row_ts = fill("CAST({c} AS TIMESTAMP)", c=ident(col_name))
        if inf.kind == "seasonality":
            if inf.dimension is None or inf.weights is None:
                return "a seasonality influence needs dimension and weights"
            n = {"hour": 24, "dow": 7, "month": 12}[inf.dimension]
            if len(inf.weights) != n:
                return f"{inf.dimension} needs {n} weights, got {len(inf.weights)}"
            grid_dim, row_dim = dimension(inf.dimension, Sql("ts")), dimension(inf.dimension, row_ts)
            plan.keys.append((grid_dim, row_dim))
            plan.m_grid.append(weight_at(inf.weights, grid_dim))
            plan.m_row.append(weight_at(inf.weights, row_dim))
        elif inf.kind == "trend":
            if inf.type is None:
                return "a trend influence needs type"
            if start is None:
                return "a trend influence needs the timeframe"
            ref = ident(inf.time_reference) if inf.time_reference else ident(col_name)
            if inf.time_reference and ctx.column(target.table, inf.time_reference) is None:
                return f"table {target.table!r} has no column {inf.time_reference!r}"
            years = "((epoch(CAST({x} AS TIMESTAMP)) - epoch({s})) / (365.25 * 86400))"
            t_grid, t_row = fill(years, x=Sql("ts"), s=start), fill(years, x=ref, s=start)
            plan.keys.append((fill("floor({t} * 4)", t=t_grid), fill("floor({t} * 4)", t=t_row)))
            plan.m_grid.append(_trend(inf, t_grid))
            plan.m_row.append(_trend(inf, t_row))
        elif inf.kind == "effect":
            problem = _effect(ctx, target, inf, col_name, plan, volume)
            if problem:
                return problem
        # outliers multiply every stratum by the same expected factor: no lift.
    if not plan.keys:
        return "no influence defines strata (seasonality, trend or effect)"
    return plan


def _effect(
    ctx: CheckContext, target: CompositeEffect, inf: Influence, ts: str, plan: _Plan, volume: bool
) -> str | None:
    if volume:
        return "effect influences on volume scale parents' fanout, which strata of rows cannot show"
    if inf.effect_table is None or inf.map is None:
        return "an effect influence needs effect_table and map"
    if inf.map.op != "mul":
        return "only multiplicative (op: mul) effects have a lift"
    eff = ctx.node(inf.effect_table)
    if eff is None:
        return f"no table {inf.effect_table!r} in the schema"
    needed = [inf.map.field, *(inf.on or {}).values()] + (
        [inf.window.start_col, inf.window.end_col] if inf.window else []
    )
    missing = [c for c in needed if ctx.column(eff.id, c) is None]
    missing += [c for c in (inf.on or {}) if ctx.column(target.table, c) is None]
    if missing:
        return f"effect columns not found: {', '.join(missing)}"
    conditions = [
        fill("{a} = {b}", a=qualified("b", local), b=qualified("e", remote))
        for local, remote in (inf.on or {}).items()
    ]
    if inf.window is not None:
        conditions.append(
            fill(
                "CAST({ts} AS TIMESTAMP) BETWEEN {s} AND {e}",
                ts=qualified("b", ts),
                s=qualified("e", inf.window.start_col),
                e=qualified("e", inf.window.end_col),
            )
        )
    i = len(plan.effects)
    name = Sql(f"effect_{i}")
    plan.effects.append(
        fill(
            EFFECT,
            name=name,
            field=qualified("e", inf.map.field),
            order=qualified("e", eff.pk or inf.map.field),
            effect_table=table(eff.id),
            condition=join(conditions, Sql(" AND ")) if conditions else Sql("TRUE"),
        )
    )
    plan.effect_joins.append(fill(" LEFT JOIN {n} USING (__dg_rid)", n=name))
    plan.keys.append((Sql("NULL"), fill("({n}.__dg_factor IS NOT NULL)", n=name)))
    plan.m_row.append(fill("coalesce({n}.__dg_factor, {d})", n=name, d=double(inf.map.default)))
    return None


LIFT = """\
SELECT {key} AS influence, {stratum} AS stratum, count(*) AS n, avg(y) AS observed_mean, avg(m) AS declared_factor
FROM keyed GROUP BY GROUPING SETS ({sets}) ORDER BY influence, stratum"""
"Per influence and stratum of its key: the rows, their mean value and mean declared factor."


def modifier_lift(
    ctx: CheckContext,
    table_id: str,
    column: str,
    influences: list[Influence],
    ts: str,
    rows: Sql | None = None,
) -> Sql | str:
    """For a column scaled by the modifiers ``influences`` describe (each naming its timestamp;
    ``ts`` the rows' timestamp): per influence, the rows of each of its strata (the hour, dow
    or month of a seasonality, the quarter of a trend, inside or outside an effect), with
    their mean value and mean declared factor, the product of every influence's factor
    (:data:`LIFT`, through the check's own strata and factors), or why there is no such query.
    ``rows``: the relation read (default: the whole table)."""
    target = CompositeEffect(table=table_id, metric=column, influences=influences, timestamp=ts)
    plan = _plan(ctx, target, ts, volume=False)
    if isinstance(plan, str):
        return plan
    names = [Sql(f"k{i}") for i in range(len(plan.keys))]
    which = join((fill("WHEN grouping({k}) = 0 THEN {i}", k=k, i=lit(i)) for i, k in enumerate(names)), " ")
    value = join((fill("WHEN grouping({k}) = 0 THEN CAST({k} AS DOUBLE)", k=k) for k in names), " ")
    return fill(
        METRIC,
        table=rows or table(table_id),
        metric=ident(column),
        ts=ident(ts),
        effects=join(plan.effects, Sql("")),
        effect_joins=join(plan.effect_joins, Sql("")),
        row_keys=join(fill("{e} AS {k}", e=row, k=k) for (_, row), k in zip(plan.keys, names, strict=True)),
        row_m=join(plan.m_row, Sql(" * ")),
        key_names=join(names),
        summary=fill(
            LIFT,
            key=fill("CASE {w} END", w=which),
            stratum=fill("CASE {w} END", w=value),
            sets=join(fill("({k})", k=k) for k in names),
        ),
    )


def compile(ctx: CheckContext) -> Iterator[CheckSpec]:
    for target, source in entries(ctx.dataset, "composite_effect"):
        yield _compile_one(ctx, target, source)


def _compile_one(ctx: CheckContext, target: CompositeEffect, source: str) -> CheckSpec:
    volume = target.metric == "volume"
    ref = f"{target.table}.{target.metric}"
    node = ctx.node(target.table)
    if node is None:
        return not_compiled(KIND, CATEGORY, ref, source, f"no table {target.table!r} in the schema")
    ts_col = (
        ctx.column(target.table, target.timestamp) if target.timestamp else ctx.datetime_column(target.table)
    )
    tol = target.tolerance
    problem = None
    if ts_col is None:
        problem = "the table has no datetime column to stratify by; name one in timestamp"
    elif not volume and ctx.column(target.table, target.metric) is None:
        problem = f"table {target.table!r} has no column {target.metric!r}"
    elif tol.mae is None and tol.mape is None:
        problem = "the tolerance gives neither mae nor mape"
    if problem:
        return not_compiled(KIND, CATEGORY, ref, source, problem)
    assert ts_col is not None
    plan = _plan(ctx, target, ts_col.name, volume)
    if isinstance(plan, str):
        return not_compiled(KIND, CATEGORY, ref, source, plan)
    criteria = []
    if tol.mae is not None:
        criteria.append(
            fill(
                "avg(abs(observed_lift - expected_lift)) FILTER (WHERE expected_rows >= {n}) <= {t}",
                n=lit(MIN_EXPECTED_ROWS),
                t=double(tol.mae),
            )
        )
    if tol.mape is not None:
        criteria.append(
            fill(
                "coalesce(avg(abs(observed_lift - expected_lift) / expected_lift)"
                " FILTER (WHERE expected_rows >= {n} AND expected_lift > 0), 0) <= {t}",
                n=lit(MIN_EXPECTED_ROWS),
                t=double(tol.mape),
            )
        )
    summary = fill(
        SUMMARY,
        min_rows=lit(MIN_EXPECTED_ROWS),
        tol_mae=double(tol.mae) if tol.mae is not None else lit(None),
        tol_mape=double(tol.mape) if tol.mape is not None else lit(None),
        criteria=join(criteria, Sql(" AND ")),
    )
    names = [Sql(f"k{i}") for i in range(len(plan.keys))]
    row_keys = join(fill("{e} AS {k}", e=row, k=k) for (_, row), k in zip(plan.keys, names, strict=True))
    if volume:
        grid = column_grid(ctx.dataset, ts_col)
        tf = ctx.dataset.timeframe
        if grid is None and tf is not None:
            grid = Grid(tf.start, tf.end, tf.freq)
        if grid is None:
            return not_compiled(
                KIND, CATEGORY, ref, source, "exposure needs a grid: give the schema a timeframe"
            )
        sql = fill(
            VOLUME,
            grid=grid_sql(grid),
            grid_keys=join(fill("{e} AS {k}", e=g, k=k) for (g, _), k in zip(plan.keys, names, strict=True)),
            grid_m=join(plan.m_grid, Sql(" * ")),
            row_keys=row_keys,
            table=table(target.table),
            ts=ident(ts_col.name),
            key_names=join(names),
            summary=summary,
        )
    else:
        sql = fill(
            METRIC,
            table=table(target.table),
            metric=ident(target.metric),
            ts=ident(ts_col.name),
            effects=join(plan.effects, Sql("")),
            effect_joins=join(plan.effect_joins, Sql("")),
            row_keys=row_keys,
            row_m=join(plan.m_row, Sql(" * ")) if plan.m_row else Sql("1.0"),
            key_names=join(names),
            summary=summary,
        )
    expect: dict[str, Any] = {
        "metric": target.metric,
        "influences": [i.kind + (f":{i.dimension}" if i.dimension else "") for i in target.influences],
        "mae": tol.mae,
        "mape": tol.mape,
    }
    return compiled(KIND, CATEGORY, ref, sql=sql, mode="stat", source=source, expect=expect)
