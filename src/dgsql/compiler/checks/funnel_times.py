"""A funnel's stage times strictly increase along its stages (exact): per parent row, each
stage's time is after the previous stage's, and stage 0's is the parent's first written datetime
column (when it has one). One check per datetime column the funnel sets."""

from __future__ import annotations

from collections.abc import Iterator

from dgsql.compiler import funnel
from dgsql.compiler.checks.fanout import ParentLink
from dgsql.compiler.checks.funnel import funnels, staged_cte
from dgsql.compiler.checks.spec import CheckContext, CheckSpec, compiled, not_compiled
from dgsql.compiler.checks.views import table
from dgsql.compiler.sqltext import fill, ident

KIND = "funnel_times"
CATEGORY = "constraint"
DECLARED_BY = None

TEMPLATE = """\
WITH {staged},
ordered AS (
  SELECT parent_key, stage, ts, lag(ts) OVER (PARTITION BY parent_key ORDER BY stage) AS previous_ts
  FROM staged
)
SELECT parent_key, stage, ts, previous_ts, CAST(NULL AS TIMESTAMP) AS parent_ts
FROM ordered WHERE ts <= previous_ts OR (ts IS NULL AND stage > 0)"""

START = """
UNION ALL
SELECT s.parent_key, s.stage, s.ts, CAST(NULL AS TIMESTAMP), p.{base}
FROM staged AS s JOIN {parent} AS p ON p.{pk} = s.parent_key
WHERE s.stage = 0 AND s.ts IS DISTINCT FROM p.{base}"""


def compile(ctx: CheckContext) -> Iterator[CheckSpec]:
    for f in funnels(ctx):
        for name, role in funnel.roles(f.node).items():
            if role != "time" or ctx.column(f.node.id, name) is None:
                continue
            ref = f"{f.node.id}.{name}"
            if f.problem:
                yield not_compiled(KIND, CATEGORY, ref, f.source, f.problem)
                continue
            assert isinstance(f.link, ParentLink)
            base = funnel.base_time(ctx.dataset, f.node)
            sql = fill(TEMPLATE, staged=staged_cte(f, fill(", {ts} AS ts", ts=ident(name))))
            if base is not None:
                sql = fill(
                    "{sql}{start}",
                    sql=sql,
                    start=fill(START, base=ident(base), parent=table(f.link.parent), pk=ident(f.link.key)),
                )
            yield compiled(
                KIND,
                CATEGORY,
                ref,
                sql=sql,
                source=f.source,
                expect={"starts_at": f"{f.link.parent}.{base}" if base else None},
            )
