"""``constraints.ranges``: non-NULL values lie within ``[min, max]`` (either bound optional)."""

from __future__ import annotations

from collections.abc import Iterator

from dgsql.compiler.checks.spec import CheckContext, CheckSpec, compiled, not_compiled
from dgsql.compiler.checks.views import table
from dgsql.compiler.sqltext import Sql, fill, ident, join, lit

KIND = "range"
CATEGORY = "constraint"
DECLARED_BY = "ranges"

TEMPLATE = """\
SELECT {examples}
FROM {table}
WHERE {outside}"""


def compile(ctx: CheckContext) -> Iterator[CheckSpec]:
    for i, rng in enumerate(ctx.dataset.constraints.ranges):
        source = f"constraints.ranges[{i}]"
        t, c, col, problem = ctx.resolve(rng.attr)
        if problem is None and rng.min is None and rng.max is None:
            problem = "the range has neither min nor max"
        if problem:
            yield not_compiled(KIND, CATEGORY, rng.attr, source, problem)
            continue
        tests = []
        if rng.min is not None:
            tests.append(fill("{c} < {v}", c=ident(c), v=lit(rng.min)))
        if rng.max is not None:
            tests.append(fill("{c} > {v}", c=ident(c), v=lit(rng.max)))
        yield compiled(
            KIND,
            CATEGORY,
            rng.attr,
            sql=fill(
                TEMPLATE,
                examples=ctx.example_columns(t, "", c),
                table=table(t),
                outside=join(tests, Sql(" OR ")),
            ),
            source=source,
            expect={"min": rng.min, "max": rng.max},
        )
