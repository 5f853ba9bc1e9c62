"""A funnel's conversion from stage i−1 to stage i, per segment of the parent, matches
``min(1, transition_rate_i × transition_multiplier)``: among the parent rows that reached stage
i−1, the share that reached stage i lies within :data:`Z` standard errors (``sqrt(p(1−p)/n)``,
the normal bound of :mod:`binned` at its false-alarm rate) plus half a parent (``0.5/n``, the
continuity correction of a binomial count) of it. A (stage, segment) group of fewer than 30 parents is not judged.
Returns the groups that miss."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from dgsql.compiler import funnel
from dgsql.compiler.checks import binned
from dgsql.compiler.checks.fanout import ParentLink
from dgsql.compiler.checks.funnel import Funnel, funnels, staged_cte
from dgsql.compiler.checks.spec import CheckContext, CheckSpec, compiled, not_compiled
from dgsql.compiler.checks.views import table
from dgsql.compiler.sqltext import Sql, double, fill, ident, lit, wrapped

KIND = "funnel_conversion"
CATEGORY = "statistical"
DECLARED_BY = None

Z = binned.Z_TWO_SIDED
MIN_PARENTS = 30

TEMPLATE = """\
WITH {staged},
deepest AS (SELECT parent_key, max(stage) AS deepest FROM staged GROUP BY parent_key),
segmented AS (
  SELECT d.deepest, {segment} AS segment, {multiplier} AS multiplier
  FROM deepest AS d JOIN {parent} AS p ON p.{pk} = d.parent_key
),
rates(stage, rate) AS (VALUES {rates}),
groups AS (
  SELECT r.stage, s.segment, least(1.0, r.rate * s.multiplier) AS expected,
    count(*) FILTER (WHERE s.deepest >= r.stage - 1) AS reached_before,
    count(*) FILTER (WHERE s.deepest >= r.stage) AS reached
  FROM rates AS r CROSS JOIN segmented AS s
  GROUP BY r.stage, s.segment, expected
),
judged AS (
  SELECT *, reached::DOUBLE / nullif(reached_before, 0) AS observed,
    {z} * sqrt(expected * (1 - expected) / nullif(reached_before, 0)) + 0.5 / nullif(reached_before, 0) AS tolerance
  FROM groups
)
{select}"""

MISSES = """\
SELECT stage, segment, reached_before, reached, observed, expected, tolerance
FROM judged
WHERE reached_before >= {min_parents} AND abs(observed - expected) > tolerance
ORDER BY stage, segment"""
"The check: the (stage, segment) groups that miss."
GROUPS = (
    "SELECT stage, segment, reached_before, reached, observed, expected FROM judged ORDER BY stage, segment"
)
"Every (stage, segment) group's conversion, observed and expected."


def compile(ctx: CheckContext) -> Iterator[CheckSpec]:
    for f in funnels(ctx):
        config = f.node.stage_config
        assert config is not None
        sql = conversion(ctx, f, fill(MISSES, min_parents=lit(MIN_PARENTS)))
        if not isinstance(sql, Sql):
            yield not_compiled(KIND, CATEGORY, f.node.id, f.source, sql)
            continue
        yield compiled(
            KIND,
            CATEGORY,
            f.node.id,
            sql=sql,
            source=f.source,
            expect={
                "rates": [s.transition_rate for s in config.stages[1:]],
                "segment_column": funnel.segment_column(ctx.dataset, f.node),
                "multipliers": {k: v.transition_multiplier for k, v in config.segment_variation.items()},
            },
        )


def conversion(ctx: CheckContext, f: Funnel, select: Sql, tables: Callable[[str], Sql] = table) -> Sql | str:
    """The funnel's conversion per (stage, segment) of :data:`TEMPLATE`, ended by ``select``
    (:data:`MISSES`, or :data:`GROUPS`), or why it cannot be computed; ``tables``: the
    relation read for a table (default: its view)."""
    config = f.node.stage_config
    assert config is not None
    problem = f.problem or (None if len(config.stages) > 1 else "one stage: nothing converts")
    if problem:
        return problem
    assert isinstance(f.link, ParentLink)
    segment_col = funnel.segment_column(ctx.dataset, f.node)
    if segment_col is not None and ctx.column(f.link.parent, segment_col) is None:
        return f"{f.link.parent!r} writes no column {segment_col!r}"
    if segment_col is None:
        segment, multiplier = Sql("CAST(NULL AS VARCHAR)"), double(1.0)
    else:
        segment = fill("CAST(p.{c} AS VARCHAR)", c=ident(segment_col))
        cases = [
            fill("WHEN {k} THEN {m}", k=lit(k), m=double(v.transition_multiplier))
            for k, v in config.segment_variation.items()
        ]
        multiplier = (
            fill(
                "(CASE {s} {cases} ELSE {one} END)",
                s=segment,
                cases=Sql(" ".join(cases)),
                one=double(1.0),
            )
            if cases
            else double(1.0)
        )
    rates = wrapped(f"({lit(i)}, {double(s.transition_rate)})" for i, s in enumerate(config.stages) if i > 0)
    return fill(
        TEMPLATE,
        staged=staged_cte(f, tables=tables),
        segment=segment,
        multiplier=multiplier,
        parent=tables(f.link.parent),
        pk=ident(f.link.key),
        rates=Sql(rates),
        z=double(Z),
        select=select,
    )
