"""``constraints.enum`` and a column's ``constraints.enum``/``enum_ref``: every non-NULL value is
one of the listed ``values``, or occurs in the ``enum_ref`` column."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from dgsql.compiler.checks.spec import CheckContext, CheckSpec, compiled, drop_repeats, not_compiled
from dgsql.compiler.checks.views import table
from dgsql.compiler.sqltext import fill, ident, qualified, values_list

KIND = "enum"
CATEGORY = "constraint"
DECLARED_BY = "enum"

VALUES_TEMPLATE = """\
SELECT {examples}
FROM {table}
WHERE {col} IS NOT NULL AND {col} NOT IN {values}"""

REF_TEMPLATE = """\
SELECT {examples}
FROM {table} AS f
WHERE {col} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {ref_table} AS r WHERE {ref_col} = {col})"""


def declared(ctx: CheckContext) -> Iterator[tuple[str, list[Any] | None, str | None, str]]:
    """(attr, values, enum_ref, source), top-level first; exact repeats dropped."""
    items: list[tuple[str, list[Any] | None, str | None, str]] = [
        (e.attr, e.values, e.enum_ref, f"constraints.enum[{i}]")
        for i, e in enumerate(ctx.dataset.constraints.enum)
    ]
    for attr, key, value, path in ctx.column_constraints("enum", "enum_ref"):
        items.append((attr, value, None, path) if key == "enum" else (attr, None, value, path))
    return drop_repeats(items, key=lambda item: repr(item[:3]))  # repr: values is a list


def compile(ctx: CheckContext) -> Iterator[CheckSpec]:
    for attr, values, ref, source in declared(ctx):
        t, c, _, problem = ctx.resolve(attr)
        if problem is None and ref is not None:
            rt, rc, _, problem = ctx.resolve(ref)
        if problem is None and values is not None and not values:
            problem = "values is empty"
        if problem:
            yield not_compiled(KIND, CATEGORY, attr, source, problem)
            continue
        if values is not None:
            sql = fill(
                VALUES_TEMPLATE,
                examples=ctx.example_columns(t, "", c),
                table=table(t),
                col=ident(c),
                values=values_list(values),
            )
            expect: dict[str, Any] = {"values": values}
        else:
            sql = fill(
                REF_TEMPLATE,
                examples=ctx.example_columns(t, "f", c),
                table=table(t),
                col=qualified("f", c),
                ref_table=table(rt),
                ref_col=qualified("r", rc),
            )
            expect = {"enum_ref": ref}
        yield compiled(KIND, CATEGORY, attr, sql=sql, source=source, expect=expect)
