"""What the report measures: aggregates over the build's tables, computed in DuckDB, beside what
the schema declares.

Each table costs one scan of the columns charted, however many they are: a first query over the
table's first :data:`HEAD` rows finds each numeric column's range and each text column's
candidate top values (cheap), then one query over the rows charted (all of them, or the first
:data:`CHART_ROWS`) takes every histogram, binned with those ranges (DuckDB's ``histogram``
aggregate returns one map per column), every category count and the exact counts of the
candidates. Fanouts (children per parent), a column's lifts per stratum of its time modifiers
(seasonality, trend, effect), the expected shares of a datetime column (over its grid, through
the ``datetime_shape`` check's own SQL), an outlier rate (the ``outlier_share`` check's query),
the declared shares of a ``choices_ref`` column and a cross-table inequality's margin are one
query each; segment, vintage and funnel charts come from :mod:`dgsql.report.behaviour`. No row
leaves DuckDB: only aggregates do.

A chart's column or table is a :class:`Probe`; a query that fails (a column missing from the
file, say) becomes a note on its column, and the rest of the report goes on.
"""

from __future__ import annotations

import math
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import duckdb

from dgsql.compiler import behaviours, funnel
from dgsql.compiler.checks import choice_shares, composite_effect, datetime_shape, inequality, outlier_share
from dgsql.compiler.checks import value_model as vm
from dgsql.compiler.checks.datetime_shape import EPOCH_HOURS
from dgsql.compiler.checks.fanout import parent_link
from dgsql.compiler.checks.fanout_distribution import clamped_pmf
from dgsql.compiler.checks.grid import column_grid
from dgsql.compiler.checks.spec import CheckContext
from dgsql.compiler.checks.views import table
from dgsql.compiler.dag import order_tables, reads
from dgsql.compiler.linked import crossings
from dgsql.compiler.modifiers import effect, seasonality, trend
from dgsql.compiler.sqltext import Sql, double, fill, ident, join, lit, qualified, typed_lit
from dgsql.dsl.laws import kind_weights
from dgsql.dsl.model import (
    ChoiceGen,
    Column,
    Dataset,
    DatetimeSeriesGen,
    EnumListGen,
    ExpressionGen,
    FakerGen,
    Influence,
    LookupGen,
    Node,
    SequenceGen,
    TrendParams,
    generator_kind,
    parse_weights_kind,
)
from dgsql.dsl.time import pattern_index, series_patterns
from dgsql.errors import SchemaError
from dgsql.options import CHART_ROWS
from dgsql.report.behaviour import FIRST_ROWS, behaviour_charts, first_parents
from dgsql.report.charts import (
    Bars,
    Chart,
    Gauge,
    Graph,
    Histogram,
    clamped,
    describe,
    expected_counts,
    law_cdf,
)
from dgsql.runtime.report import CheckResult, Report

BINS = 40
"Bins of a histogram."
VALUE_BINS = 60
"An int column spanning at most this many values gets one bin per value."
TOP = 10
"Top values shown for text columns."
MAX_CATEGORIES = 30
"Categories shown on one chart; the rest are summed into one bar."
TAIL = (0.001, 0.999)
"A histogram spans these quantiles when the extremes lie far beyond them (outliers, long tails)."
DIMENSION_LABELS = {
    "hour": [str(h) for h in range(24)],
    "dow": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
    "month": ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
}
NUMBERS = ("int", "float")
TIMES = ("datetime", "date")

HEAD = 200_000
"Rows of a table's head, where ranges and candidate top values are found."
# CHART_ROWS (dgsql.options): charts of a larger table read its first this many rows (the
# checks read every row): a share measured on a million rows is within ±0.1 % of the whole
# table's, and the report then costs the same at 10M or 100M rows. A fact's children are
# counted for the parents whose children make about this many rows.
FULL = "SELECT {aggregates} FROM {table}"
HEAD_QUERY = "SELECT {aggregates} FROM (SELECT * FROM {table} LIMIT {n}) AS head"
EPOCH = datetime(1970, 1, 1)
BINNED = "CAST(least(floor(({x} - {lo}) / {width}), {last}) AS INTEGER)"
DECLARED_SHARES = """\
SELECT CAST(v AS VARCHAR) AS v, sum(CAST(w AS DOUBLE)) AS w FROM ({rows}) AS declared
WHERE v IS NOT NULL GROUP BY ALL ORDER BY w DESC, v"""
"The declared weight of each value of a choice column (as text), heaviest first."
FANOUT = """\
SELECT n AS children, count(*) AS parents
FROM (SELECT {fk}, count(*) AS n FROM {fact} WHERE {fk} IS NOT NULL GROUP BY {fk}) AS per_parent
GROUP BY n ORDER BY n"""


# ------------------------------------------------------------------ views


@dataclass
class ColumnView:
    """One written column: what the schema declares, what the data shows, the charts."""

    table: str
    name: str
    type: str
    generator: str
    declared: str
    observed: list[str] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    "Declared properties the report could not chart, and why."


@dataclass
class TableView:
    id: str
    kind: str
    rows: int | None
    columns: list[ColumnView] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    "Table-level charts: children per parent, inequality margins."
    notes: list[str] = field(default_factory=list)
    charted_rows: int | None = None
    "The charts read the first this many rows (None: all of them)."


@dataclass
class Observation:
    tables: list[TableView]
    graph: Graph
    seconds: float = 0.0


# ----------------------------------------------------------------- probes


