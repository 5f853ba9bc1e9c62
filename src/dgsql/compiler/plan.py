"""Pass 4: the typed plan between the schema and the SQL (no SQL text in it).

Per table: where its rows come from (a count, a fanout of a parent, a vocab
list), its columns ordered by same-row dependencies and grouped into layers
(a column's layer is one more than the deepest column it reads), and whether a
later table reads its values (then it is materialised, else streamed to Parquet;
a later table that only spawns rows from it or reads its sequence and pure columns
needs just its row count).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from dgsql.compiler import behaviours, funnel
from dgsql.compiler.bounds import Bound, column_reads, table_bounds
from dgsql.compiler.dag import order_tables
from dgsql.compiler.dag import reads as table_reads
from dgsql.compiler.facts import TableFacts
from dgsql.compiler.generators import generator_of
from dgsql.compiler.graph import Graph
from dgsql.compiler.kind import Place
from dgsql.compiler.modifiers import MODIFIERS
from dgsql.compiler.names import RESERVED_PREFIX
from dgsql.dsl import model as S
from dgsql.dsl.laws import kind_weights, poisson_pmf, poisson_point
from dgsql.dsl.problems import Problem
from dgsql.errors import SchemaError

ROW_GROUP = 122_880
"DuckDB's row group: a table scan hands out one per task."
ROW_TABLE_ROWS = range(2 * ROW_GROUP, 50_000_001)
"""Entities whose row count lies here read their row index from a table of row numbers."""
SPLIT_ROWS = range(ROW_GROUP, 2 * ROW_GROUP)
"""Entities whose row count lies here read it from two row groups, half the rows in each."""
SPLIT_FAKER_ROWS = range(ROW_GROUP // 4, 2 * ROW_GROUP)
"""The same for entities with a Faker column, whose rows cost ~10 times more."""


FANOUT_CHUNK = 16
"""Most children in one run of a fanout table: a scan task then yields at most ~2M rows.
One row per parent made a table of 100k parents with 100 children each a single 10M-row
task on one core."""


def fanout_chunk(fanout: Fanout, parents: float, children: float) -> int | None:
    """Children per run of a fanout table, or None for one row per parent.

    A scan task reads one row group (122,880 rows) of the fanout table, so with fewer parents
    than that every child would come from one task, on one core: then a parent's children are
    split in runs of up to ``FANOUT_CHUNK``, short enough that a fact expected to be large
    spans at least four row groups of runs. The split is an unnest of every parent row (~36 ns
    a run), so it is skipped when there are parents enough, when the fact is expected to have
    fewer than two row groups of rows (the runs would fill them unevenly, and the split cost
    more than it saved: a 195k-row fact from 9.7k parents took 36 ms split, 29 ms not), and
    when no parent can have more children than a run holds (docs/performance.md, "Fanout")."""
    if parents >= ROW_GROUP or children < 2 * ROW_GROUP:
        return None
    chunk = int(min(max(children // (4 * ROW_GROUP), 1), FANOUT_CHUNK))
    if fanout.hi is not None and fanout.hi <= chunk:
        return None
    return chunk


RowSource = Literal["range", "table", "split"]

DEFAULT_ROWS = 1000
ROWS_LIMIT = 10**11


@dataclass(frozen=True)
class Fanout:
    parent: str
    distribution: str
    "poisson, uniform, or funnel (``stage_config``: ``lam`` is then the mean at multiplier 1)."
    lam: float
    lo: int
    hi: int | None


@dataclass(frozen=True)
class ColumnPlan:
    column: S.Column
    path: str
    "JSON path of the column in the schema."
    reads: tuple[str, ...]
    "Same-row columns it reads (generator and modifiers)."
    layer: int


@dataclass(frozen=True)
class Guard:
    """The step that makes a bounded column keep its inequalities on every row
    (``compiler/bounds.py``; SQL in ``compiler/inequality.py``), at its layer."""

    bound: Bound
    layer: int


@dataclass(frozen=True)
class TablePlan:
    node: S.Node
    path: str
    rows: int | None
    "Row count when known at compile time."
    fanout: Fanout | None
    columns: tuple[ColumnPlan, ...]
    "In schema order."
    materialize: bool
    "A later table reads its values: kept as a temp table with its row index."
    facts: TableFacts
    guards: tuple[Guard, ...] = ()
    "The bounded columns' guards (inequalities)."
    sort_layer: int | None = None
    "The layer that only sorts the rows by their index (see :func:`sorted_layout`)."
    joined: frozenset[str] = frozenset()
    "Columns whose join does not keep the rows' order: they come before the sort layer."
    row_source: RowSource = "range"
    "Where an entity reads its row index (:func:`row_source`)."
    chunk: int | None = None
    "A fact's children per run of its fanout table (:func:`fanout_chunk`), None: one run a parent."
    counted: bool = False
    "A fact that later tables read only by row index: its row count is kept (names.count_table)."

    @property
    def name(self) -> str:
        return self.node.id

    @property
    def expected_rows(self) -> float:
        """The count when known, else the parent's expected rows times the fanout mean."""
        return self.facts.expected_rows

    @property
    def layers(self) -> int:
        return 1 + max(
            [c.layer for c in self.columns]
            + [g.layer for g in self.guards]
            + ([self.sort_layer] if self.sort_layer is not None else [])
        )


