"""``targets.weekend_share``: the share of rows (with a non-NULL timestamp) on Saturday or
Sunday lies within the declared ``[min, max]``. The bounds are the user's; the standard error
is reported so that a near miss on a small table can be told from a real one."""

from __future__ import annotations

from collections.abc import Iterator

from dgsql.compiler.checks.spec import CheckContext, CheckSpec
from dgsql.compiler.checks.targets import bounded_column_checks

KIND = "weekend_share"
CATEGORY = "behaviour"
DECLARED_BY = "weekend_share"

TEMPLATE = """\
SELECT row_count, weekend / row_count AS share, {lo} AS min, {hi} AS max,
  sqrt((weekend / row_count) * (1 - weekend / row_count) / row_count) AS standard_error,
  CASE WHEN row_count = 0 THEN NULL ELSE weekend / row_count BETWEEN {lo} AND {hi} END AS ok
FROM (
  SELECT count(*) AS row_count, CAST(count(*) FILTER (WHERE isodow({col}) >= 6) AS DOUBLE) AS weekend
  FROM {table} WHERE {col} IS NOT NULL
)"""


def compile(ctx: CheckContext) -> Iterator[CheckSpec]:
    return bounded_column_checks(
        ctx,
        kind=KIND,
        category=CATEGORY,
        template=TEMPLATE,
        column_key="timestamp",
        types=("datetime", "date"),
        wrong_type="{ref} is a {type} column, not a datetime or date",
    )
