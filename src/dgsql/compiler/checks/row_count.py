"""A table's file holds as many rows as ``.metadata.json`` says the build wrote."""

from __future__ import annotations

from collections.abc import Iterator

from dgsql.compiler.checks.spec import CheckContext, CheckSpec, compiled
from dgsql.compiler.checks.views import metadata_rows, table
from dgsql.compiler.sqltext import fill

KIND = "row_count"
CATEGORY = "constraint"
DECLARED_BY = None

TEMPLATE = """\
SELECT actual, expected
FROM (SELECT count(*) AS actual FROM {table}), (SELECT {expected} AS expected)
WHERE actual IS DISTINCT FROM expected"""


def compile(ctx: CheckContext) -> Iterator[CheckSpec]:
    for i, node in enumerate(ctx.dataset.nodes):
        yield compiled(
            KIND,
            CATEGORY,
            node.id,
            sql=fill(TEMPLATE, table=table(node.id), expected=metadata_rows(node.id)),
            source=f"nodes[{i}]",
            expect={"rows": "as in .metadata.json"},
            uses_metadata=True,
        )
