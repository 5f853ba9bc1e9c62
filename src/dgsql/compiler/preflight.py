"""Preflight: what would fail or surprise at run time, found without generating data.

``preflight(plan)`` returns problems (errors: the build would fail or break a
declared constraint) and warnings, plus the planned tables with their expected
row counts (fanout means) and an output size estimate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from dgsql.compiler.generators.datetime_series import (
    GRID_LIMIT,
    bucket_count,
    calendar,
    grid,
    patterns_of,
    span_of_dataset,
)
from dgsql.compiler.plan import Plan, TablePlan
from dgsql.dsl import model as S

BYTES_PER_VALUE = {"int": 4.0, "float": 8.0, "string": 10.0, "bool": 0.2, "datetime": 6.0, "date": 2.5}
"Rough zstd Parquet bytes per value, measured on the examples; a size estimate, not a promise."


@dataclass(frozen=True)
class PlannedTable:
    name: str
    kind: str
    expected_rows: float
    estimated_bytes: float


@dataclass
class Preflight:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    tables: list[PlannedTable] = field(default_factory=list)


def distinct_capacity(col: S.Column, ds: S.Dataset, expected: dict[str, float]) -> float:
    """How many distinct values the column's generator can yield (inf when unbounded)."""
    kind, spec = S.generator_kind(col.generator), S.generator_spec(col.generator)
    if col.type == "bool":
        return 2
    if kind == "sequence":
        return math.inf if spec.step != 0 else 1
    if kind == "enum_list":
        return len(set(map(str, spec.values)))
    if kind == "choice":
        if spec.choices is not None:
            weights = spec.weights or [1.0] * len(spec.choices)
            return len({str(c) for c, w in zip(spec.choices, weights, strict=True) if w > 0})
        return expected.get(ds.split_ref(spec.choices_ref)[0], math.inf)
    if kind == "lookup":
        return expected.get(ds.split_ref(spec.from_)[0], math.inf)
    if kind == "datetime_series" and not col.modifiers:
        return grid(
            span_of_dataset(spec, ds), spec.freq or (ds.timeframe.freq if ds.timeframe else "S")
        ).points
    if kind == "distribution" and col.type == "int" and not col.modifiers:
        lo, hi = _int_bounds(spec)
        return hi - lo + 1 if hi is not None and lo is not None else math.inf
    return math.inf


def _int_bounds(spec: S.DistributionSpec) -> tuple[float | None, float | None]:
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


def value_range(col: S.Column, ds: S.Dataset) -> tuple[float, float] | None:
    """[min, max] a numeric or datetime column can take (as floats; datetimes in seconds)."""
    kind, spec = S.generator_kind(col.generator), S.generator_spec(col.generator)
    if col.modifiers:
        return None
    if kind == "distribution" and spec.clamp:
        return spec.clamp
    if kind == "distribution" and spec.type == "uniform":
        return spec.params["low"], spec.params["high"]
    if kind == "datetime_series":
        span = span_of_dataset(spec, ds)
        return span.start.timestamp(), span.end.timestamp()
    return None


def preflight(plan: Plan) -> Preflight:
    ds = plan.dataset
    report = Preflight()
    expected: dict[str, float] = {}
    for table in plan.tables:
        rows = expected[table.name] = table.expected_rows
        size = rows * sum(BYTES_PER_VALUE[c.type] for c in table.node.columns)
        report.tables.append(PlannedTable(table.name, table.node.kind, rows, size))
        _check_table(table, ds, expected, report)
    _check_inequalities(ds, report)
    return report


def _check_table(table: TablePlan, ds: S.Dataset, expected: dict[str, float], report: Preflight) -> None:
    rows = expected[table.name]
    if table.node.kind != "vocab" and table.rows == 0:
        report.warnings.append(f"{table.path}.rows: the table will be empty.")
    unique = {ref for ref in ds.constraints.unique if ref.startswith(table.name + ".")}
    if table.node.pk:
        unique.add(f"{table.name}.{table.node.pk}")
    for cp in table.columns:
        col, path = cp.column, cp.path
        kind, spec = S.generator_kind(col.generator), S.generator_spec(col.generator)
        if f"{table.name}.{col.name}" in unique:
            cap = distinct_capacity(col, ds, expected)
            if cap < rows:
                report.errors.append(
                    f"{path}: declared unique, but its generator yields at most {cap:,.0f} distinct values "
                    f"for ~{rows:,.0f} rows; use a sequence or widen the choices."
                )
        if kind == "distribution" and spec.clamp is None:
            report.warnings.append(f"{path}.generator.distribution: no clamp; extreme draws are possible.")
        if col.nullable and col.null_rate is None and kind != "lookup":
            report.warnings.append(
                f"{path}: nullable without null_rate, so it holds no NULLs; add null_rate."
            )
        if kind == "datetime_series":
            g = grid(span_of_dataset(spec, ds), spec.freq or (ds.timeframe.freq if ds.timeframe else "S"))
            if g.points == 1:
                report.warnings.append(
                    f"{path}.generator.datetime_series: the span holds one grid point; use a finer freq."
                )
            patterns = patterns_of(spec, col)
            if patterns and g.points > GRID_LIMIT:
                report.errors.append(
                    f"{path}.generator.datetime_series: a weighted grid of {g.points:,} points is finer than "
                    f"dgsql materialises (limit {GRID_LIMIT:,}); use a coarser freq."
                )
            elif patterns and calendar(g, patterns) is None and bucket_count(g.points, patterns) is None:
                report.warnings.append(
                    f"{path}.generator.datetime_series: {g.points:,} weighted grid points with very uneven "
                    "weights are picked by an ASOF join and a sort (slower); use a coarser freq or milder weights."
                )
        for target in _tables_read(col, ds):
            if expected.get(target, 1.0) == 0 and target != table.name:
                report.errors.append(f"{path}: reads table {target!r}, which will be empty; give it rows.")


def _tables_read(col: S.Column, ds: S.Dataset) -> list[str]:
    kind, spec = S.generator_kind(col.generator), S.generator_spec(col.generator)
    if kind == "lookup":
        return [ds.split_ref(spec.from_)[0]]
    if kind == "choice" and spec.choices_ref:
        return [ds.split_ref(spec.choices_ref)[0]]
    return []


def _check_inequalities(ds: S.Dataset, report: Preflight) -> None:
    for i, q in enumerate(ds.constraints.inequalities):
        table = ds.split_ref(q.left)[0]
        node = ds.node(table)
        left = next(c for c in node.columns if c.name == q.left[len(table) + 1 :])
        right = next(c for c in node.columns if c.name == q.right[len(table) + 1 :])
        lr, rr = value_range(left, ds), value_range(right, ds)
        if lr is None or rr is None:
            continue
        impossible = {
            "<": lr[0] >= rr[1],
            "<=": lr[0] > rr[1],
            ">": lr[1] <= rr[0],
            ">=": lr[1] < rr[0],
            "==": lr[1] < rr[0] or rr[1] < lr[0],
        }[q.op]
        if impossible:
            report.errors.append(
                f"constraints.inequalities[{i}]: {q.left} {q.op} {q.right} cannot hold: "
                f"{left.name} ranges over [{lr[0]:g}, {lr[1]:g}] and {right.name} over [{rr[0]:g}, {rr[1]:g}]; "
                "widen the ranges or drop the constraint."
            )