@dataclass(frozen=True)
class Plan:
    dataset: S.Dataset
    seed: int
    scale: float
    tables: tuple[TablePlan, ...]
    sample: int | None = None
    "Entity row cap of a dry run (facts follow their parents)."


def build_plan(ds: S.Dataset, seed: int, scale: float = 1.0, sample: int | None = None) -> Plan:
    """Order and plan a checked ``ds``; raises SchemaError with every problem found."""
    order = order_tables(ds)
    paths = {n.id: f"nodes[{i}]" for i, n in enumerate(ds.nodes)}
    problems: list[str | Problem] = []
    tables: list[TablePlan] = []
    known: dict[str, TableFacts] = {}
    expected: dict[str, float] = {}
    for node in order:
        try:
            table = _plan_table(ds, node, paths[node.id], scale, sample, known)
        except SchemaError as e:
            problems += e.problems
            continue
        if table.fanout is not None and table.fanout.parent not in known:
            continue  # its parent could not be planned (rows above the limit…): reported above
        expected[node.id] = _expected_rows(table, expected) * mean_fanout_factor(ds, node)
        read, kept = _later_reads(ds, node.id, table.facts)
        facts = replace(table.facts, expected_rows=expected[node.id], kept=kept)
        table = replace(
            table, facts=facts, materialize=kept, counted=read and not kept and table.rows is None
        )
        if table.rows is not None:
            table = replace(table, row_source=row_source(table.rows, node))
        elif table.fanout is not None and table.fanout.distribution != "funnel":
            # a funnel's children per parent are its few stages: never split in runs (a
            # child's stage is its position among its parent's children)
            chunk = fanout_chunk(table.fanout, known[table.fanout.parent].expected_rows, expected[node.id])
            table = replace(table, chunk=chunk)
        after = {g.bound.column for g in table.guards if g.bound.after}
        scaling = behaviours.scaling(ds, node)
        if scaling is not None:
            after |= {c.name for c in node.columns if scaling.bounded(c)}
        joined = _joined(ds, node, known | {node.id: facts}, after)
        if joined:
            # Hash and ASOF joins do not keep the probe side's order at more than one thread,
            # so such a table sorts its rows by their index — right after the joining columns.
            table = sorted_layout(table, joined)
        tables.append(table)
        known[node.id] = table.facts
    if problems:
        raise SchemaError(problems)
    return Plan(ds, seed, scale, tuple(tables), sample)


def row_source(rows: int, node: S.Node) -> RowSource:
    """Where an entity of ``rows`` rows reads its row index.

    ``range(n)`` is scanned by one thread, so the whole table's pipeline runs on one core.
    A temp table of row numbers (``table``) is scanned in parallel, one DuckDB row group
    (122,880 rows) per task, and the COPY still writes in row order: about twice as fast on
    two cores, at 8 bytes of memory per row. Below two row groups of rows, the table holds two
    row groups anyway (``split``), the first half of the rows in the first, the rest in the
    second and NULL padding (filtered out), so that two cores share the work — once the work
    outweighs the ~3 ms the padded table costs: from one row group of rows, or a quarter of one
    with costly columns (Faker). Above 50M rows ``range(n)`` keeps the memory flat
    (docs/performance.md has the measurements)."""
    if rows in ROW_TABLE_ROWS:
        return "table"
    costly = any(generator_of(c)[0].costly for c in node.columns)
    return "split" if rows in (SPLIT_FAKER_ROWS if costly else SPLIT_ROWS) else "range"


def _joined(ds: S.Dataset, node: S.Node, known: dict[str, TableFacts], after: set[str]) -> frozenset[str]:
    """The columns whose value needs a join that does not keep the rows' order (``after``:
    the columns drawn after others)."""
    found = set()
    set_by_funnel = funnel.roles(node)
    for col in node.columns:
        if col.name in set_by_funnel:
            continue  # its declared generator is replaced
        kind, spec = generator_of(col)
        if kind.joins(spec, Place(col, node, ds, known, col.name in after)) or any(
            MODIFIERS[m.transform].joins for m in col.modifiers
        ):
            found.add(col.name)
    return frozenset(found)


