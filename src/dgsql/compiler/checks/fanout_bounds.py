"""Every primary-parent row of a fact has between ``fanout.min`` and ``fanout.max`` children
(exactly one without ``fanout``; 1 to the number of stages in a funnel). A table-level ``effect`` scales the counts, so the bounds
widen by the smallest and largest factor the effect table (or its default) can apply."""

from __future__ import annotations

from collections.abc import Iterator

from dgsql.compiler import behaviours
from dgsql.compiler.checks.fanout import children_cte, parent_link
from dgsql.compiler.checks.spec import CheckContext, CheckSpec, compiled, not_compiled
from dgsql.compiler.checks.views import table
from dgsql.compiler.sqltext import Sql, fill, ident, lit
from dgsql.dsl.model import Node

KIND = "fanout_bounds"
CATEGORY = "constraint"
DECLARED_BY = None

TEMPLATE = """\
{children}
SELECT parent_key, children, {lo} AS min_children, {hi} AS max_children
FROM children
WHERE children < {lo} OR children > {hi}"""

SCALED = """\
{children}
SELECT c.parent_key, c.children, {lo} AS min_children, {hi} AS max_children
FROM children AS c JOIN {parent} AS p ON p.{pk} = c.parent_key
WHERE c.children < {lo} OR c.children > {hi}"""


def _effect_bounds(ctx: CheckContext, node: Node, lo: Sql, hi: Sql | None) -> tuple[Sql, Sql | None] | str:
    """``lo``/``hi`` widened by the smallest and largest factor ``node``'s effects can apply."""
    for mod in node.modifiers:
        a = mod.args
        if ctx.column(a.effect_table, a.map.field) is None:
            return f"effect table {a.effect_table!r} has no column {a.map.field!r}"
        parts = {"t": table(a.effect_table), "f": ident(a.map.field), "d": lit(a.map.default)}
        fmin = fill("least({d}, (SELECT min({f}) FROM {t}))", **parts)
        fmax = fill("greatest({d}, (SELECT max({f}) FROM {t}))", **parts)
        op = Sql("*" if a.map.op == "mul" else "+")
        lo = fill("greatest(0, floor(({lo}) {op} {f}))", lo=lo, op=op, f=fmin)
        if hi is not None:
            hi = fill("ceil(({hi}) {op} {f})", hi=hi, op=op, f=fmax)
    return lo, hi


def compile(ctx: CheckContext) -> Iterator[CheckSpec]:
    for i, node in enumerate(ctx.dataset.nodes):
        if node.kind != "fact" or not node.parents:
            continue
        source = f"nodes[{i}].fanout"
        link = parent_link(ctx, node)
        if isinstance(link, str):
            yield not_compiled(KIND, CATEGORY, node.id, source, link)
            continue
        if node.stage_config is not None:
            # a funnel: 1 to N stages, whatever fanout or effect it carries (both ignored)
            source = f"nodes[{i}].stage_config"
            lo_n, hi_n = 1, len(node.stage_config.stages)
            bounds: tuple[Sql, Sql | None] | str = (lit(lo_n), lit(hi_n))
        else:
            lo_n, hi_n = node.fanout.bounds if node.fanout is not None else (1, 1)
            bounds = _effect_bounds(ctx, node, lit(lo_n), None if hi_n is None else lit(hi_n))
        if isinstance(bounds, str):
            yield not_compiled(KIND, CATEGORY, node.id, source, bounds)
            continue
        lo, hi = bounds
        scaling = behaviours.scaling(ctx.dataset, node)
        factors = scaling.fanout_factors("p") if scaling is not None else []
        parts = {"children": children_cte(link, node.id)}
        if factors:
            # the parent row's segment and vintage factors: the bounds scale per parent
            f = Sql(" * ".join(factors))
            lo = fill("greatest(0, floor(({lo}) * {f}))", lo=lo, f=f)
            hi = fill("ceil(({hi}) * {f})", hi=hi, f=f) if hi is not None else None
            parts.update(parent=table(link.parent), pk=ident(link.key))
        yield compiled(
            KIND,
            CATEGORY,
            node.id,
            sql=fill(
                SCALED if factors else TEMPLATE,
                **parts,
                lo=lo,
                hi=hi if hi is not None else Sql("NULL"),
            ),
            source=source,
            expect={
                "min": lo_n,
                "max": hi_n,
                "per": f"{link.parent}.{link.key}",
                "scaled_by_effect": bool(node.modifiers) and node.stage_config is None,
                "scaled_by_parent": bool(factors),
            },
        )
