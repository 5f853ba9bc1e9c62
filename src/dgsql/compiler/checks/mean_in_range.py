"""``targets.mean_in_range``: the mean of a column's non-NULL values lies within ``[min, max]``
(the user's bounds, widened by 1e-9 relative for the float sum's rounding; the standard error is
reported alongside)."""

from __future__ import annotations

from collections.abc import Iterator

from dgsql.compiler.checks.spec import CheckContext, CheckSpec
from dgsql.compiler.checks.targets import bounded_column_checks

KIND = "mean_in_range"
CATEGORY = "behaviour"
DECLARED_BY = "mean_in_range"

TEMPLATE = """\
SELECT row_count, mean, {lo} AS min, {hi} AS max, sd / sqrt(row_count) AS standard_error,
  CASE WHEN row_count = 0 THEN NULL
    ELSE mean BETWEEN {lo} - 1e-9 * greatest(abs({lo}), 1) AND {hi} + 1e-9 * greatest(abs({hi}), 1) END AS ok
FROM (SELECT count({col}) AS row_count, avg({col}) AS mean, stddev_samp({col}) AS sd FROM {table})"""


def compile(ctx: CheckContext) -> Iterator[CheckSpec]:
    return bounded_column_checks(
        ctx,
        kind=KIND,
        category=CATEGORY,
        template=TEMPLATE,
        column_key="column",
        types=("int", "float"),
        wrong_type="{ref} is a {type} column; a mean needs int or float",
    )