def _later_reads(ds: S.Dataset, table: str, facts: TableFacts) -> tuple[bool, bool]:
    """Whether another table reads ``table`` at all, and whether it reads its values (then
    ``table`` is kept as a temp table).

    Reads that are arithmetic on its row index need no values: spawning a fact's rows as its
    primary parent, and lookups without ``on`` of sequence or pure columns (computed at the
    row). Those need only its row count: known for an entity, counted once for a fact."""
    read = values = False
    for node in ds.nodes:
        for r in table_reads(ds, node):
            if r.table != table or node.id == table:
                continue
            arithmetic = r.kind == "lookup" and not r.keyed and r.column in facts.computable
            read = True
            values = values or not (r.kind == "parent" or arithmetic) or bool(node.modifiers)
    return read, values


def fanout_mean(fanout: Fanout) -> float:
    if fanout.distribution == "funnel":
        return fanout.lam
    if fanout.distribution == "uniform":
        hi = fanout.hi if fanout.hi is not None else fanout.lo
        return (fanout.lo + hi) / 2
    if fanout.lam > 50:
        lo = max(fanout.lam, fanout.lo)
        return lo if fanout.hi is None else min(lo, fanout.hi)
    point = poisson_point(fanout.lam, fanout.lo, fanout.hi)
    if point is not None:
        return float(point)
    return sum(k * p for k, p in enumerate(poisson_pmf(fanout.lam, fanout.lo, fanout.hi)))


def mean_fanout_factor(ds: S.Dataset, node: S.Node) -> float:
    """The mean of the primary parent's segment ``fanout_multiplier`` over its segment column's
    declared choice weights (1 when they are not literal). Vintage curves depend on the parents'
    created_at, whose law the plan does not integrate: they count as 1 here."""
    scaling = behaviours.scaling(ds, node)
    if scaling is None or scaling.segment is None or node.stage_config is not None:
        return 1.0  # a funnel's count is its stages
    seg = scaling.segment
    col = next((c for c in scaling.parent.columns if c.name == seg.segment_column), None)
    if col is None or not isinstance(col.generator, S.ChoiceGen) or col.generator.choice.choices is None:
        return 1.0
    spec = col.generator.choice
    if spec.weights is not None:
        weights = list(spec.weights)
    elif spec.weights_kind is None:
        weights = [1.0] * len(spec.choices)
    else:
        kind, params = S.parse_weights_kind(spec.weights_kind)
        weights = kind_weights(kind, params, len(spec.choices))
    total = sum(weights)
    texts = [behaviours.segment_text(c) for c in spec.choices]
    multipliers = [seg.behaviors[t].fanout_multiplier if t in seg.behaviors else 1.0 for t in texts]
    return sum(w * m for w, m in zip(weights, multipliers, strict=True)) / total if total > 0 else 1.0


def _expected_rows(table: TablePlan, expected: dict[str, float]) -> float:
    if table.rows is not None:
        return float(table.rows)
    f = table.fanout
    assert f is not None
    if f.hi == 0 or expected.get(f.parent, 0.0) == 0:
        return 0.0
    return expected[f.parent] * fanout_mean(f)


def _row_count(node: S.Node, path: str, scale: float, sample: int | None) -> int | None:
    if node.kind == "vocab":
        enum_col = next(c for c in node.columns if isinstance(c.generator, S.EnumListGen))
        return len(enum_col.generator.enum_list.values)
    if node.kind == "fact" and node.parents:
        return None
    rows = round((DEFAULT_ROWS if node.rows is None else node.rows) * scale)
    if rows > ROWS_LIMIT:
        raise SchemaError(
            [f"{path}.rows: {rows:,} rows is beyond the limit of {ROWS_LIMIT:,}; lower rows or --scale."]
        )
    return rows if sample is None else min(rows, sample)


def _fanout(node: S.Node) -> Fanout | None:
    if node.kind != "fact" or not node.parents:
        return None
    if node.stage_config is not None:
        stages = len(node.stage_config.stages)
        return Fanout(node.parents[0], "funnel", funnel.expected_count(node.stage_config), 1, stages)
    f = node.fanout
    if f is None:
        return Fanout(node.parents[0], "uniform", 1.0, 1, 1)
    lo, hi = f.bounds
    return Fanout(node.parents[0], f.distribution, f.lambda_ or 0.0, lo, hi)


def guard_name(column: str) -> str:
    """The pseudo column of a bounded column's guard in the layer graph."""
    return f"{RESERVED_PREFIX}guard_{column}"