class Probe(ABC):
    """One chart's queries over a table: aggregates over the table's first :data:`HEAD` rows
    (cheap: ranges and candidate values), then aggregates over the rows charted knowing the head's
    values (both passes take every probe of the table at once), then any query of its own
    (:meth:`own`), then the charts, or notes saying why there are none."""

    def head(self) -> list[Sql]:
        return []

    def full(self, head: list[Any]) -> list[Sql]:
        return []

    def own(self, con: duckdb.DuckDBPyConnection) -> None:  # noqa: B027 - most probes have none
        """Run the probe's own queries (after the passes)."""

    @abstractmethod
    def charts(self, head: list[Any], full: list[Any]) -> list[Chart | str]:
        """The charts, from the passes' values (empty lists when a pass failed)."""


def _double(x: Sql) -> Sql:
    return fill("CAST({x} AS DOUBLE)", x=x)


@dataclass
class NumericProbe(Probe):
    """A histogram of ``x``; ``law`` the declared CDF (or None), ``marks`` vertical lines.

    The bins span the head's 0.1 % to 99.9 % quantiles, or its extremes when the tails are
    not far out (exact quantiles of all rows cost a sort: ``approx_quantile`` took 3 s per
    10M values, the head's exact ones 0.2 s); values past them are counted, not binned."""

    title: str
    x: Sql
    integer: bool
    law: Callable[[float], float] | None = None
    marks: list[tuple[float, str]] = field(default_factory=list)
    note: str = ""
    include: tuple[float, ...] = ()
    "Values the shown range always reaches (an inequality's 0)."
    edges: list[float] = field(default_factory=list)

    def head(self) -> list[Sql]:
        d = _double(self.x)
        return [
            fill("min({d})", d=d),
            fill("max({d})", d=d),
            fill("quantile_cont({d}, {q})", d=d, q=Sql(f"[{TAIL[0]}, {TAIL[1]}]")),
        ]

    def full(self, head: list[Any]) -> list[Sql]:
        mn, mx, q = head
        if mn is None or not (math.isfinite(mn) and math.isfinite(mx)):
            return []
        mn, mx = min((mn, *self.include)), max((mx, *self.include))
        if self.integer and mx - mn + 1 <= VALUE_BINS:
            self.edges = [math.floor(mn) - 0.5 + i for i in range(int(math.floor(mx) - math.floor(mn)) + 2)]
        else:
            lo, hi = mn, mx
            q0, q1 = q or (mn, mx)
            if q1 > q0 and (mx - mn) > 1.5 * (q1 - q0):
                lo, hi = min((q0, *self.include)), max((q1, *self.include))
            if hi <= lo:
                lo, hi = lo - 0.5, lo + 0.5
            self.edges = [lo + (hi - lo) * i / BINS for i in range(BINS + 1)]
        lo, hi = self.edges[0], self.edges[-1]
        d = _double(self.x)
        width = (hi - lo) / (len(self.edges) - 1)
        binned = fill(BINNED, x=d, lo=double(lo), width=double(width), last=lit(len(self.edges) - 2))
        inside = fill("{d} BETWEEN {lo} AND {hi}", d=d, lo=double(lo), hi=double(hi))
        return [
            fill("count({x})", x=self.x),
            fill("histogram({b}) FILTER (WHERE {w})", b=binned, w=inside),
            fill("count(*) FILTER (WHERE {d} < {lo})", d=d, lo=double(lo)),
            fill("count(*) FILTER (WHERE {d} > {hi})", d=d, hi=double(hi)),
        ]

    def charts(self, head: list[Any], full: list[Any]) -> list[Chart | str]:
        if not full:
            return []
        n, hist, below, above = full
        counts = [int((hist or {}).get(i, 0)) for i in range(len(self.edges) - 1)]
        notes = [self.note] if self.note else []
        if below or above:
            notes.append(f"{below:,} values below and {above:,} above the range shown")
        expected = expected_counts(self.law, self.edges, int(n)) if self.law is not None else None
        return [Histogram(self.title, self.edges, counts, expected, self.marks, "; ".join(notes))]


@dataclass
class CategoryProbe(Probe):
    """Shares of each value of ``x`` (as text) against ``declared`` shares (literal → share), or
    against the shares of ``declared_rows``, a query of ``(v, w)`` rows (value, weight: the
    ``choice_shares`` check's declaration of a ``choices_ref`` column), run by :meth:`own`."""

    title: str
    x: Sql
    declared: list[tuple[Sql, float]] = field(default_factory=list)
    declared_rows: Sql | None = None
    shares: dict[str, float] = field(default_factory=dict)
    "The declared share per value as text, once known."

    def full(self, head: list[Any]) -> list[Sql]:
        text = fill("CAST({x} AS VARCHAR)", x=self.x)
        labels = (
            join(fill("CAST({v} AS VARCHAR)", v=v) for v, _ in self.declared) if self.declared else Sql("")
        )
        return [
            fill("count({x})", x=self.x),
            fill("[{labels}]::VARCHAR[]", labels=labels),
            fill("histogram({t})", t=text),
        ]

    def own(self, con: duckdb.DuckDBPyConnection) -> None:
        if self.declared_rows is not None:
            rows = con.execute(fill(DECLARED_SHARES, rows=self.declared_rows)).fetchall()
            total = math.fsum(w for _, w in rows)
            self.shares = {v: w / total for v, w in rows} if total > 0 else {}

    def charts(self, head: list[Any], full: list[Any]) -> list[Chart | str]:
        if not full:
            return []
        n, labels, hist = full
        hist = hist or {}
        declared: dict[str, float] = dict(self.shares)
        for label, (_, share) in zip(labels, self.declared, strict=True):
            declared[label] = declared.get(label, 0.0) + share
        names = list(declared) + sorted((k for k in hist if k not in declared), key=lambda k: (-hist[k], k))
        observed = {k: (hist.get(k, 0) / n if n else 0.0) for k in names}
        if len(names) > MAX_CATEGORIES:
            keep = sorted(names, key=lambda k: -max(observed[k], declared.get(k, 0.0)))[: MAX_CATEGORIES - 1]
            rest = [k for k in names if k not in keep]
            names = [k for k in names if k in keep]
            observed["(other)"] = sum(observed[k] for k in rest)
            declared["(other)"] = sum(declared.get(k, 0.0) for k in rest)
            names.append("(other)")
        return [
            Bars(
                self.title,
                names,
                [observed[k] for k in names],
                [declared.get(k) for k in names] if declared else [],
            )
        ]


