"""Every written column (all but the hidden ones) exists in the table's file with its declared type,
and no other column does."""

from __future__ import annotations

from collections.abc import Iterator

from dgsql.compiler.checks.spec import DUCKDB_TYPES, CheckContext, CheckSpec, compiled
from dgsql.compiler.checks.views import SCHEMA
from dgsql.compiler.sqltext import Sql, fill, join, lit

KIND = "columns"
CATEGORY = "constraint"
DECLARED_BY = None

TEMPLATE = """\
WITH declared(position, column_name, declared_type) AS (VALUES {rows}),
actual AS (
  SELECT column_name, data_type AS actual_type FROM information_schema.columns
  WHERE table_catalog = current_database() AND table_schema = {schema} AND table_name = {table}
)
SELECT coalesce(d.column_name, a.column_name) AS column_name, d.declared_type, a.actual_type,
  CASE WHEN a.column_name IS NULL THEN 'missing'
       WHEN d.column_name IS NULL THEN 'not declared'
       ELSE 'wrong type' END AS problem
FROM declared AS d FULL OUTER JOIN actual AS a ON d.column_name = a.column_name
WHERE d.column_name IS NULL OR a.column_name IS NULL OR d.declared_type <> a.actual_type"""


def compile(ctx: CheckContext) -> Iterator[CheckSpec]:
    for i, node in enumerate(ctx.dataset.nodes):
        rows = join(
            Sql(f"({j}, {lit(c.name)}, {lit(DUCKDB_TYPES[c.type])})") for j, c in enumerate(node.written)
        )
        yield compiled(
            KIND,
            CATEGORY,
            node.id,
            sql=fill(TEMPLATE, rows=rows, schema=lit(SCHEMA), table=lit(node.id)),
            source=f"nodes[{i}].columns",
            expect={c.name: DUCKDB_TYPES[c.type] for c in node.written},
        )
