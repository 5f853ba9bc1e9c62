"""Preflight: what would fail or surprise at run time, found without generating data.

``preflight(plan)`` returns problems (errors: the build would fail or break a
declared constraint) and warnings, plus the planned tables with their expected
row counts (fanout means) and an output size estimate.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dgsql.compiler.generators import generator_of
from dgsql.compiler.modifiers import MODIFIERS
from dgsql.compiler.plan import Plan, TablePlan
from dgsql.dsl import model as S
from dgsql.dsl.problems import Problem, warning

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
        table, left_name = ds.split_ref(q.left)
        node = ds.node(table)
        left = next(c for c in node.columns if c.name == left_name)
        right = next(c for c in node.columns if c.name == ds.split_ref(q.right)[1])
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