@dataclass
class TopProbe(Probe):
    """The most frequent values of ``x``: candidates and the distinct count from the head (a
    top-k or a distinct count over all rows of a 10M-row text column took 2–3 s), their shares
    counted exactly over the rows charted."""

    title: str
    x: Sql
    note: str = ""

    def head(self) -> list[Sql]:
        return [
            fill("count({x})", x=self.x),
            fill("approx_count_distinct({x})", x=self.x),
            fill("approx_top_k({x}, {k})", x=self.x, k=lit(TOP)),
        ]

    def full(self, head: list[Any]) -> list[Sql]:
        top = sorted({v for v in head[2] or [] if v is not None}, key=str)
        if not top:
            return []
        values = join(lit(v) for v in top)
        return [
            fill("count({x})", x=self.x),
            fill("histogram({x}) FILTER (WHERE {x} IN ({v}))", x=self.x, v=values),
        ]

    def charts(self, head: list[Any], full: list[Any]) -> list[Chart | str]:
        if not full or not full[0]:
            return []
        n, hist = full
        head_rows, distinct = head[0], head[1]
        counts = sorted((hist or {}).items(), key=lambda kv: (-kv[1], str(kv[0])))
        seen = f"about {distinct:,} distinct values in the first {head_rows:,} rows"
        note = "; ".join(x for x in (self.note, seen) if x)
        return [Bars(self.title, [str(k) for k, _ in counts], [c / n for _, c in counts], [], note=note)]


@dataclass
class TimeProbe(Probe):
    """Shares by hour, day of week and month of ``column`` against the expected shares.

    The data and the expectation are both counted per hour since the epoch
    (:data:`~dgsql.compiler.checks.datetime_shape.EPOCH_HOURS`), and hour, weekday and month are
    taken from it here: one aggregate per column where three ``histogram(hour(ts))``-like ones
    took 1.4 s per 10M rows against 0.8 s, and one expectation query instead of three."""

    column: str
    dims: list[str]
    expected: Sql | dict[int, float] | str = ""
    "The expected share per hour since the epoch, or the query giving it, or why there is none."

    def full(self, head: list[Any]) -> list[Sql]:
        ts = fill("CAST({c} AS TIMESTAMP)", c=ident(self.column))
        return [fill("count({c})", c=ident(self.column)), fill("histogram({h})", h=fill(EPOCH_HOURS, ts=ts))]

    def own(self, con: duckdb.DuckDBPyConnection) -> None:
        if isinstance(self.expected, Sql):
            self.expected = {
                int(v): float(x) for v, x in con.execute(self.expected).fetchall() if v is not None
            }

    def charts(self, head: list[Any], full: list[Any]) -> list[Chart | str]:
        if not full:
            return []
        n, hours = full
        observed = by_dimension(hours or {}, self.dims)
        declared = by_dimension(self.expected, self.dims) if isinstance(self.expected, dict) else None
        note = self.expected if isinstance(self.expected, str) and not isinstance(self.expected, Sql) else ""
        out: list[Chart | str] = []
        for i, dim in enumerate(self.dims):
            out.append(
                Bars(
                    f"{self.column} by {_DIM_NAMES[dim]}",
                    DIMENSION_LABELS[dim],
                    [c / n if n else 0.0 for c in observed[dim]],
                    list(declared[dim]) if declared is not None else [],
                    note=note if i == 0 else "",
                )
            )
        return out


def by_dimension(per_hour: dict[int, float], dims: Sequence[str]) -> dict[str, list[float]]:
    """Amounts per hour since the epoch summed per hour of day, day of week and month.

    >>> by_dimension({0: 1.0, 24 * 4 + 5: 2.0}, ["dow", "month"])  # a Thursday, then a Monday
    {'dow': [2.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0], 'month': [3.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]}
    >>> by_dimension({24 * 4 + 5: 2.0}, ["hour"])["hour"].index(2.0)
    5
    """
    totals = {dim: [0.0] * len(DIMENSION_LABELS[dim]) for dim in dims}
    for h, amount in per_hour.items():
        ts = EPOCH + timedelta(hours=h)
        for dim in dims:
            totals[dim][pattern_index(dim, ts)] += amount
    return totals


_DIM_NAMES = {"hour": "hour of day", "dow": "day of week", "month": "month"}


# ------------------------------------------------------------ per column


def _weights(col: Column) -> list[float] | None:
    gen = col.generator
    assert isinstance(gen, ChoiceGen)
    spec = gen.choice
    if spec.choices is None:
        return None
    if spec.weights is not None:
        w = spec.weights
    elif spec.weights_kind is not None:
        kind, params = parse_weights_kind(spec.weights_kind)
        w = kind_weights(kind, params, len(spec.choices))
    else:
        w = [1.0] * len(spec.choices)
    total = math.fsum(w)
    return [x / total for x in w]


