"""``constraints.unique``: no value occurs twice (NULLs are not values). Node pks are checked by
:mod:`primary_key`, so a pk listed here is not checked twice."""

from __future__ import annotations

from collections.abc import Iterator

from dgsql.compiler.checks.spec import CheckContext, CheckSpec, compiled, not_compiled
from dgsql.compiler.checks.views import table
from dgsql.compiler.sqltext import fill, ident

KIND = "unique"
CATEGORY = "constraint"
DECLARED_BY = "unique"

TEMPLATE = """\
SELECT {col}, count(*) AS occurrences
FROM {table}
WHERE {col} IS NOT NULL
GROUP BY {col}
HAVING count(*) > 1"""


def compile(ctx: CheckContext) -> Iterator[CheckSpec]:
    for i, ref in enumerate(ctx.dataset.constraints.unique):
        source = f"constraints.unique[{i}]"
        t, c, _, problem = ctx.resolve(ref)
        if problem:
            yield not_compiled(KIND, CATEGORY, ref, source, problem)
            continue
        if ctx.nodes[t].pk == c:
            continue
        yield compiled(KIND, CATEGORY, ref, sql=fill(TEMPLATE, col=ident(c), table=table(t)), source=source)
