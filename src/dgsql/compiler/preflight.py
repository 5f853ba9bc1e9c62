"""Preflight: what would fail or surprise at run time, found without generating data.

``preflight(plan)`` returns problems (errors: the build would fail or break a
declared constraint) and warnings, plus the planned tables with their expected
row counts (fanout means) and an output size estimate.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dgsql.compiler.checks.datetime_shape import MIN_ROWS, tolerance
from dgsql.compiler.checks.truncation import DIMENSIONS, Law, declared_law, truncated_shares, tvd
from dgsql.compiler.generators import generator_of
from dgsql.compiler.modifiers import MODIFIERS
from dgsql.compiler.plan import Plan, TablePlan
from dgsql.dsl import model as S
from dgsql.dsl.problems import Problem, warning
from dgsql.dsl.time import series_grid, series_patterns

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
    problems: list[Problem] = field(default_factory=list)
    tables: list[PlannedTable] = field(default_factory=list)

    def error(self, path: str, text: str) -> None:
        self.problems.append(Problem(path, text))

    def warn(self, path: str, text: str) -> None:
        self.problems.append(warning(path, text))


def distinct_capacity(col: S.Column, ds: S.Dataset, expected: dict[str, float]) -> float:
    """How many distinct values the column's generator can yield (inf when unbounded)."""
    if col.type == "bool":
        return 2
    kind, spec = generator_of(col)
    return kind.capacity(spec, col, ds, expected)


def value_range(col: S.Column, ds: S.Dataset) -> tuple[float, float] | None:
    """[min, max] a numeric or datetime column can take (as floats; datetimes in seconds)."""
    if col.modifiers:
        return None
    kind, spec = generator_of(col)
    return kind.value_range(spec, col, ds)


def preflight(plan: Plan) -> Preflight:
    ds = plan.dataset
    report = Preflight()
    expected: dict[str, float] = {}
    for table in plan.tables:
        rows = expected[table.name] = table.expected_rows
        size = rows * sum(BYTES_PER_VALUE[c.type] for c in table.node.written)
        report.tables.append(PlannedTable(table.name, table.node.kind, rows, size))
        _check_table(table, ds, expected, report)
        _check_reshaping(table, ds, report)
    _check_inequalities(ds, report)
    return report


def _check_table(table: TablePlan, ds: S.Dataset, expected: dict[str, float], report: Preflight) -> None:
    rows = expected[table.name]
    if table.node.kind != "vocab" and table.rows == 0:
        report.warn(f"{table.path}.rows", "the table will be empty.")
    unique = {ref for ref in ds.constraints.unique if ref.startswith(table.name + ".")}
    if table.node.pk:
        unique.add(f"{table.name}.{table.node.pk}")
    for cp in table.columns:
        col, path = cp.column, cp.path
        if f"{table.name}.{col.name}" in unique:
            cap = distinct_capacity(col, ds, expected)
            if cap < rows:
                report.error(
                    path,
                    f"declared unique, but its generator yields at most {cap:,.0f} distinct values "
                    f"for ~{rows:,.0f} rows; use a sequence or widen the choices.",
                )
        kind, spec = generator_of(col)
        yields_null = kind.yields_null or any(
            MODIFIERS[m.transform].yields_null(m.args) for m in col.modifiers
        )
        if col.nullable and col.null_rate is None and not yields_null:
            report.warn(path, "nullable without null_rate, so it holds no NULLs; add null_rate.")
        for read in kind.tables(spec, ds):
            if expected.get(read.table, 1.0) == 0 and read.table != table.name:
                report.error(path, f"reads table {read.table!r}, which will be empty; give it rows.")


def _check_inequalities(ds: S.Dataset, report: Preflight) -> None:
    for i, q in enumerate(ds.constraints.inequalities):
        (lt, lc), (rt, rc) = ds.split_ref(q.left), ds.split_ref(q.right)
        left = next(c for c in ds.node(lt).columns if c.name == lc)
        right = next(c for c in ds.node(rt).columns if c.name == rc)
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
            report.error(
                f"constraints.inequalities[{i}]",
                f"{q.left} {q.op} {q.right} cannot hold: "
                f"{left.name} ranges over [{lr[0]:g}, {lr[1]:g}] and {right.name} over [{rr[0]:g}, {rr[1]:g}]; "
                "widen the ranges or drop the constraint.",
            )


LAW_MODIFIERS = ("seasonality", "time_jitter")
"""Modifiers of a ``datetime_series`` whose law the reshaping warning knows: seasonality weighs
the grid; time_jitter blurs the truncated and the declared shares alike and is left out."""


def _series_law(col: S.Column, ds: S.Dataset) -> Law | None:
    """The declared law of a ``datetime_series`` column (``checks/truncation.py``), or None."""
    gen = col.generator
    if not isinstance(gen, S.DatetimeSeriesGen) or any(
        m.transform not in LAW_MODIFIERS for m in col.modifiers
    ):
        return None
    g = series_grid(gen.datetime_series, ds)
    return None if g is None else declared_law(g, series_patterns(gen.datetime_series, col))


def _check_reshaping(table: TablePlan, ds: S.Dataset, report: Preflight) -> None:
    """Warn where an inequality visibly reshapes the column drawn after a bound.

    Only a ``datetime_series`` drawn after exactly one column that is itself an unbounded
    ``datetime_series`` has a law known here (both grids and weights): its truncated hour, dow
    and month shares are held against its declared ones, all three dimensions whether weighted
    or not (a dow-weighted ``shipped_at`` after a seasonal ``ordered_at`` moves in months: the
    grid itself declares the shares of the dimensions it does not weigh), with validate's
    ``datetime_shape`` tolerance at the table's expected rows. Other bounds (expressions,
    lookups, distributions) get no warning: validate has no shape check for them yet.
    """
    bounded = {g.bound.column for g in table.guards}
    columns = {c.name: c for c in table.node.columns}
    for guard in table.guards:
        bound = guard.bound
        if len(bound.after) != 1 or bound.before or bound.after[0] in bounded:
            continue
        low, high = columns[bound.after[0]], columns[bound.column]
        first, later = _series_law(low, ds), _series_law(high, ds)
        if first is None or later is None:
            continue
        rows = table.expected_rows * (1 - (high.null_rate or 0))
        if rows < MIN_ROWS:
            continue  # validate does not evaluate the shape of so few rows
        moved = truncated_shares(first, later, bound.strict, low.null_rate or 0)
        declared = later.shares()
        found = [(d, tvd(moved[d], declared[d]), tolerance(declared[d], rows)) for d in DIMENSIONS]
        visible = sorted((f for f in found if f[1] > f[2]), key=lambda f: -f[1])
        if not visible:
            continue
        moves = ", ".join(
            f"its {d} shares move by TVD {t:.2g}" if i == 0 else f"its {d} shares by {t:.2g}"
            for i, (d, t, _) in enumerate(visible)
        )
        limits = ", ".join(f"{tol:.2g}" for _, _, tol in visible)
        path = min(bound.paths, key=lambda p: int(p.rpartition("[")[2].rstrip("]")))
        report.warn(
            path,
            f"{table.name}.{high.name} is drawn after {table.name}.{low.name}: {moves} "
            f"(validate's tolerance at {rows:,.0f} rows: {limits}); to keep its declared shape, "
            f'write it as an offset: "expression": {{"code": "{low.name} + hours(d)"}} '
            "with d a non-negative draw.",
        )