def _value_modifiers(col: Column) -> list[str]:
    return [m.transform for m in col.modifiers if m.transform != "clamp"]


def column_probes(
    ctx: CheckContext,
    node: Node,
    col: Column,
    rows: Sql | None = None,
    results: Mapping[str, CheckResult] | None = None,
) -> tuple[ColumnView, list[Probe]]:
    """The view of one column (declared side filled in) and the probes that observe it; ``rows``
    the relation their own queries read (default: the whole table); ``results`` validate's
    results by check id, whose figures a chart shows without a query of its own."""
    kind = generator_kind(col.generator)
    spec = getattr(col.generator, kind)
    name = ident(col.name)
    title = col.name
    view = ColumnView(node.id, col.name, col.type, kind, "")
    probes: list[Probe] = []
    mods = [m.transform for m in col.modifiers]
    mod_text = f"; modifiers: {', '.join(mods)}" if mods else ""
    role = funnel.roles(node).get(col.name)
    if role is not None:
        view.declared = f"set by the funnel ({role})"
    if isinstance(col.generator, ChoiceGen):
        weights = _weights(col)
        if weights is not None and spec.choices is not None:
            view.declared = view.declared or f"choice of {len(spec.choices)} values{mod_text}"
            declared = [(typed_lit(v, col.type), w) for v, w in zip(spec.choices, weights, strict=True)]
            if role is not None:
                declared = []
                view.notes.append("declared shares omitted: the funnel sets the column")
            elif _value_modifiers(col):
                view.notes.append(
                    f"declared shares are the generator's; the {', '.join(_value_modifiers(col))} modifier changes them"
                )
            probes.append(CategoryProbe(f"{title}: shares", name, declared))
        else:
            view.declared = (
                view.declared
                or f"choice over {spec.choices_ref} ({spec.weights_kind or 'uniform'}){mod_text}"
            )
            rows_declared = (
                choice_shares.declared_shares(ctx, node, col) if role is None else "the funnel sets it"
            )
            if isinstance(rows_declared, Sql):
                probes.append(CategoryProbe(f"{title}: shares", name, declared_rows=rows_declared))
            else:
                view.notes.append(f"declared shares omitted: {rows_declared}")
                probes.append(TopProbe(f"{title}: top values", name))
    elif isinstance(col.generator, EnumListGen):
        values = spec.values
        view.declared = f"cycles {len(values)} values{mod_text}"
        probes.append(
            CategoryProbe(
                f"{title}: shares", name, [(typed_lit(v, col.type), 1 / len(values)) for v in values]
            )
        )
    elif (dist := vm.distribution(col)) is not None and col.type in NUMBERS:
        view.declared = view.declared or describe(dist) + mod_text
        law = None
        note = ""
        bounds = vm.support(col)
        marks = []
        if not isinstance(bounds, str):
            marks = [(b, name_) for b, name_ in zip(bounds, ("min", "max"), strict=True) if math.isfinite(b)]
        if _value_modifiers(col):
            note = f"declared curve omitted: the {', '.join(_value_modifiers(col))} modifier changes the law"
        elif behaviours.value_scaled(ctx.dataset, node, col.name):
            note = "declared curve omitted: a parent's segment or vintage scales the column"
        elif role is not None:
            note = "declared curve omitted: the funnel sets the column"
        elif not isinstance(bounds, str):
            law = clamped(law_cdf(dist, col.type == "int"), *bounds)
        probes.append(NumericProbe(f"{title}: histogram", name, col.type == "int", law, marks, note))
    elif isinstance(col.generator, DatetimeSeriesGen):
        patterns = series_patterns(spec, col)
        view.declared = view.declared or (
            "time grid"
            + (f" weighted by {', '.join(p.dimension for p in patterns)}" if patterns else "")
            + mod_text
        )
        probes.append(_time_probe(ctx, node, col, rows))
    elif isinstance(col.generator, SequenceGen):
        view.declared = f"sequence from {spec.start:g} step {spec.step:g}"
    elif isinstance(col.generator, LookupGen) and _reads_key(ctx.dataset, spec.from_):
        view.declared = f"key of {spec.from_}"
    else:
        if isinstance(col.generator, FakerGen):
            view.declared = f"faker {spec.method}" + (f" ({spec.locale})" if spec.locale else "") + mod_text
        elif isinstance(col.generator, ExpressionGen):
            view.declared = view.declared or f"expression {spec.code}"
        elif isinstance(col.generator, LookupGen):
            view.declared = f"value of {spec.from_}" + (" (joined)" if spec.on else "")
        if col.type in NUMBERS:
            probes.append(NumericProbe(f"{title}: histogram", name, col.type == "int"))
        elif col.type in TIMES:
            probes.append(_time_probe(ctx, node, col, rows))
        else:
            probes.append(TopProbe(f"{title}: top values", name))
    for extra in (_lift_probe(ctx, node, col, rows), _outlier_probe(ctx, node, col, results or {})):
        if isinstance(extra, str):
            view.notes.append(extra)
        elif extra is not None:
            probes.append(extra)
    return view, probes


def _reads_key(ds: Dataset, ref: str) -> bool:
    t, c = ds.split_ref(ref)
    return ds.node(t).pk == c or ref in ds.constraints.unique


