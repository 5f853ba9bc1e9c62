"""``datetime_series``: a point of the grid ``start, start+freq, …, <= end``.

Unweighted, the point is arithmetic on one uniform. With hour/dow/month patterns
(``pattern``, ``patterns``, and ``seasonality`` modifiers on the same column,
which multiply), each grid point's weight is the product of its factors; the
grid is materialised once with cumulative weights and the row's uniform picks a
point by an ASOF join (inverse CDF). Zero-weight points are never drawn.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from dgsql.compiler import names
from dgsql.compiler import schema as S
from dgsql.compiler.context import ColumnContext, Fragment, Join, epoch_us
from dgsql.compiler.sqltext import ident, list_of, lit

UNIT_US = {"S": 1, "T": 60, "min": 60, "H": 3600, "h": 3600, "D": 86400, "W": 7 * 86400}
GRID_LIMIT = 50_000_000
"Largest weighted grid (points) that is materialised."
CUMULATIVE = (
    "CASE WHEN lead(w) OVER (ORDER BY {order}) IS NULL THEN 1.0 "
    "ELSE sum(w) OVER (ORDER BY {order}) / sum(w) OVER () END"
)
"Cumulative share of weight ``w`` in ``order``; exactly 1.0 on the last row, so every u < 1 matches."
DIMENSION_SQL = {"hour": "hour({ts}) + 1", "dow": "isodow({ts})", "month": "month({ts})"}


@dataclass(frozen=True)
class Grid:
    first: datetime
    points: int
    step_us: int | None
    "Microseconds between points; None for month grids."
    months: int

    def point(self, k: str) -> str:
        """SQL timestamp of grid point ``k`` (a 0-based BIGINT expression)."""
        if self.step_us is None:
            return f"({lit(self.first)} + to_months({lit(self.months)} * {k}))"
        return f"make_timestamp({lit(epoch_us(self.first))} + {lit(self.step_us)} * {k})"


def parse_freq(freq: str) -> tuple[int, str]:
    m = S.FREQ_RE.match(freq)
    assert m, freq
    return int(m["mult"] or 1), m["unit"]


def grid(span: S.Span, freq: str) -> Grid:
    mult, unit = parse_freq(freq)
    if unit in ("M", "MS"):
        first = span.start.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        if first < span.start:
            first = first.replace(year=first.year + first.month // 12, month=first.month % 12 + 1)
        months = (span.end.year - first.year) * 12 + span.end.month - first.month
        points = 0 if first > span.end else months // mult + 1
        return Grid(first, points, None, mult)
    step_us = mult * UNIT_US[unit] * 1_000_000
    points = (epoch_us(span.end) - epoch_us(span.start)) // step_us + 1
    return Grid(span.start, points, step_us, 0)


def span_of(spec: S.DatetimeSeriesSpec, ctx: ColumnContext) -> S.Span:
    return ctx.timeframe() if spec.within == "timeframe" else spec.within  # type: ignore[return-value]


def span_of_dataset(spec: S.DatetimeSeriesSpec, ds: S.Dataset) -> S.Span:
    return ds.timeframe if spec.within == "timeframe" else spec.within  # type: ignore[return-value]


def patterns_of(spec: S.DatetimeSeriesSpec, column: S.Column) -> list[S.Pattern]:
    found = ([spec.pattern] if spec.pattern else []) + list(spec.patterns or [])
    found += [
        S.Pattern(dimension=m.args.dimension, weights=m.args.weights)
        for m in column.modifiers
        if m.transform == "seasonality"
    ]
    return found


def dependencies(spec: S.DatetimeSeriesSpec, column: S.Column, node: S.Node) -> list[str]:
    return []


def weight_sql(patterns: list[S.Pattern], ts: str) -> str:
    factors = [
        f"({list_of(p.weights, 'DOUBLE')})[{DIMENSION_SQL[p.dimension].format(ts=ts)}]" for p in patterns
    ]
    return " * ".join(factors)


def render(spec: S.DatetimeSeriesSpec, ctx: ColumnContext) -> Fragment:
    span = span_of(spec, ctx)
    freq = spec.freq or ctx.timeframe().freq
    g = grid(span, freq)
    if g.points <= 0:
        raise ctx.error("the span holds no grid point; widen within or use a finer freq", ".generator")
    patterns = patterns_of(spec, ctx.column)
    if not patterns:
        return Fragment(g.point(f"floor({ctx.uniform()} * {lit(g.points)})::BIGINT"))
    if g.points > GRID_LIMIT:
        raise ctx.error(
            f"a weighted grid of {g.points:,} points is too large (limit {GRID_LIMIT:,}); use a coarser freq",
            ".generator",
        )
    table = ident(names.grid_table(ctx.node.id, ctx.column.name))
    ts = ident("ts")
    ctx.table.add_prelude(
        f"CREATE OR REPLACE TEMP TABLE {table} AS\n"
        f"WITH points AS (SELECT {g.point('range')} AS ts FROM range({lit(g.points)})),\n"
        f"weighted AS (SELECT ts, {weight_sql(patterns, ts)} AS w FROM points)\n"
        f"SELECT ts, {CUMULATIVE.format(order='ts')} AS cum FROM weighted WHERE w > 0"
    )
    alias = ctx.alias()
    return Fragment(f"{alias}.ts", Join(table, alias, f"{ctx.uniform()} < {alias}.cum", "ASOF LEFT"))
