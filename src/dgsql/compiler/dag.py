"""Pass 3: order the tables by their dependencies.

A table depends on its parents and on every table its ``lookup``,
``choices_ref``, ``enum_ref`` and ``effect`` entries name (a funnel reads its primary
parent's segment and time columns). Self-references are
allowed; a cycle between different tables is an error that prints the cycle.
The order is deterministic: among tables ready at the same time, schema order.
"""

from __future__ import annotations

from dgsql.compiler import funnel
from dgsql.compiler.generators import generator_of
from dgsql.compiler.graph import Graph
from dgsql.compiler.kind import Read
from dgsql.compiler.modifiers import MODIFIERS
from dgsql.dsl import model as S
from dgsql.errors import SchemaError


def reads(ds: S.Dataset, node: S.Node) -> list[Read]:
    """Every read of another table (or of ``node`` itself, for self-references)."""
    found = [Read(p, "parent" if i == 0 else "other_parent") for i, p in enumerate(node.parents)]
    if node.kind == "fact" and node.parents:
        primary = next((n for n in ds.nodes if n.id == node.parents[0]), None)
        if primary is not None and (primary.segment_behavior or primary.vintage_behavior):
            # the parent's segment or created_at scales the fact: its values are read
            found.append(Read(primary.id, "behaviour"))
    for col in node.columns:
        kind, spec = generator_of(col)
        found += kind.tables(spec, ds)
        if col.constraints and col.constraints.enum_ref:
            found.append(Read(ds.split_ref(col.constraints.enum_ref)[0], "enum_ref"))
        for mod in col.modifiers:
            found += MODIFIERS[mod.transform].tables(mod.args)
    found += [Read(m.args.effect_table, "effect") for m in node.modifiers]
    found += [Read(node.parents[0], "funnel", column) for column in funnel.reads(ds, node)]
    for e in ds.constraints.enum:
        if e.enum_ref and ds.split_ref(e.attr)[0] == node.id:
            found.append(Read(ds.split_ref(e.enum_ref)[0], "enum_ref"))
    return found


def dependencies(ds: S.Dataset, node: S.Node) -> list[str]:
    """Tables ``node`` reads, in first-mention order, itself excluded."""
    return [d for d in dict.fromkeys(r.table for r in reads(ds, node)) if d != node.id]


def order_tables(ds: S.Dataset) -> list[S.Node]:
    """Nodes in generation order; raises SchemaError on a cycle or a bad ``dag``."""
    position = {n.id: i for i, n in enumerate(ds.nodes)}
    graph: Graph[str] = Graph(position)
    for node in ds.nodes:
        for dep in dependencies(ds, node):
            graph.add_edge(dep, node.id)
    cycle = graph.cycle()
    if cycle:
        path = " -> ".join(cycle)
        raise SchemaError([f"nodes: tables depend on each other in a cycle: {path}; break one reference."])
    if ds.dag is not None:
        return _explicit_order(ds, graph)
    return [ds.node(t) for t in graph.order(key=position.__getitem__)]


def _explicit_order(ds: S.Dataset, graph: Graph[str]) -> list[S.Node]:
    assert ds.dag is not None
    named = [t for level in ds.dag for t in level]
    problems = []
    for t in sorted(set(named) - set(graph), key=named.index):
        problems.append(f"dag: {t!r} is not a node; name only nodes.")
    for t in [t for t in graph if named.count(t) != 1]:
        problems.append(f"dag: {t!r} must appear exactly once (found {named.count(t)} times).")
    level = {t: i for i, lv in enumerate(ds.dag) for t in lv}
    for dep, t in graph.edges:
        if dep in level and t in level and level[dep] >= level[t]:
            problems.append(f"dag: {t!r} reads {dep!r}, so {dep!r} must be in an earlier level; move it.")
    if problems:
        raise SchemaError(problems)
    return [ds.node(t) for t in named]
