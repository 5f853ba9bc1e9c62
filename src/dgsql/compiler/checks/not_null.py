"""A column that is not ``nullable`` holds no NULL."""

from __future__ import annotations

from collections.abc import Iterator

from dgsql.compiler.checks.spec import CheckContext, CheckSpec, compiled
from dgsql.compiler.checks.views import table
from dgsql.compiler.sqltext import fill, ident

KIND = "not_null"
CATEGORY = "constraint"
DECLARED_BY = None

TEMPLATE = """\
SELECT {examples}
FROM {table}
WHERE {col} IS NULL"""


def compile(ctx: CheckContext) -> Iterator[CheckSpec]:
    for node in ctx.dataset.nodes:
        for col in node.written:
            if col.nullable:
                continue
            target = f"{node.id}.{col.name}"
            yield compiled(
                KIND,
                CATEGORY,
                target,
                sql=fill(
                    TEMPLATE,
                    examples=ctx.example_columns(node.id, "", col.name),
                    table=table(node.id),
                    col=ident(col.name),
                ),
                source=ctx.column_path(node.id, col.name) + ".nullable",
            )
