"""What the funnel checks share: the funnel facts, how their rows point at their parent, and
each row's stage as SQL over the fact's file (``stage_index``, else ``stage_name``'s position)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import NamedTuple

from dgsql.compiler import funnel
from dgsql.compiler.checks.fanout import ParentLink, parent_link
from dgsql.compiler.checks.spec import CheckContext
from dgsql.compiler.checks.views import table
from dgsql.compiler.sqltext import Sql, fill, ident, lit
from dgsql.dsl.model import Node

STAGED = """\
staged AS (
  SELECT {fk} AS parent_key, {stage} AS stage{extra} FROM {fact} WHERE {fk} IS NOT NULL
)"""


class Funnel(NamedTuple):
    index: int
    "The node's position in ``nodes``."
    node: Node
    link: ParentLink | str
    "How rows point at their parent, or why the checks cannot tell."

    @property
    def source(self) -> str:
        return f"nodes[{self.index}].stage_config"

    @property
    def problem(self) -> str | None:
        """Why the funnel cannot be checked (None: it can)."""
        if isinstance(self.link, str):
            return self.link
        if stage_sql(self.node) is None:
            return "no stage_name or stage_index column is written, so the rows do not say their stage"
        return None


def funnels(ctx: CheckContext) -> Iterator[Funnel]:
    """The facts with a ``stage_config``, in schema order."""
    for i, node in enumerate(ctx.dataset.nodes):
        if node.kind == "fact" and node.parents and node.stage_config is not None:
            yield Funnel(i, node, parent_link(ctx, node))


def stage_sql(node: Node) -> Sql | None:
    """A row's 0-based stage: its ``stage_index``, else the position of its ``stage_name`` among
    the stages (NULL when it names none)."""
    assert node.stage_config is not None
    written = {c.name for c in node.written}
    roles = funnel.roles(node)
    if roles.get("stage_index") == "stage_index" and "stage_index" in written:
        return ident("stage_index")
    if roles.get("stage_name") == "stage_name" and "stage_name" in written:
        cases = " ".join(
            f"WHEN {lit(s.stage_name)} THEN {lit(i)}" for i, s in enumerate(node.stage_config.stages)
        )
        return Sql(f"(CASE {ident('stage_name')} {cases} END)")
    return None


def staged_cte(f: Funnel, extra: Sql | None = None, tables: Callable[[str], Sql] = table) -> Sql:
    """``staged(parent_key, stage, …extra)``: one row per fact row (``tables``: the relation
    read for a table, default its view)."""
    assert isinstance(f.link, ParentLink)
    stage = stage_sql(f.node)
    assert stage is not None
    return fill(
        STAGED,
        fk=ident(f.link.child_column),
        stage=stage,
        extra=extra or Sql(""),
        fact=tables(f.node.id),
    )