def _time_probe(ctx: CheckContext, node: Node, col: Column, rows: Sql | None) -> TimeProbe:
    dims = ["dow", "month"]
    grid = column_grid(ctx.dataset, col)
    daily = grid is not None and grid.resolve().freq.unit in ("D", "W", "MS")
    if col.type == "datetime" and not daily:
        dims.insert(0, "hour")
    probe = TimeProbe(col.name, dims)
    if isinstance(col.generator, DatetimeSeriesGen):
        got = datetime_shape.expected_shares(ctx, node, col, rows)
        probe.expected = got if isinstance(got, Sql) else f"no declared shares: {got}"
    else:
        probe.expected = "observed only: no declared law for this column's times"
    return probe


@dataclass
class LiftProbe(Probe):
    """A column's mean per stratum of each time modifier (the hour, weekday or month of a
    ``seasonality``, the quarter of a ``trend``, inside or outside an ``effect``'s windows), as a
    lift over its overall mean, against the declared factors' lift: one query
    (:func:`dgsql.compiler.checks.composite_effect.modifier_lift`), the factor of each row the
    product of all the column's time modifiers, so each chart's expectation is exact whatever the
    others do."""

    column: str
    influences: list[Influence]
    sql: Sql
    start: datetime | None
    "The timeframe's start: a trend's quarters count from it."
    note: str = ""
    rows: list[tuple[Any, ...]] = field(default_factory=list)

    def own(self, con: duckdb.DuckDBPyConnection) -> None:
        self.rows = con.execute(self.sql).fetchall()

    def charts(self, head: list[Any], full: list[Any]) -> list[Chart | str]:
        out: list[Chart | str] = []
        for i, inf in enumerate(self.influences):
            strata = {k: (n, y, f) for j, k, n, y, f in self.rows if j == i and k is not None}
            out.append(self._chart(inf, strata))
        return out

    def _chart(self, inf: Influence, strata: dict[float, tuple[int, float, float]]) -> Chart | str:
        if inf.kind != "effect":  # as the check, strata of fewer rows are left out
            strata = {k: v for k, v in strata.items() if v[0] >= composite_effect.MIN_EXPECTED_ROWS}
        rows = sum(n for n, _, _ in strata.values())
        y_all = math.fsum(n * y for n, y, _ in strata.values()) / rows if rows else 0.0
        f_all = math.fsum(n * f for n, _, f in strata.values()) / rows if rows else 0.0
        if inf.kind == "effect":
            title = f"{self.column}: lift inside {inf.effect_table} windows"
            inside, outside = strata.get(1.0), strata.get(0.0)
            if inside is None or outside is None:
                return f"{title}: no rows {'inside' if inside is None else 'outside'} the windows"
            if not outside[1] or not outside[2]:
                return f"{title}: the mean outside the windows is 0"
            return Bars(
                title,
                ["outside", "inside"],
                [1.0, inside[1] / outside[1]],
                [1.0, inside[2] / outside[2]],
                shares=False,
                note=f"inside: {inside[0]:,} rows, outside: {outside[0]:,}; lift = mean inside / mean outside"
                + self.note,
            )
        if not y_all or not f_all:
            return f"{self.column}: the mean is 0, no lift to draw"
        if inf.kind == "seasonality":
            assert inf.dimension is not None
            keys: list[float] = [float(k) for k in range(len(DIMENSION_LABELS[inf.dimension]))]
            labels = DIMENSION_LABELS[inf.dimension]
            title = f"{self.column}: mean by {_DIM_NAMES[inf.dimension]} (seasonality)"
        else:
            keys = sorted(strata)
            start = self.start or EPOCH
            labels = [f"{start + timedelta(days=k * QUARTER_DAYS):%Y-%m}" for k in keys]
            title = f"{self.column}: mean by quarter ({inf.type} trend)"
        return Bars(
            title,
            labels,
            [strata[k][1] / y_all if k in strata else 0.0 for k in keys],
            [strata[k][2] / f_all if k in strata else None for k in keys],
            shares=False,
            note=f"mean per stratum / overall mean ({rows:,} rows); declared: the same of the modifiers' factors"
            + self.note,
        )


QUARTER_DAYS = 365.25 / 4
"A trend's stratum: a quarter of a year of 365.25 days, as the composite_effect check counts it."


def _lift_probe(ctx: CheckContext, node: Node, col: Column, rows: Sql | None) -> LiftProbe | str | None:
    """The lift chart of a numeric column's ``seasonality``, ``trend`` and ``effect`` modifiers."""
    if col.type not in NUMBERS:
        return None
    influences: list[Influence] = []
    ts: str | None = None
    for m in col.modifiers:
        args = m.args
        if m.transform == "seasonality":
            at = seasonality.time_column(args, col, node)
            influences.append(
                Influence(kind="seasonality", dimension=args.dimension, weights=args.weights, column=at)
            )
        elif m.transform == "trend":
            if args.type == "logarithmic" and args.params != TrendParams():
                return "trend not charted: the check models a logarithmic trend with the default params only"
            at = trend.time_column(args, col, node)
            influences.append(
                Influence(kind="trend", type=args.type, growth_rate=args.growth_rate, time_reference=at)
            )
        elif m.transform == "effect":
            at = effect.time_column(args, col, node) if args.window else node.first_datetime(exclude=col.name)
            if at is None:
                return "effect lift not charted: the table has no datetime column"
            influences.append(
                Influence(
                    column=at,
                    kind="effect",
                    effect_table=args.effect_table,
                    on=args.on or None,
                    window=args.window,
                    map=args.map,
                )
            )
        else:
            continue
        ts = ts or at
    if not influences or ts is None:
        return None
    sql = composite_effect.modifier_lift(ctx, node.id, col.name, influences, ts, rows)
    if not isinstance(sql, Sql):
        return f"lift not charted: {sql}"
    note = (
        "; an add modifier shifts the values, which the factors do not model"
        if any(m.transform == "add" for m in col.modifiers)
        else ""
    )
    start = ctx.dataset.timeframe.start if ctx.dataset.timeframe is not None else None
    return LiftProbe(col.name, influences, sql, start, note)


