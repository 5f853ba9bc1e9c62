"""``datetime_series``: a point of the grid ``start, start+freq, …, <= end`` (``dgsql.dsl.time``
defines it, for the checks as well).

Unweighted, the point is arithmetic on one uniform. With hour/dow/month patterns
(``pattern``, ``patterns``, and ``seasonality`` modifiers on the same column,
which multiply), each grid point's weight is the product of its factors; the
weight factors by day (dow, month) and by time of day (hour) when the grid is whole
days with the same points each day: then the day and the point within the day are
two independent weighted picks, arithmetic with no join (see ``calendar``). Any other
grid is materialised once with cumulative weights and split into equal-probability
buckets; the row's uniform picks its bucket by an equi-join and one comparison picks
the point: an exact inverse CDF (see ``bucket_count``). Grids whose weights are too
uneven for buckets fall back to an ASOF join. Zero-weight points are never drawn.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise

from dgsql.compiler import names
from dgsql.compiler.context import ColumnContext, Fragment, Join, epoch_us
from dgsql.compiler.kind import GeneratorKind, Place, Site
from dgsql.compiler.sqltext import ident, list_of, lit
from dgsql.compiler.templates import template
from dgsql.compiler.weights import CUMULATIVE, weighted_pick
from dgsql.dsl import model as S
from dgsql.dsl.problems import Problem, warning
from dgsql.dsl.time import (
    Grid,
    Weights,
    grid,
    pattern_index,
    series_freq,
    series_grid,
    series_patterns,
    series_span,
)

GRID_LIMIT = 50_000_000
"Largest weighted grid (points) that is materialised."
BUCKET_LIMIT = 20_000_000
"Most equal-probability buckets of a weighted grid; beyond, an ASOF join (and a sort) picks."
DAY_US = 86_400_000_000
HOUR_US = 3_600_000_000
DAY_PICK_LIMIT = 3_660
"Most days (ten years) weighted by dow/month that are picked from alias lists in the SQL."

DIMENSION_SQL = {"hour": "hour({ts}) + 1", "dow": "isodow({ts})", "month": "month({ts})"}
"1-based index into a pattern's weights (``dgsql.dsl.time.pattern_index`` + 1) of a SQL timestamp."


def point_sql(g: Grid, k: str) -> str:
    """SQL timestamp of grid point ``k`` (a 0-based BIGINT expression)."""
    if g.step_us is None:
        return f"({lit(g.first)} + to_months({lit(g.months)} * {k}))"
    return f"make_timestamp({lit(epoch_us(g.first))} + {lit(g.step_us)} * {k})"


def problems(spec: S.DatetimeSeriesSpec, column: S.Column, ds: S.Dataset, path: str) -> list[Problem]:
    """Every problem of a ``datetime_series`` in the column at JSON ``path`` (errors and warnings):
    render() does not fail on a spec with no error here."""
    where = f"{path}.generator.datetime_series"
    span, freq = series_span(spec, ds), series_freq(spec, ds)
    if span is None:
        return [Problem(f"{where}.within", "uses the timeframe but the schema has none; add a timeframe.")]
    if freq is None:
        return [Problem(f"{where}.freq", "no freq and no timeframe to take it from; give a freq.")]
    g = grid(span, freq)
    if g.points <= 0:
        return [Problem(where, "the span holds no grid point; widen within or use a finer freq.")]
    found = []
    if g.points == 1:
        found.append(warning(where, "the span holds one grid point; use a finer freq."))
    patterns = series_patterns(spec, column)
    if patterns and g.points > GRID_LIMIT:
        found.append(
            Problem(
                where,
                f"a weighted grid of {g.points:,} points is finer than dgsql materialises "
                f"(limit {GRID_LIMIT:,}); use a coarser freq.",
            )
        )
    elif patterns and calendar(g, patterns) is None and bucket_count(g.points, patterns) is None:
        found.append(
            warning(
                where,
                f"{g.points:,} weighted grid points with very uneven weights are picked by an ASOF join "
                "and a sort (slower); use a coarser freq or milder weights.",
            )
        )
    return found


def weight_sql(patterns: list[Weights], ts: str) -> str:
    factors = [
        f"({list_of(p.weights, 'DOUBLE')})[{DIMENSION_SQL[p.dimension].format(ts=ts)}]" for p in patterns
    ]
    return " * ".join(factors)


def render(spec: S.DatetimeSeriesSpec, ctx: ColumnContext) -> Fragment:
    g = series_grid(spec, ctx.dataset)
    assert g is not None and g.points > 0, "problems() reports a series without grid points"
    patterns = series_patterns(spec, ctx.column)
    if not patterns:
        return Fragment(point_sql(g, f"floor({ctx.uniform()} * {lit(g.points)})::BIGINT"))
    cal = calendar(g, patterns)
    if cal is not None:
        return Fragment(_calendar_pick(g, cal, ctx))
    return _grid_pick(g, patterns, ctx, ctx.uniform())


def _grid_pick(
    g: Grid, patterns: list[Weights], ctx: ColumnContext, u: str, after: Join | None = None
) -> Fragment:
    """The point whose cumulative share of the weighted grid holds ``u``, picked from the grid
    materialised once (``after``: a join ``u`` reads, made first)."""
    assert g.points <= GRID_LIMIT, "problems() reports weighted grids above GRID_LIMIT"
    table = ident(names.grid_table(ctx.node.id, ctx.column.name))
    buckets = bucket_count(g.points, patterns)
    ctx.table.add_helper(table, _grid_query(g, patterns, buckets=buckets))
    alias = ctx.alias()
    joins = (after,) if after is not None else ()
    if buckets is None:
        return Fragment(f"{alias}.ts", *joins, Join(table, alias, f"{u} < {alias}.hi", "ASOF LEFT"))
    pick = f"CASE WHEN {u} < {alias}.first_hi THEN {alias}.first_ts ELSE {alias}.last_ts END"
    bucket = (
        f"least(floor({u} * {buckets})::BIGINT, {lit(buckets - 1)})"
        if after
        else f"floor({u} * {buckets})::BIGINT"
    )
    return Fragment(pick, *joins, Join(table, alias, f"{alias}.bucket = {bucket}"))


def _grid_query(g: Grid, patterns: list[Weights], buckets: int | None = None, starts: bool = False) -> str:
    return template("weighted_grid.sql.j2").render(
        point=point_sql(g, "range"),
        points=g.points,
        weight=weight_sql(patterns, ident("ts")),
        cumulative=CUMULATIVE.format(order="k"),
        buckets=buckets,
        starts=starts,
    )


def first_after(g: Grid, bound: str, strict: bool) -> str:
    """The 0-based index of the first grid point above ``bound`` (or equal to it, unless
    ``strict``), maybe past the last point; 0 for a NULL bound."""
    b = f"CAST({bound} AS TIMESTAMP)"
    if g.step_us is not None:
        d = f"(epoch_us({b}) - {lit(epoch_us(g.first))})"
        if strict:
            k = f"CASE WHEN {d} < 0 THEN 0 ELSE {d} // {lit(g.step_us)} + 1 END"
        else:
            k = f"CASE WHEN {d} <= 0 THEN 0 ELSE ({d} - 1) // {lit(g.step_us)} + 1 END"
        return f"coalesce({k}, 0)"
    # monthly: point k lies in month first + k * months; the points before the bound's month
    # are below it, the ones after above it, and one point may share its month
    months = f"((year({b}) - {lit(g.first.year)}) * 12 + month({b}) - {lit(g.first.month)})"
    k = f"({months} // {lit(g.months)})"
    op = "<=" if strict else "<"
    return f"coalesce(CASE WHEN {months} < 0 THEN 0 ELSE {k} + ({point_sql(g, k)} {op} {b})::BIGINT END, 0)"


def truncated(spec: S.DatetimeSeriesSpec, ctx: ColumnContext, bound: str, strict: bool) -> Fragment:
    """The declared pick restricted to the grid points after ``bound``: the same weights over
    the points left, by inverse CDF (the row's uniform moved into the cumulative share left);
    when no point is left, the first grid point after the bound, past the span."""
    g = series_grid(spec, ctx.dataset)
    assert g is not None and g.points > 0, "problems() reports a series without grid points"
    patterns = series_patterns(spec, ctx.column)
    first = first_after(g, bound, strict)
    k0 = ctx.let(first)
    if not patterns:
        left = f"greatest({lit(g.points)} - {k0}, 0)"
        return Fragment(point_sql(g, f"({k0} + floor({ctx.uniform()} * {left})::BIGINT)"))
    cal = calendar(g, patterns)
    if cal is not None:
        pick = _calendar_truncated(g, cal, ctx, k0)
        return Fragment(
            f"CASE WHEN {k0} >= {lit(g.points)} THEN {point_sql(g, k0)} ELSE {pick.sql} END", *pick.joins
        )
    starts = ident(names.grid_starts_table(ctx.node.id, ctx.column.name))
    ctx.table.add_helper(starts, _grid_query(g, patterns, starts=True))
    alias = ctx.alias()
    start = Join(starts, alias, f"{alias}.k = {k0}")
    u = f"({alias}.lo + {ctx.uniform()} * (1 - {alias}.lo))"
    pick = _grid_pick(g, patterns, ctx, u, start)
    return Fragment(
        f"CASE WHEN {k0} >= {lit(g.points)} THEN {point_sql(g, k0)} ELSE {pick.sql} END", *pick.joins
    )


@dataclass(frozen=True)
class Calendar:
    """A weighted grid of whole days as two independent picks (see :func:`calendar`)."""

    days: list[float]
    "Weight of each day (dow and month factors)."
    slots: list[float]
    "Weight of each point of a day (hour factor), or of each hour when ``per_hour`` > 1."
    per_hour: int
    "Points per hour, picked uniformly within the hour; 1 when ``slots`` are the points."


def calendar(g: Grid, patterns: list[Weights]) -> Calendar | None:
    """The grid's weighted pick as a day and a point of the day, or None.

    It applies when the grid is whole days that each hold the same points, all on the
    day's date: the step divides a day, the first point lies within the first step after
    midnight, and the points fill the last day. A point's weight is then its day's factor
    (dow, month) times its time of day's (hour): a product, so picking the day by the
    first and the point of the day by the second is the same distribution. Points of a
    day are picked directly when there are at most 24 of them; else the hour, then a
    point of the hour uniformly (the step must divide an hour). Days carry their weights
    in alias lists, so at most ``DAY_PICK_LIMIT`` weighted days.
    """
    if g.step_us is None or DAY_US % g.step_us:
        return None
    per_day = DAY_US // g.step_us
    if epoch_us(g.first) % DAY_US >= g.step_us or g.points % per_day:
        return None
    days = g.points // per_day
    dated = [p for p in patterns if p.dimension != "hour"]
    if dated and days > DAY_PICK_LIMIT:
        return None
    hours = [p for p in patterns if p.dimension == "hour"]
    if per_day <= 24:
        step = timedelta(microseconds=g.step_us)
        slots, per_hour = [_factor(hours, g.first + j * step) for j in range(per_day)], 1
    elif HOUR_US % g.step_us == 0:
        slots, per_hour = [_factor(hours, g.first.replace(hour=h)) for h in range(24)], HOUR_US // g.step_us
    else:
        return None
    day_weights = (
        [_factor(dated, g.first + timedelta(days=d)) for d in range(days)] if dated else [1.0] * days
    )
    if sum(day_weights) <= 0 or sum(slots) <= 0:
        return None
    return Calendar(day_weights, slots, per_hour)


@dataclass(frozen=True)
class Inverse:
    """An inverse-CDF pick over ``weights`` from lists: ``cum`` the cumulative shares (``cum[0]``
    = 0, the last exactly 1), and per equal-probability bucket of [0, 1) the first and last
    index whose interval it overlaps. With buckets at least twice as many as the entries times
    the ratio of the largest weight to the smallest positive one, every positive interval spans
    two buckets or more, so a bucket overlaps two intervals at most and one comparison picks
    (as :func:`bucket_count` for a materialised grid)."""

    cum: list[float]
    first: list[int]
    last: list[int]

    @classmethod
    def of(cls, weights: list[float]) -> Inverse:
        total = sum(weights)
        cum = [0.0]
        for w in weights:
            cum.append(cum[-1] + w / total)
        cum[-1] = 1.0
        positive = [w for w in weights if w > 0]
        buckets = 2 * math.ceil(len(weights) * max(positive) / min(positive))
        first = [bisect.bisect_right(cum, b / buckets) - 1 for b in range(buckets)]
        last = [bisect.bisect_left(cum, (b + 1) / buckets) - 1 for b in range(buckets)]
        return cls(cum, first, last)

    def columns(self, name: str) -> list[str]:
        """The lists as the columns ``<name>_cum``, ``<name>_first``, ``<name>_last`` of a SELECT."""
        return [
            f"{list_of(self.cum, 'DOUBLE')} AS {name}_cum",
            f"{list_of(self.first, 'BIGINT')} AS {name}_first",
            f"{list_of(self.last, 'BIGINT')} AS {name}_last",
        ]

    @staticmethod
    def pick(u: str, lists: str) -> str:
        """The 0-based index whose interval holds ``u`` (0 <= u < 1), from the lists ``lists``
        names (``alias.day`` for the columns ``day_cum``… of the relation ``alias``)."""
        return f"dg_inverse({u}, {lists}_cum, {lists}_first, {lists}_last)"


BELOW_ONE = "nextafter(1.0, 0.0)"
"The largest double below 1: a uniform moved into a share left stays below 1."


def _calendar_truncated(g: Grid, cal: Calendar, ctx: ColumnContext, k0: str) -> Fragment:
    """The calendar's pick restricted to the points from ``k0`` on (k0 < points), by inverse CDF.

    The row's uniform is moved above the share of the weight before k0 (the days before its
    day, plus its day's share times the share of the day's weight before k0), then inverted
    step by step: into a day; its place within the day's share into the point (or hour) of
    the day; for points finer than an hour, its place within the hour's share into the point
    of the hour. Every step is the inverse CDF of the declared law given the steps before, so
    the point follows the declared weights restricted to the points from k0 on. Each step is
    a shared per-row value (one CTE each). The lists are the columns of a one-row table joined
    where they are read (a constant list costs a row more the longer it is; a joined one does
    not: measured, 8,000 entries 60 ns against 3 ns a lookup)."""
    assert g.step_us is not None
    per_day, per_hour = DAY_US // g.step_us, cal.per_hour
    table = ident(names.calendar_table(ctx.node.id, ctx.column.name))
    days, slots = Inverse.of(cal.days), Inverse.of(cal.slots)
    ctx.table.add_helper(table, "SELECT " + ", ".join([*days.columns("day"), *slots.columns("slot")]))
    lists = ctx.let_join(Join(table, ctx.alias(), "TRUE", kind="INNER", one_row=True))
    day_cum, slot_cum = f"{lists}.day_cum", f"{lists}.slot_cum"
    d0 = ctx.let(f"{k0} // {lit(per_day)}")
    h0 = ctx.let(f"{k0} % {lit(per_day)} // {lit(per_hour)}" if per_hour > 1 else f"{k0} % {lit(per_day)}")
    within = f"{slot_cum}[{h0} + 1]"
    if per_hour > 1:
        m0 = ctx.let(f"{k0} % {lit(per_hour)}")
        within += f" + ({slot_cum}[{h0} + 2] - {slot_cum}[{h0} + 1]) * {m0} / {lit(per_hour)}"
    before = f"({day_cum}[{d0} + 1] + ({day_cum}[{d0} + 2] - {day_cum}[{d0} + 1]) * ({within}))"
    u = ctx.let(f"least({before} + {ctx.uniform()} * (1 - {before}), {BELOW_ONE})")
    day = ctx.let(_inverse(u, days, f"{lists}.day"))
    v = ctx.let(_place(u, day_cum, day))
    slot = ctx.let(_inverse(v, slots, f"{lists}.slot"))
    if per_hour > 1:
        point = ctx.let(
            f"least(floor({_place(v, slot_cum, slot)} * {lit(per_hour)}), {lit(per_hour - 1)})::BIGINT"
        )
        slot = f"{slot} * {lit(per_hour)} + {point}"
    return Fragment(
        f"make_timestamp({lit(epoch_us(g.first))} + {lit(DAY_US)} * {day} + {lit(g.step_us)} * ({slot}))"
    )


def _inverse(u: str, inverse: Inverse, lists: str) -> str:
    """The index whose interval of ``inverse.cum`` holds ``u``: arithmetic when the weights are equal."""
    n = len(inverse.cum) - 1
    if all(math.isclose(b - a, 1 / n) for a, b in pairwise(inverse.cum)):
        return f"least(floor({u} * {lit(n)}), {lit(n - 1)})::BIGINT"
    return Inverse.pick(u, lists)


def _place(u: str, cum: str, index: str) -> str:
    """Where ``u`` lies within the interval ``index`` of the cumulative list ``cum``, in [0, 1)."""
    return f"least(({u} - {cum}[{index} + 1]) / ({cum}[{index} + 2] - {cum}[{index} + 1]), {BELOW_ONE})"


def _calendar_pick(g: Grid, cal: Calendar, ctx: ColumnContext) -> str:
    assert g.step_us is not None
    day = _pick(ctx.uniform(), cal.days)
    slot = _pick(ctx.uniform("slot"), cal.slots)
    if cal.per_hour > 1:
        within = f"floor({ctx.uniform('minute')} * {lit(cal.per_hour)})::BIGINT"
        slot = f"{slot} * {lit(cal.per_hour)} + {within}"
    return f"make_timestamp({lit(epoch_us(g.first))} + {lit(DAY_US)} * {day} + {lit(g.step_us)} * ({slot}))"


def _factor(patterns: list[Weights], ts: datetime) -> float:
    """The product of the patterns' weights at ``ts``."""
    return math.prod(p.weights[pattern_index(p.dimension, ts)] for p in patterns)


