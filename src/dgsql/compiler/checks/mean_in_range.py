"""``targets.mean_in_range``: the mean of a column's non-NULL values lies within ``[min, max]``
(the user's bounds; the standard error is reported alongside)."""

from __future__ import annotations

from collections.abc import Iterator

from dgsql.compiler.checks.spec import CheckContext, CheckSpec, not_compiled
from dgsql.compiler.checks.sql import fill, ident, lit, table
from dgsql.compiler.checks.targets import entries

KIND = "mean_in_range"
CATEGORY = "behaviour"
DECLARED_BY = "mean_in_range"

TEMPLATE = """\
SELECT row_count, mean, {lo} AS min, {hi} AS max, sd / sqrt(row_count) AS standard_error,
  CASE WHEN row_count = 0 THEN NULL ELSE mean BETWEEN {lo} AND {hi} END AS ok
FROM (SELECT count({col}) AS row_count, avg({col}) AS mean, stddev_samp({col}) AS sd FROM {table})"""


def compile(ctx: CheckContext) -> Iterator[CheckSpec]:
    for target, source in entries(ctx.dataset, "mean_in_range"):
        ref = f"{target.table}.{target.column}"
        _, _, col, problem = ctx.resolve(ref)
        if problem is None and col is not None and col.type not in ("int", "float"):
            problem = f"{ref} is a {col.type} column; a mean needs int or float"
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
                col=ident(target.column),
                table=table(target.table),
                lo=lit(target.min),
                hi=lit(target.max),
            ),
            mode="stat",
            source=source,
            expect={"min": target.min, "max": target.max},
        )
