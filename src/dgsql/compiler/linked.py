"""Inequalities between columns of two tables linked by a lookup (no SQL here).

``orders.ordered_at < deliveries.delivered_at``, where ``deliveries`` has a column that looks
up ``orders``' primary key (its ``order_id``): each delivery belongs to one order, so the
inequality compares a delivery with *its* order. It is honoured while generating by the
mechanism of same-table inequalities: the child table gets a hidden column holding its
parent's value (a lookup ``on`` the link key, so the very row the key names), and the
cross-table inequality becomes a same-table one between that column and the child's —
the child's column is drawn from its declared law truncated to after the parent's value
(``compiler/bounds.py``). validate checks it through the same join.

Only the direction "the child's value after the parent's" is honoured (the child is drawn
after its parent); the other direction, and two tables with no such link, are checked by
validate where a link exists, and warned about at compile time otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

from dgsql.compiler.bounds import HONOURED_TYPES
from dgsql.compiler.names import RESERVED_PREFIX
from dgsql.dsl import model as S

FLIPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "=="}


@dataclass(frozen=True)
class Link:
    """``child.key`` looks up ``parent.pk``: a row of ``child`` belongs to one row of ``parent``."""

    parent: str
    child: str
    key: str
    pk: str


@dataclass(frozen=True)
class Crossing:
    """A cross-table inequality, read as ``parent.low op child.high`` when a link exists."""

    index: int
    link: Link | None
    parent_column: str
    child_column: str
    op: str
    "The operator with the parent's column on the left."
    typed: bool
    "Both columns have one type among :data:`HONOURED_TYPES`."

    @property
    def honoured(self) -> bool:
        """The child's value is drawn after the parent's (``<``/``<=``, one type)."""
        return self.link is not None and self.op in ("<", "<=") and self.typed

    @property
    def hidden(self) -> str:
        """The child's hidden column holding the parent's value."""
        return f"{RESERVED_PREFIX}parent_{self.index}_{self.parent_column}"


def link(ds: S.Dataset, parent: str, child: str) -> Link | None:
    """The first column of ``child`` that looks up ``parent``'s primary key, as a Link."""
    pk = ds.node(parent).pk
    if pk is None:
        return None
    for col in ds.node(child).columns:
        gen = col.generator
        if isinstance(gen, S.LookupGen) and ds.split_ref(gen.lookup.from_) == (parent, pk):
            joined = gen.lookup.join
            if joined is None or joined[1] == pk:
                return Link(parent, child, col.name, pk)
    return None


def _type(ds: S.Dataset, table: str, column: str) -> str | None:
    return next((c.type for c in ds.node(table).columns if c.name == column), None)


def crossings(ds: S.Dataset) -> list[Crossing]:
    """Every inequality between two tables (whose references resolve), linked either way round or not."""
    found = []
    for i, q in enumerate(ds.constraints.inequalities):
        try:
            (lt, lc), (rt, rc) = ds.split_ref(q.left), ds.split_ref(q.right)
        except KeyError:
            continue
        types = {_type(ds, lt, lc), _type(ds, rt, rc)}
        if lt == rt or None in types:
            continue
        typed = len(types) == 1 and types <= set(HONOURED_TYPES)
        if (found_link := link(ds, lt, rt)) is not None:
            found.append(Crossing(i, found_link, lc, rc, q.op, typed))
        elif (found_link := link(ds, rt, lt)) is not None:
            found.append(Crossing(i, found_link, rc, lc, FLIPPED[q.op], typed))
        else:
            found.append(Crossing(i, None, lc, rc, q.op, typed))
    return found


def with_linked_bounds(ds: S.Dataset) -> S.Dataset:
    """``ds`` with every honoured crossing made a same-table inequality of the child: a hidden
    column holding the parent's value (a lookup on the link key) and the inequality between it
    and the child's column. Salts depend on column names, so no other column changes."""
    honoured = [c for c in crossings(ds) if c.honoured]
    if not honoured:
        return ds
    nodes = {n.id: n for n in ds.nodes}
    inequalities = list(ds.constraints.inequalities)
    for c in honoured:
        assert c.link is not None
        child = nodes[c.link.child]
        parent_col = next(col for col in nodes[c.link.parent].columns if col.name == c.parent_column)
        lookup = {"from": f"{c.link.parent}.{c.parent_column}", "on": {c.link.key: c.link.pk}}
        hidden = S.Column.model_validate(
            {"name": c.hidden, "type": parent_col.type, "hidden": True, "generator": {"lookup": lookup}}
        )
        nodes[child.id] = child.model_copy(update={"columns": [*child.columns, hidden]})
        inequalities[c.index] = S.Inequality.model_validate(
            {"left": f"{child.id}.{c.hidden}", "op": c.op, "right": f"{child.id}.{c.child_column}"}
        )
    constraints = ds.constraints.model_copy(update={"inequalities": inequalities})
    return ds.model_copy(update={"nodes": [nodes[n.id] for n in ds.nodes], "constraints": constraints})
