"""Parts: every table split into N parts generated separately, whose concatenation in order is
the single build's table row for row (docs/parts.md). No SQL here: which rows a part holds,
which stage a table runs in, which earlier tables a stage reads from the finished output.

- An entity's part ``i`` is the row range ``[i·n // N, (i+1)·n // N)``.
- A fact's part ``i`` holds the children of its primary parent's part ``i``: its first row is
  the sum of the fanout counts of every earlier parent row, which the part sums itself.
- A table that later tables read by value (kept in a single build) is read from its finished
  output by them, so they run in a later **stage**: all parts of a stage finish before the next
  stage starts. Reads that are arithmetic on a row index (a primary parent whose fanout count is
  a hash of its row, a lookup of a pure or sequence column) need no barrier.
- A table that looks up earlier rows of its own table by a join (a self-reference of a column
  that is not a sequence) computes its rows from row 0 up to the end of its part, and writes
  only its part's rows.
"""

from __future__ import annotations

from dataclasses import dataclass

from dgsql.compiler.dag import reads
from dgsql.compiler.generators import generator_of
from dgsql.compiler.plan import Plan, TablePlan
from dgsql.dsl import model as S
from dgsql.errors import UsageError

MAX_PARTS = 99_999
"Part numbers are written with five digits (``part-00042.parquet``)."


@dataclass(frozen=True)
class Parts:
    """Which part a script writes: part ``index`` of ``count``, the tables of ``stage`` only (None:
    every stage, in order), reading finished tables of earlier stages from ``read_dir`` (None:
    the folder the script writes to)."""

    count: int
    index: int
    stage: int | None = None
    read_dir: str | None = None

    def __post_init__(self) -> None:
        check_parts(self.count, self.index)


def check_parts(count: int | None, index: int | None, stage: int | None = None) -> None:
    """A one-line :class:`UsageError` for a part count or index out of range, or a part or stage
    given without what it belongs to."""
    if count is None and index is not None:
        raise UsageError("--part: give --parts N too (the part count).")
    if index is None and stage is not None:
        raise UsageError("--stage: give --part I too (a stage of one part).")
    if count is None:
        return
    if not 1 <= count <= MAX_PARTS:
        raise UsageError(f"--parts {count}: give a part count from 1 to {MAX_PARTS:,}.")
    if index is not None and not 0 <= index < count:
        raise UsageError(f"--part {index}: parts are numbered 0 to {count - 1}; give one of them.")


def check_format(plan: Plan, extension: str) -> None:
    """Parts write files, a database file has one writer; later stages read earlier stages'
    finished tables back, from Parquet only (typed and exact): a one-line :class:`UsageError`
    for a database, or for another format when the plan has stages."""
    if extension == "duckdb":
        raise UsageError(
            "--parts: a database file has one writer, parts write files; use --format parquet, csv or jsonl."
        )
    later = sorted({t.name for s in range(1, stage_count(plan)) for t in loaded(plan, s)})
    if later and extension != "parquet":
        raise UsageError(
            f"--format {extension}: with --parts, later stages read the finished tables "
            f"{', '.join(map(repr, later))} back; write --format parquet."
        )


def check_stage(plan: Plan, stage: int | None) -> None:
    """A one-line :class:`UsageError` for a stage the plan does not have."""
    count = stage_count(plan)
    if stage is not None and not 0 <= stage < count:
        raise UsageError(f"--stage {stage}: this schema has stages 0 to {count - 1}; give one of them.")


def part_file(table: str, index: int, extension: str) -> str:
    """The file of part ``index`` of ``table``, relative to the output folder.

    >>> part_file("orders", 3, "parquet")
    'orders/part-00003.parquet'
    """
    return f"{table}/part-{index:05d}.{extension}"


def entity_range(rows: int, count: int, index: int) -> tuple[int, int]:
    """The row range ``[lo, hi)`` of part ``index`` of an entity of ``rows`` rows.

    >>> [entity_range(10, 3, i) for i in range(3)]
    [(0, 3), (3, 6), (6, 10)]
    """
    return index * rows // count, (index + 1) * rows // count


def stages(plan: Plan) -> dict[str, int]:
    """Each table's stage: one more than a table it reads by value (kept in a single build),
    the same as one it reads only by row index."""
    kept = {t.name: t.materialize for t in plan.tables}
    stage: dict[str, int] = {}
    for table in plan.tables:
        read = {r.table for r in reads(plan.dataset, table.node)} - {table.name}
        stage[table.name] = max((stage[t] + int(kept[t]) for t in read), default=0)
    return stage


def stage_count(plan: Plan) -> int:
    return 1 + max(stages(plan).values(), default=0)


def loaded(plan: Plan, stage: int) -> list[TablePlan]:
    """The tables of earlier stages that the tables of ``stage`` read, in plan order: read from
    the finished output (a kept table's rows, a fact's row ranges and count)."""
    stage_of = stages(plan)
    wanted: set[str] = set()
    for table in plan.tables:
        if stage_of[table.name] == stage:
            wanted |= {r.table for r in reads(plan.dataset, table.node) if stage_of[r.table] < stage}
    return [t for t in plan.tables if t.name in wanted]


def reads_own_rows(ds: S.Dataset, table: TablePlan) -> bool:
    """Whether a column looks up earlier rows of its own table by a join (a self-reference of a
    column that is not a sequence): the part then computes rows from 0 (docs/parts.md)."""
    for col in table.node.columns:
        _, spec = generator_of(col)
        if isinstance(spec, S.LookupSpec) and spec.join is None:
            owner, column = ds.split_ref(spec.from_)
            if owner == table.name and column not in table.facts.sequences:
                return True
    return False
