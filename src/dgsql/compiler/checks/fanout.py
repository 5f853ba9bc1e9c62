"""Children per primary-parent row of a fact, as a query (shared by the fanout checks).

A fact's rows are counted per parent through its ``lookup`` column without ``on`` that reads
``parents[0]``'s pk (or a column declared unique): that column holds the key of the parent row
that spawned the child.
"""

from __future__ import annotations

from typing import NamedTuple

from dgsql.compiler.checks.spec import CheckContext
from dgsql.compiler.checks.views import table
from dgsql.compiler.sqltext import Sql, fill, ident
from dgsql.dsl.model import LookupGen, Node

CHILDREN = """\
WITH per_parent AS (
  SELECT {fk} AS parent_key, count(*) AS n FROM {fact} WHERE {fk} IS NOT NULL GROUP BY {fk}
),
children AS (
  SELECT p.{pk} AS parent_key, coalesce(k.n, 0) AS children
  FROM {parent} AS p LEFT JOIN per_parent AS k ON k.parent_key = p.{pk}
)"""


class ParentLink(NamedTuple):
    """How a fact's rows point at the primary-parent row that spawned them."""

    parent: str
    "The parent table."
    key: str
    "The parent's key column (its pk, or a column declared unique)."
    child_column: str
    "The fact's column holding that key."


def parent_link(ctx: CheckContext, node: Node) -> ParentLink | str:
    """How ``node``'s children are counted per parent, or why they cannot be."""
    if not node.parents:
        return "the fact has no parents"
    parent = ctx.node(node.parents[0])
    if parent is None:
        return f"no table {node.parents[0]!r} in the schema"
    unique = set(ctx.dataset.constraints.unique)
    for col in node.written:
        gen = col.generator
        if isinstance(gen, LookupGen) and gen.lookup.on is None and not col.modifiers:
            t, c = ctx.dataset.split_ref(gen.lookup.from_)
            if t == parent.id and (c == parent.pk or gen.lookup.from_ in unique):
                return ParentLink(parent.id, c, col.name)
    return (
        f"no column of {node.id!r} is a lookup (without on) of {parent.id!r}'s pk, "
        "so children cannot be counted per parent"
    )


def children_cte(link: ParentLink, fact: str) -> Sql:
    """A ``WITH`` clause defining ``children(parent_key, children)``, one row per parent row."""
    return fill(
        CHILDREN,
        fk=ident(link.child_column),
        fact=table(fact),
        pk=ident(link.key),
        parent=table(link.parent),
    )