def _with_guards(reads: dict[str, list[str]], bounds: tuple[Bound, ...]) -> dict[str, list[str]]:
    """The layer graph with the inequalities: a column drawn after others reads them; its guard
    reads it and its bounds; every other column that reads a bounded column reads its guard
    (so it sees the guarded value)."""
    graph = {name: list(deps) for name, deps in reads.items()}
    guarded: dict[str, str] = {}
    for b in bounds:
        graph[b.column] = list(dict.fromkeys([*graph[b.column], *b.after]))
        graph[guard_name(b.column)] = [b.column, *b.reads]
        guarded[b.column] = guard_name(b.column)
    for name, deps in graph.items():
        if not name.startswith(RESERVED_PREFIX):
            graph[name] = deps + [guarded[d] for d in deps if d in guarded]
        elif name in guarded.values():
            own = name[len(guard_name("")) :]
            graph[name] = deps + [guarded[d] for d in deps if d in guarded and d != own]
    return graph


SORT = f"{RESERVED_PREFIX}sort"


def sorted_layout(table: TablePlan, joined: set[str]) -> TablePlan:
    """Re-layer a table whose ``joined`` columns need a join that does not keep row order.

    Those columns and every column they read (transitively) come first, then one layer
    sorts the rows by their index, then every other column. The sort then moves only the
    narrow part of the row (measured: a 7-column fact with an effect 2.24 s → 1.87 s)."""
    bounds = tuple(g.bound for g in table.guards)
    graph = _with_guards({cp.column.name: list(cp.reads) for cp in table.columns}, bounds)
    early: set[str] = set()
    todo = list(joined)
    while todo:
        name = todo.pop()
        if name not in early:
            early.add(name)
            todo += graph[name]
    graph = {name: deps if name in early else [*deps, SORT] for name, deps in graph.items()}
    graph[SORT] = sorted(early)
    layer = _layers(table.node, table.path, graph)
    return replace(
        table,
        joined=frozenset(joined),
        columns=tuple(replace(cp, layer=layer[cp.column.name]) for cp in table.columns),
        guards=tuple(replace(g, layer=layer[guard_name(g.bound.column)]) for g in table.guards),
        sort_layer=layer[SORT],
    )


def _layers(node: S.Node, path: str, reads: dict[str, list[str]]) -> dict[str, int]:
    graph: Graph[str] = Graph(reads)
    for name, deps in reads.items():
        for dep in deps:
            graph.add_edge(dep, name)
    cycle = graph.cycle()
    if cycle:
        loop = " -> ".join(cycle)
        raise SchemaError(
            [f"{path}.columns: columns read each other in a cycle: {loop}; break one reference."]
        )
    layer: dict[str, int] = {}
    for name in graph.order():
        layer[name] = 1 + max((layer[d] for d in reads[name]), default=-1)
    return layer


def _sequences(node: S.Node) -> dict[str, tuple[float, float]]:
    """Columns whose output is exactly ``start + step * row`` (no modifiers, no NULLs)."""
    found = {}
    set_by_funnel = funnel.roles(node)
    for c in node.columns:
        if c.name in set_by_funnel:
            continue
        kind, spec = generator_of(c)
        arithmetic = None if c.modifiers or c.null_rate else kind.sequence(spec, c)
        if arithmetic is not None:
            found[c.name] = arithmetic
    return found


def _pure_columns(
    ds: S.Dataset,
    node: S.Node,
    reads: dict[str, list[str]],
    layer: dict[str, int],
    known: dict[str, TableFacts],
    bounded: set[str],
) -> frozenset[str]:
    """Columns that are a pure function of the row index (no join, no parent, no bound):
    a lookup can recompute them at the picked row instead of joining the table."""
    if node.kind == "fact" and node.parents:
        return frozenset()
    pure: set[str] = set()
    for col in sorted(node.columns, key=lambda c: layer[c.name]):
        kind, spec = generator_of(col)
        if (
            col.name not in bounded
            and all(d in pure for d in reads[col.name])
            and not any(MODIFIERS[m.transform].joins for m in col.modifiers)
            and kind.pure(spec, Place(col, node, ds, known))
        ):
            pure.add(col.name)
    return frozenset(pure)


def _plan_table(
    ds: S.Dataset,
    node: S.Node,
    path: str,
    scale: float,
    sample: int | None,
    known: dict[str, TableFacts],
) -> TablePlan:
    reads = {col.name: column_reads(node, col) for col in node.columns}
    bounds = table_bounds(ds, node)
    layer = _layers(node, path, _with_guards(reads, bounds))
    rows = _row_count(node, path, scale, sample)
    guards = tuple(Guard(b, layer[guard_name(b.column)]) for b in bounds)
    columns = tuple(
        ColumnPlan(col, f"{path}.columns[{j}]", tuple(reads[col.name]), layer[col.name])
        for j, col in enumerate(node.columns)
    )
    bounded = {b.column for b in bounds}
    pure = _pure_columns(ds, node, reads, layer, known, bounded) if rows is not None else frozenset()
    facts = TableFacts(node.id, rows, _sequences(node), pure)
    return TablePlan(node, path, rows, _fanout(node), columns, False, facts, guards)