@dataclass
class OutlierProbe(Probe):
    """The share of outliers estimated from a tail by the ``outlier_share`` check, against the
    declared ``rate``: the check's figures from validate's result when given (``row``), else
    its query, run here."""

    title: str
    sql: Sql
    rate: float
    row: dict[str, Any] = field(default_factory=dict)

    def own(self, con: duckdb.DuckDBPyConnection) -> None:
        if self.row:
            return
        cursor = con.execute(self.sql)
        names = [d[0] for d in cursor.description]
        self.row = dict(zip(names, cursor.fetchone() or [], strict=True))

    def charts(self, head: list[Any], full: list[Any]) -> list[Chart | str]:
        r = self.row
        estimate, se = r.get("estimated_rate"), r.get("standard_error")
        if estimate is None or se is None:
            return [f"{self.title}: too few rows"]
        scale = min(1.0, 1.5 * max(self.rate, estimate + 2 * se, 1e-4))
        return [
            Gauge(
                self.title,
                min(max(estimate, 0.0), 1.0),
                self.rate,
                scale=scale,
                note=f"estimated {100 * estimate:.3g}% ± {100 * se:.2g}% (one standard error) from the "
                f"{100 * r['share_beyond']:.3g}% of {r['row_count']:,} rows beyond {r['threshold']:.4g}",
            )
        ]


def _outlier_probe(
    ctx: CheckContext, node: Node, col: Column, results: Mapping[str, CheckResult]
) -> OutlierProbe | str | None:
    outliers = [m for m in col.modifiers if m.transform == "outliers"]
    if not outliers:
        return None
    ref = f"{node.id}.{col.name}"
    spec = next((c for c in outlier_share.compile(ctx) if c.target == ref), None)
    if spec is None:
        return None  # a rate of 0: nothing to see
    if spec.sql is None:
        return f"outlier rate not charted: {spec.reason}"
    checked = results.get(spec.id)
    row = dict(checked.detail) if checked is not None and "estimated_rate" in checked.detail else {}
    return OutlierProbe(f"{col.name}: outlier rate", spec.sql, outliers[0].args.rate, row)


# -------------------------------------------------------------- per table


@dataclass
class MarginProbe(NumericProbe):
    """A histogram of an inequality's ``right − left`` with the 0 line, and the rows that break it."""

    broken: Sql = Sql("FALSE")
    "The condition of a row that breaks the inequality."

    def full(self, head: list[Any]) -> list[Sql]:
        got = super().full(head)
        return got + [fill("count(*) FILTER (WHERE {b})", b=self.broken)] if got else []

    def charts(self, head: list[Any], full: list[Any]) -> list[Chart | str]:
        if not full:
            return []
        *values, broken = full
        (chart,) = super().charts(head, values)
        n = values[0]
        share = f"{broken:,} of {n:,} rows break it ({100 * broken / n:.3g}%)" if n else "no rows"
        assert isinstance(chart, Histogram)
        return [replace(chart, note="; ".join(x for x in (chart.note, share) if x))]


@dataclass
class JoinedProbe(Probe):
    """A probe over a relation of its own (a child joined to its parent): the join is made once
    into a temporary table (:data:`JOINED`), which its two passes read, then dropped."""

    probe: Probe
    relation: Sql
    heads: dict[int, list[Any]] = field(default_factory=dict)
    fulls: dict[int, list[Any]] = field(default_factory=dict)
    error: str | None = None

    def own(self, con: duckdb.DuckDBPyConnection) -> None:
        try:
            con.execute(
                fill("CREATE OR REPLACE TEMP TABLE {t} AS SELECT * FROM {r}", t=JOINED, r=self.relation)
            )
        except duckdb.Error as e:
            self.error = str(e).splitlines()[0]
            return
        try:
            self.heads, self.fulls, self.error = _run_passes(con, JOINED, [self.probe])
        finally:
            con.execute(fill("DROP TABLE IF EXISTS {t}", t=JOINED))

    def charts(self, head: list[Any], full: list[Any]) -> list[Chart | str]:
        if self.error:
            return [f"could not compute: {self.error}"]
        return self.probe.charts(self.heads.get(0, []), self.fulls.get(0, []))


JOINED = Sql('temp.main."__dg_report_joined"')
"The temporary table a :class:`JoinedProbe` reads (the session's own; dropped after)."
LINKED = "(SELECT {left} AS lhs, {right} AS rhs FROM {child} AS c JOIN {parent} AS p ON c.{key} = p.{pk})"
"A cross-table inequality's two sides, each child row beside its parent row."


