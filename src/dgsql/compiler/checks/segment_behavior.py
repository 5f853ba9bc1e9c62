"""``segment_behavior`` of an entity, on each child fact: per segment, the children per parent
match the declared ``fanout_multiplier`` (exactly modelled: the clamped fanout law times the
parent's factors, rounded once; ``checks/behaviour.py``), and each ``applies_to_columns``
column's mean, as a ratio to the base segment's, matches the ratio of the declared
``value_multiplier`` (times any vintage curve on the column). A table-level effect on the fact
scales its fanout in a way the check does not model: the fanout part is then not evaluated."""

from __future__ import annotations

from collections.abc import Iterator

from dgsql.compiler.checks.behaviour import (
    fanout_by_group,
    link_of,
    scaled_facts,
    segment_group,
    value_by_group,
)
from dgsql.compiler.checks.spec import CheckContext, CheckSpec, compiled, not_compiled

KIND = "segment_behavior"
CATEGORY = "behaviour"
DECLARED_BY = None


def compile(ctx: CheckContext) -> Iterator[CheckSpec]:
    for _, node, scaling in scaled_facts(ctx):
        seg = scaling.segment
        if seg is None:
            continue
        source = f"nodes[{ctx.node_index[scaling.parent.id]}].segment_behavior"
        link = link_of(ctx, node)
        target = f"{node.id}:fanout"
        declared = {k: e.fanout_multiplier for k, e in seg.behaviors.items()}
        if isinstance(link, str) or node.modifiers:
            reason = link if isinstance(link, str) else "a table-level effect also scales the fanout"
            yield not_compiled(KIND, CATEGORY, target, source, reason)
        elif any(m != 1.0 for m in declared.values()) and node.stage_config is None:
            yield compiled(
                KIND,
                CATEGORY,
                target,
                sql=fanout_by_group(ctx, node, scaling, link, segment_group(scaling)),
                mode="stat",
                source=source,
                expect={"by": f"{scaling.parent.id}.{seg.segment_column}", "fanout_multiplier": declared},
            )
        for k, column in enumerate(seg.applies_to_columns):
            col = ctx.column(node.id, column)
            if col is None:
                continue  # the column belongs to another child fact (or is hidden)
            target = f"{node.id}.{column}"
            where = f"{source}.applies_to_columns[{k}]"
            if isinstance(link, str):
                yield not_compiled(KIND, CATEGORY, target, where, link)
                continue
            yield compiled(
                KIND,
                CATEGORY,
                target,
                sql=value_by_group(ctx, node, scaling, link, segment_group(scaling), column),
                mode="stat",
                source=where,
                expect={
                    "by": f"{scaling.parent.id}.{seg.segment_column}",
                    "value_multiplier": {k: e.value_multiplier for k, e in seg.behaviors.items()},
                },
            )
