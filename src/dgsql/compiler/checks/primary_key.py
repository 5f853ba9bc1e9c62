"""A node's ``pk`` column holds no NULL and no duplicate."""

from __future__ import annotations

from collections.abc import Iterator

from dgsql.compiler.checks.spec import CheckContext, CheckSpec, compiled, not_compiled
from dgsql.compiler.checks.views import table
from dgsql.compiler.sqltext import fill, ident

KIND = "primary_key"
CATEGORY = "constraint"
DECLARED_BY = None

TEMPLATE = """\
SELECT {col}, count(*) AS occurrences
FROM {table}
GROUP BY {col}
HAVING {col} IS NULL OR count(*) > 1"""


def compile(ctx: CheckContext) -> Iterator[CheckSpec]:
    for i, node in enumerate(ctx.dataset.nodes):
        if node.pk is None:
            continue
        target = f"{node.id}.{node.pk}"
        source = f"nodes[{i}].pk"
        if ctx.column(node.id, node.pk) is None:
            yield not_compiled(KIND, CATEGORY, target, source, "the pk is not one of the columns")
            continue
        sql = fill(TEMPLATE, col=ident(node.pk), table=table(node.id))
        yield compiled(KIND, CATEGORY, target, sql=sql, source=source, gate=True)