def _margin(
    ineq: Any, left: Column, right: Column, lhs: Sql, rhs: Sql, names: tuple[str, str]
) -> MarginProbe | None:
    """The margin of ``left op right`` over columns ``lhs`` and ``rhs`` of the relation read
    (hours between two times), titled with ``names`` (left, right)."""
    if left.type in TIMES and right.type in TIMES:
        x = fill("(epoch(CAST({r} AS TIMESTAMP)) - epoch(CAST({l} AS TIMESTAMP))) / 3600.0", r=rhs, l=lhs)
        unit = " (hours)"
    elif left.type in NUMBERS and right.type in NUMBERS:
        x, unit = fill("{r} - {l}", r=rhs, l=lhs), ""
    else:
        return None
    broken = fill(
        "{l} IS NOT NULL AND {r} IS NOT NULL AND NOT ({l} {op} {r})",
        l=lhs,
        r=rhs,
        op=Sql(inequality.OPERATORS[ineq.op]),
    )
    return MarginProbe(
        f"margin {names[1]} − {names[0]}{unit}",
        x,
        False,
        marks=[(0.0, "0")],
        note=f"declared {ineq.left} {ineq.op} {ineq.right}: every value on the allowed side of 0",
        include=(0.0,),
        broken=broken,
    )


def _table_probes(ctx: CheckContext, node: Node, rows: Sql) -> Iterator[Probe]:
    """Inequality margins: the table's own inequalities over ``rows`` (the rows charted), and
    those between the table and its parent through the lookup that links them (as the
    ``inequality`` check joins them)."""
    links = {c.index: c.link for c in crossings(ctx.dataset) if c.link is not None}
    for i, ineq in enumerate(ctx.dataset.constraints.inequalities):
        lt, lc, left, p1 = ctx.resolve(ineq.left)
        rt, rc, right, p2 = ctx.resolve(ineq.right)
        if p1 or p2 or left is None or right is None:
            continue
        if lt == rt == node.id:
            probe = _margin(ineq, left, right, ident(lc), ident(rc), (lc, rc))
            if probe is not None:
                yield probe
        elif (link := links.get(i)) is not None and link.child == node.id:
            probe = _margin(ineq, left, right, Sql("lhs"), Sql("rhs"), (ineq.left, ineq.right))
            if probe is not None:
                relation = fill(
                    LINKED,
                    left=qualified("p" if lt == link.parent else "c", lc),
                    right=qualified("p" if rt == link.parent else "c", rc),
                    child=rows,
                    parent=table(link.parent),
                    key=ident(link.key),
                    pk=ident(link.pk),
                )
                yield JoinedProbe(probe, relation)


def _fanout(
    ctx: CheckContext,
    node: Node,
    con: duckdb.DuckDBPyConnection,
    profile: dict[str, dict[str, Any]],
    cap: int | None,
) -> Chart | str | None:
    """Share of parent rows by number of children, against the declared pmf.

    The children are counted per key of the fact's parent column (:data:`FANOUT`); the parents
    without children are the parent rows no key names (as many as the parent's rows less the
    keys counted: the ``foreign_key`` check vouches that every key is a parent's). This skips
    the join with the parent table the checks make (it cost 1–3 s at 10M rows). A fact of more
    than ``cap`` rows is counted for the first parents whose children make about ``cap`` rows
    (at most :data:`FANOUT_PARENTS`)."""
    if node.kind != "fact" or not node.parents:
        return None
    link = parent_link(ctx, node)
    if isinstance(link, str):
        return f"children per parent not charted: {link}"
    fact = table(node.id)
    parents = profile.get(link.parent, {}).get("rows") or 0
    fk = ident(link.child_column)
    note = ""
    capped = first_parents(link, node.id, profile, cap)
    if capped is not None:
        parents = capped.parents
        fact = capped(node.id)
        note = f"the first {parents:,} {link.parent} rows"
    if not parents:
        return "children per parent: the parent table is empty"
    rows = con.execute(fill(FANOUT, fk=fk, fact=fact)).fetchall()
    counts = dict(rows)
    counts[0] = counts.get(0, 0) + max(0, parents - sum(counts.values()))
    total = sum(counts.values())
    pmf: dict[int, float] = {}
    if node.stage_config is not None:
        note = "; ".join(x for x in (note, "a funnel: stages reached per parent") if x)
    elif node.fanout is None:
        pmf = {1: 1.0}
    elif node.modifiers or _fanout_scaled(ctx.dataset, node):
        note = "; ".join(
            x for x in (note, "declared pmf omitted: an effect, segment or vintage scales the fanout") if x
        )
    else:
        pmf = clamped_pmf(node.fanout)
    top = max([k for k, n in counts.items() if n] + [k for k, p in pmf.items() if p * total >= 0.5])
    ks = list(range(0, top + 1))
    if len(ks) > VALUE_BINS:
        ks = ks[:VALUE_BINS]
        note = "; ".join(x for x in (note, f"counts above {ks[-1]} not shown") if x)
    return Bars(
        f"children per {link.parent} row",
        [str(k) for k in ks],
        [counts.get(k, 0) / total for k in ks],
        [pmf.get(k, 0.0) for k in ks] if pmf else [],
        note=note,
    )


def _fanout_scaled(ds: Dataset, node: Node) -> bool:
    scaling = behaviours.scaling(ds, node)
    return scaling is not None and bool(scaling.fanout_factors("p"))


# ------------------------------------------------------------------- run


def _run_passes(
    con: duckdb.DuckDBPyConnection, relation: Sql, probes: Sequence[Probe]
) -> tuple[dict[int, list[Any]], dict[int, list[Any]], str | None]:
    """The head pass and the full pass over one table: each probe's values of each, by index."""
    heads: dict[int, list[Any]] = {}
    fulls: dict[int, list[Any]] = {}
    for template, target in ((HEAD_QUERY, heads), (FULL, fulls)):
        exprs: list[Sql] = []
        spans: list[tuple[int, int, int]] = []
        for i, probe in enumerate(probes):
            got = probe.head() if target is heads else probe.full(heads.get(i, []))
            if got:
                spans.append((i, len(exprs), len(exprs) + len(got)))
                exprs.extend(got)
        if not exprs:
            continue
        sql = fill(template, aggregates=join(exprs), table=relation, n=lit(HEAD))
        try:
            row = con.execute(sql).fetchone()
        except duckdb.Error as e:
            return heads, fulls, str(e).splitlines()[0]
        assert row is not None
        for i, a, b in spans:
            target[i] = list(row[a:b])
    return heads, fulls, None