def _pick(u: str, weights: list[float]) -> str:
    """A 0-based index drawn with ``weights``: arithmetic when they are all equal."""
    if len(set(weights)) == 1:
        return f"floor({u} * {lit(len(weights))})::BIGINT"
    return weighted_pick(u, [lit(i) for i in range(len(weights))], weights, "BIGINT")


def bucket_count(points: int, patterns: list[Weights]) -> int | None:
    """Equal-probability buckets for an exact inverse-CDF pick by equi-join, or None when too many.

    With B >= points * (max weight / min positive weight), every grid point spans at least
    one bucket, so a bucket overlaps at most two points and one comparison picks exactly;
    doubled for a margin against rounding.
    """
    ratio = 1.0
    for p in patterns:
        positive = [w for w in p.weights if w > 0]
        ratio *= max(positive) / min(positive)
    buckets = 2 * math.ceil(points * ratio)
    return buckets if buckets <= BUCKET_LIMIT else None


# ----------------------------------------------------------------- the kind


class DatetimeSeries(GeneratorKind):
    key = "datetime_series"
    types = ("datetime", "date", "string")

    def check(self, spec: S.DatetimeSeriesSpec, site: Site) -> None:
        site.refs.problems.extend(problems(spec, site.column, site.ds, site.path))

    def capacity(
        self, spec: S.DatetimeSeriesSpec, column: S.Column, ds: S.Dataset, expected: Mapping[str, float]
    ) -> float:
        g = series_grid(spec, ds)
        return math.inf if column.modifiers or g is None else g.points

    def value_range(
        self, spec: S.DatetimeSeriesSpec, column: S.Column, ds: S.Dataset
    ) -> tuple[float, float] | None:
        span = series_span(spec, ds)
        return None if span is None else (span.start.timestamp(), span.end.timestamp())

    def pure(self, spec: S.DatetimeSeriesSpec, place: Place) -> bool:
        return not series_patterns(spec, place.column)

    def joins(self, spec: S.DatetimeSeriesSpec, place: Place) -> bool:
        """A weighted grid that is not a calendar is picked by a join on its cumulative weights
        (a calendar drawn after a bound joins a one-row table, which keeps the rows' order)."""
        patterns = series_patterns(spec, place.column)
        g = series_grid(spec, place.ds)
        if not patterns or g is None:
            return False
        return calendar(g, patterns) is None

    def render(self, spec: S.DatetimeSeriesSpec, ctx: ColumnContext) -> Fragment:
        return render(spec, ctx)

    def truncated(self, spec: S.DatetimeSeriesSpec, ctx: ColumnContext, bound: str, strict: bool) -> Fragment:
        return truncated(spec, ctx, bound, strict)
