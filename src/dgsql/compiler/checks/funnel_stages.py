"""A funnel's stages per parent row are consecutive from 0: its rows hold stages 0, 1, …, k−1,
each once, k at most the number of stages; with both stage columns written, each row's
``stage_name`` is the name of its ``stage_index``."""

from __future__ import annotations

from collections.abc import Iterator

from dgsql.compiler.checks.funnel import funnels, staged_cte
from dgsql.compiler.checks.spec import CheckContext, CheckSpec, compiled, not_compiled
from dgsql.compiler.sqltext import Sql, fill, ident, list_of, lit

KIND = "funnel_stages"
CATEGORY = "constraint"
DECLARED_BY = None

TEMPLATE = """\
WITH {staged}
SELECT parent_key, count(*) AS rows, count(stage) AS known_stages, count(DISTINCT stage) AS distinct_stages,
  min(stage) AS first_stage, max(stage) AS last_stage, bool_and(name_ok) AS names_match
FROM staged
GROUP BY parent_key
HAVING count(stage) <> count(*) OR count(DISTINCT stage) <> count(*) OR min(stage) <> 0
  OR max(stage) <> count(*) - 1 OR max(stage) >= {stages} OR NOT bool_and(name_ok)"""


def compile(ctx: CheckContext) -> Iterator[CheckSpec]:
    for f in funnels(ctx):
        if f.problem:
            yield not_compiled(KIND, CATEGORY, f.node.id, f.source, f.problem)
            continue
        config = f.node.stage_config
        assert config is not None
        names = [s.stage_name for s in config.stages]
        written = {c.name for c in f.node.written}
        name_ok = Sql("TRUE")
        if {"stage_name", "stage_index"} <= written:
            name_ok = fill(
                "{name} IS NOT DISTINCT FROM ({names})[{index} + 1]",
                name=ident("stage_name"),
                names=list_of(names, "VARCHAR"),
                index=ident("stage_index"),
            )
        staged = staged_cte(f, fill(", {ok} AS name_ok", ok=name_ok))
        yield compiled(
            KIND,
            CATEGORY,
            f.node.id,
            sql=fill(TEMPLATE, staged=staged, stages=lit(len(names))),
            source=f.source,
            expect={"stages": names},
        )