def observe(
    dataset: Dataset,
    con: duckdb.DuckDBPyConnection,
    report: Report,
    chart_rows: int | None = CHART_ROWS,
) -> Observation:
    """Every chart of ``dataset``, over the views ``dg_check."<table>"`` in ``con``
    (:func:`dgsql.runtime.validate.data_views`) and validate's ``report`` of the same data (its
    rows and NULL shares per table, and the figures of the checks the charts show);
    ``chart_rows`` the rows a table's charts read at most (None: all, see :data:`CHART_ROWS`)."""
    started = time.perf_counter()
    ctx = CheckContext(dataset)
    profile = report.tables
    results = {r.check.id: r for r in report.results}
    try:
        scaled = behaviour_charts(ctx, con, report, chart_rows)
    except duckdb.Error as e:
        problem = f"segment, vintage and funnel charts could not be computed: {str(e).splitlines()[0]}"
        scaled = {n.id: [(None, problem)] for n in dataset.nodes}
    tables: list[TableView] = []
    for node in dataset.nodes:
        known = profile.get(node.id, {})
        view = TableView(node.id, node.kind, known.get("rows"))
        relation = table(node.id)
        if chart_rows is not None and (view.rows or 0) > chart_rows:
            relation = fill(FIRST_ROWS, table=relation, n=lit(chart_rows))
            view.charted_rows = chart_rows
        owners: list[tuple[ColumnView | TableView, Probe]] = []
        for col in node.written:
            cview, probes = column_probes(ctx, node, col, relation if view.charted_rows else None, results)
            share = known.get("null_share", {}).get(col.name)
            if share is not None:
                cview.observed.append(f"NULL share {100 * share:.3g}%")
                gauge = null_gauge(col, share)
                if gauge is not None:
                    cview.charts.append(gauge)
            view.columns.append(cview)
            owners += [(cview, p) for p in probes]
        owners += [(view, p) for p in _table_probes(ctx, node, relation)]
        heads, fulls, error = _run_passes(con, relation, [p for _, p in owners])
        if error:
            view.notes.append(f"the aggregates could not be computed: {error}")
        for j, (owner, probe) in enumerate(owners):
            try:
                probe.own(con)
                charts = probe.charts(heads.get(j, []), fulls.get(j, []))
            except duckdb.Error as e:
                charts = [f"could not compute: {str(e).splitlines()[0]}"]
            for chart in charts:
                if isinstance(chart, str):
                    owner.notes.append(chart)
                else:
                    owner.charts.append(chart)
        try:
            fan = _fanout(ctx, node, con, profile, chart_rows)
        except duckdb.Error as e:
            fan = f"children per parent could not be computed: {str(e).splitlines()[0]}"
        if isinstance(fan, str):
            view.notes.append(fan)
        elif fan is not None:
            view.charts.insert(0, fan)
        for column, chart in scaled.get(node.id, []):
            holder: ColumnView | TableView = next((c for c in view.columns if c.name == column), view)
            if isinstance(chart, str):
                holder.notes.append(chart)
            else:
                holder.charts.append(chart)
        tables.append(view)
    return Observation(tables, table_graph(dataset), time.perf_counter() - started)


READ_KINDS = {"other_parent": "parent", "choices_ref": "lookup", "enum_ref": "lookup"}
"How the drawing names the kinds of :class:`~dgsql.compiler.kind.Read`."
EDGE_RANK = ("parent", "funnel", "behaviour", "effect", "lookup")
"Kinds of reads, strongest first."


def _rank(kind: str) -> int:
    return EDGE_RANK.index(kind) if kind in EDGE_RANK else len(EDGE_RANK)


def table_graph(dataset: Dataset) -> Graph:
    """The tables in generation order and who reads whom (parents, lookups, effects…)."""
    try:
        nodes = order_tables(dataset)
    except SchemaError:  # validate reads schemas it does not plan: a cycle is drawn as declared
        nodes = list(dataset.nodes)
    kinds: dict[tuple[str, str], str] = {}
    for node in nodes:
        for read in reads(dataset, node):
            kind = READ_KINDS.get(read.kind, read.kind)
            pair = (read.table, node.id)
            # one edge per pair of tables, the strongest tie: a fact's lookup of its parent's key is "parent"
            if _rank(kind) < _rank(kinds.get(pair, "")):
                kinds[pair] = kind
    edges = [(a, b, kind) for (a, b), kind in kinds.items()]
    labels = {
        n.id: f"{n.kind}" + (f", {n.rows:,} rows declared" if n.rows is not None else "") for n in nodes
    }
    return Graph("tables and what they read", [n.id for n in nodes], edges, labels)


def null_gauge(col: Column, share: float) -> Gauge | None:
    """A nullable column's declared null rate against the observed share of NULLs."""
    if not col.nullable:
        return None
    declared = col.null_rate or 0.0
    scale = min(1.0, max(0.05, 1.5 * max(share, declared)))
    return Gauge(f"{col.name}: NULL share", share, declared, scale=scale)
