"""``vintage_behavior`` of an entity, on each child fact:

- fanout: per age bucket of the parent (the rounded age of a list curve, clipped to its last
  entry; deciles of the age for a parametric curve), the children per parent match the
  expectation from the declared curve (``checks/behaviour.py``: the clamped fanout law times the
  parent's factors, rounded once);
- value: per age bucket of the parent, a scaled column's mean relative to the largest bucket's
  matches the ratio of the buckets' mean factors (the curve, times any segment multiplier;
  ``checks/behaviour.py``'s value statistic, as the segment value check);
- timestamps: no ``datetime_series`` column of a child precedes its parent's ``created_at``
  (exact; the rows that do are the failures)."""

from __future__ import annotations

from collections.abc import Iterator

from dgsql.compiler import behaviours
from dgsql.compiler.checks.behaviour import ALIAS, fanout_by_group, link_of, scaled_facts, value_by_group
from dgsql.compiler.checks.spec import CheckContext, CheckSpec, compiled, not_compiled
from dgsql.compiler.checks.views import table
from dgsql.compiler.sqltext import SQL_TYPES, Sql, fill, ident
from dgsql.dsl.types import NUMBERS

KIND = "vintage_behavior"
CATEGORY = "behaviour"
DECLARED_BY = None
DECILES = 10

TIMESTAMPS = """\
SELECT x.{fk} AS parent_key, x.{col} AS child_time, p.{created} AS parent_created_at
FROM {fact} AS x JOIN {parent} AS p ON x.{fk} = p.{pk}
WHERE CAST(x.{col} AS {t}) < CAST(p.{created} AS {t})"""


def age_bucket(scaling: behaviours.Scaling, curve: behaviours.S.AgeMultiplier) -> Sql:
    """The bucket of the parent's age the fanout is compared by."""
    assert scaling.vintage is not None and scaling.end is not None
    created = f"{ALIAS}.{ident(scaling.vintage.created_at_column)}"
    age = behaviours.age_sql(created, scaling.end, curve.time_unit)
    if isinstance(curve.curve, list):
        return Sql(f"least(CAST(round({age}) AS BIGINT), {len(curve.curve) - 1})")
    return Sql(f"ntile({DECILES}) OVER (ORDER BY {age})")


def curves_of(scaling: behaviours.Scaling, what: str) -> list[tuple[str, behaviours.S.AgeMultiplier]]:
    """The named curves that scale ``what`` (``"fanout"`` or a column); the first sets the buckets."""
    assert scaling.vintage is not None
    return [(n, c) for n, c in scaling.vintage.age_based_multipliers.items() if c in scaling.curves(what)]


def compile(ctx: CheckContext) -> Iterator[CheckSpec]:
    for _, node, scaling in scaled_facts(ctx):
        vintage = scaling.vintage
        if vintage is None:
            continue
        source = f"nodes[{ctx.node_index[scaling.parent.id]}].vintage_behavior"
        link = link_of(ctx, node)
        # the fanout and each numeric column a curve scales: the statistic per age bucket
        scaled = ["fanout", *(c.name for c in node.written if c.type in NUMBERS)]
        for what in scaled:
            curves = curves_of(scaling, what)
            if not curves:
                continue
            name, curve = curves[0]
            fanout = what == "fanout"
            target = f"{node.id}:fanout" if fanout else f"{node.id}.{what}"
            check_id = None if fanout else f"{KIND}:{target}:value"
            where = f"{source}.age_based_multipliers.{name}"
            reason = (
                link
                if isinstance(link, str)
                else "a table-level effect also scales the fanout"
                if fanout and node.modifiers
                else "no timeframe"
                if scaling.end is None
                else None
            )
            if reason is not None:
                yield not_compiled(KIND, CATEGORY, target, where, reason, id=check_id)
                continue
            assert not isinstance(link, str)
            group = age_bucket(scaling, curve)
            yield compiled(
                KIND,
                CATEGORY,
                target,
                id=check_id,
                sql=(
                    fanout_by_group(ctx, node, scaling, link, group)
                    if fanout
                    else value_by_group(ctx, node, scaling, link, group, what)
                ),
                mode="stat",
                source=where,
                expect={
                    "by": f"age of {scaling.parent.id}.{vintage.created_at_column} in {curve.time_unit}s",
                    "curves": [n for n, _ in curves],
                },
            )
        for col in node.written:
            if not scaling.bounded(col):
                continue
            target = f"{node.id}.{col.name}"
            where = f"{source}.created_at_column"
            if isinstance(link, str) or ctx.column(scaling.parent.id, vintage.created_at_column) is None:
                reason = link if isinstance(link, str) else f"{scaling.parent.id} writes no created_at column"
                yield not_compiled(KIND, CATEGORY, target, where, reason, id=f"{KIND}:{target}:timestamps")
                continue
            yield compiled(
                KIND,
                CATEGORY,
                target,
                id=f"{KIND}:{target}:timestamps",
                sql=fill(
                    TIMESTAMPS,
                    fk=ident(link.child_column),
                    col=ident(col.name),
                    created=ident(vintage.created_at_column),
                    t=Sql(SQL_TYPES[col.type]),  # a date child: not before created_at's day
                    fact=table(node.id),
                    parent=table(link.parent),
                    pk=ident(link.key),
                ),
                source=where,
                expect={"not_before": f"{scaling.parent.id}.{vintage.created_at_column}"},
            )
