"""Inequalities between columns of a table, as bounds on the columns they tie (no SQL here).

An inequality ``low < high`` (or ``<=``; ``>``/``>=`` are read the other way round) between
two columns of one table of the same type among int, float, date, datetime is honoured
while generating, in one of three ways, chosen per inequality:

- **known**: ``high`` is an offset of ``low`` by an amount that cannot be negative (zero
  excluded for ``<``) — ``shipped_at = ordered_at + hours(d)`` with ``d`` drawn from
  ``[1, 5]``. Nothing needs doing.
- **after**: ``high`` is drawn after ``low``, from its own declared law truncated to the
  values allowed by ``low`` (its kind's ``truncated`` draw), then guarded: a value still
  not allowed (the allowed range was empty, a modifier moved it) becomes the bound plus
  one step. A column drawn after several columns is bounded by the largest of them.
- **before**: ``low`` reads ``high`` (``low`` cannot be drawn after it), so ``low`` is only
  guarded: a value not below ``high`` becomes ``high`` minus one step.

A column with no bound keeps its declared law exactly; the checks of validate rely on it.
"""

from __future__ import annotations

from dataclasses import dataclass

from dgsql.compiler.generators import generator_of
from dgsql.compiler.graph import Graph
from dgsql.compiler.modifiers import MODIFIERS
from dgsql.dsl import model as S
from dgsql.errors import SchemaError

HONOURED_OPS = ("<", "<=", ">", ">=")
HONOURED_TYPES = ("int", "float", "date", "datetime")
US_PER_SECOND = 1_000_000


@dataclass(frozen=True)
class Bound:
    """How one column keeps the inequalities that tie it to others."""

    column: str
    after: tuple[str, ...] = ()
    "Columns it is drawn after: its value lies above the largest of them."
    before: tuple[str, ...] = ()
    "Columns it reads and must stay below."
    strict: bool = False
    "Some of its inequalities are strict (``<``): equal values are not allowed."
    paths: tuple[str, ...] = ()
    "JSON paths of the inequalities."

    @property
    def reads(self) -> tuple[str, ...]:
        return (*self.after, *self.before)


def column_reads(node: S.Node, col: S.Column) -> list[str]:
    """Same-row columns a column's generator and modifiers read."""
    kind, spec = generator_of(col)
    reads = kind.reads(spec, col, node)
    for mod in col.modifiers:
        reads += MODIFIERS[mod.transform].reads(mod.args, col, node)
    return list(dict.fromkeys(r for r in reads if r != col.name))


def _edges(ds: S.Dataset, node: S.Node) -> Graph[str]:
    """The honoured inequalities of ``node`` as edges ``low → high`` (strict?, paths)."""
    types = {c.name: c.type for c in node.columns}
    graph: Graph[str] = Graph()
    for i, q in enumerate(ds.constraints.inequalities):
        table, left = ds.split_ref(q.left)
        other, right = ds.split_ref(q.right)
        if table != node.id or other != node.id or q.op not in HONOURED_OPS:
            continue
        if types.get(left) not in HONOURED_TYPES or types[left] != types.get(right) or left == right:
            continue
        low, high = (left, right) if q.op in ("<", "<=") else (right, left)
        graph.add_edge(low, high)
        edge = graph.edge(low, high)
        edge["strict"] = edge.get("strict", False) or q.op in ("<", ">")
        edge["paths"] = (*edge.get("paths", ()), f"constraints.inequalities[{i}]")
    return graph


def known_offset(ds: S.Dataset, node: S.Node, low: str, high: str, strict: bool) -> bool:
    """Whether ``high`` is ``low`` plus an amount that is never negative (never zero if ``strict``)."""
    col = next(c for c in node.columns if c.name == high)
    if col.modifiers:
        return False
    kind, spec = generator_of(col)
    offset = kind.offset(spec, col, node, ds)
    if offset is None or offset[0] != low or offset[1] is None:
        return False
    return offset[1] > 0 if strict else offset[1] >= 0


def table_bounds(ds: S.Dataset, node: S.Node) -> tuple[Bound, ...]:
    """The bounds of ``node``'s columns tied by honoured inequalities, in schema order; raises
    SchemaError when inequalities contradict each other."""
    graph = _edges(ds, node)
    if not graph:
        return ()
    order = [c.name for c in node.columns]
    cycle = graph.cycle()
    if cycle:
        loop = " < ".join(cycle)
        raise SchemaError([f"constraints.inequalities: {loop} contradict each other; drop one."])
    reads: Graph[str] = Graph(order)
    for c in node.columns:
        for r in column_reads(node, c):
            reads.add_edge(r, c.name)
    after: dict[str, list[str]] = {}
    before: dict[str, list[str]] = {}
    strict: dict[str, bool] = {}
    paths: dict[str, list[str]] = {}
    for high in graph.order(key=order.index):
        for low in sorted(graph.predecessors(high), key=order.index):
            edge = graph.edge(low, high)
            if known_offset(ds, node, low, high, edge["strict"]):
                continue
            if reads.reaches(high, low):
                before.setdefault(low, []).append(high)  # low reads high: low is guarded
                touched = (low,)
            else:
                after.setdefault(high, []).append(low)
                reads.add_edge(low, high)
                touched = (high,)
            for name in touched:
                strict[name] = strict.get(name, False) or edge["strict"]
                paths.setdefault(name, []).extend(edge["paths"])
    return tuple(
        Bound(
            name,
            tuple(after.get(name, ())),
            tuple(before.get(name, ())),
            strict[name],
            tuple(sorted(set(paths[name]))),
        )
        for name in order
        if name in strict
    )
