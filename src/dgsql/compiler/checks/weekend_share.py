"""``targets.weekend_share``: the share of rows (with a non-NULL timestamp) on Saturday or
Sunday lies within the declared ``[min, max]``. The bounds are the user's; the standard error
is reported so that a near miss on a small table can be told from a real one."""

from __future__ import annotations

from collections.abc import Iterator

from dgsql.compiler.checks.spec import CheckContext, CheckSpec, not_compiled
from dgsql.compiler.checks.sql import fill, ident, lit, table
from dgsql.compiler.checks.targets import entries

KIND = "weekend_share"
CATEGORY = "behaviour"
DECLARED_BY = "weekend_share"

TEMPLATE = """\
SELECT row_count, weekend / row_count AS share, {lo} AS min, {hi} AS max,
  sqrt((weekend / row_count) * (1 - weekend / row_count) / row_count) AS standard_error,
  CASE WHEN row_count = 0 THEN NULL ELSE weekend / row_count BETWEEN {lo} AND {hi} END AS ok
FROM (
  SELECT count(*) AS row_count, CAST(count(*) FILTER (WHERE isodow({ts}) >= 6) AS DOUBLE) AS weekend
  FROM {table} WHERE {ts} IS NOT NULL
)"""


def compile(ctx: CheckContext) -> Iterator[CheckSpec]:
    for target, source in entries(ctx.dataset, "weekend_share"):
        ref = f"{target.table}.{target.timestamp}"
        _, _, col, problem = ctx.resolve(ref)
        if problem is None and col is not None and col.type not in ("datetime", "date"):
            problem = f"{ref} is a {col.type} column, not a datetime or date"
        if problem:
            yield not_compiled(KIND, CATEGORY, ref, source, problem)
            continue
        yield CheckSpec(
            id=f"{KIND}:{ref}",
            kind=KIND,
            category=CATEGORY,
            target=ref,
            sql=fill(
                TEMPLATE,
                ts=ident(target.timestamp),
                table=table(target.table),
                lo=lit(target.min),
                hi=lit(target.max),
            ),
            mode="stat",
            source=source,
            expect={"min": target.min, "max": target.max},
        )
