"""``constraints.pattern`` and a column's ``constraints.pattern``: every non-NULL value, as text,
fully matches the regex (DuckDB's ``regexp_full_match``, RE2 syntax)."""

from __future__ import annotations

from collections.abc import Iterator

from dgsql.compiler.checks.spec import CheckContext, CheckSpec, not_compiled
from dgsql.compiler.checks.sql import fill, ident, lit, table

KIND = "pattern"
CATEGORY = "constraint"
DECLARED_BY = "pattern"

TEMPLATE = """\
SELECT {examples}
FROM {table}
WHERE {col} IS NOT NULL AND NOT regexp_full_match(CAST({col} AS VARCHAR), {regex})"""


def declared(ctx: CheckContext) -> Iterator[tuple[str, str, str]]:
    """(attr, regex, source): top-level entries, then per-column ones; exact repeats dropped."""
    seen: set[tuple[str, str]] = set()
    items = [
        (p.attr, p.regex, f"constraints.pattern[{i}]") for i, p in enumerate(ctx.dataset.constraints.pattern)
    ]
    for node in ctx.dataset.nodes:
        for col in node.columns:
            if col.constraints is not None and col.constraints.pattern is not None:
                path = ctx.column_path(node.id, col.name) + ".constraints.pattern"
                items.append((f"{node.id}.{col.name}", col.constraints.pattern, path))
    for attr, regex, source in items:
        if (attr, regex) not in seen:
            seen.add((attr, regex))
            yield attr, regex, source


def compile(ctx: CheckContext) -> Iterator[CheckSpec]:
    for attr, regex, source in declared(ctx):
        t, c, _, problem = ctx.resolve(attr)
        if problem:
            yield not_compiled(KIND, CATEGORY, attr, source, problem)
            continue
        yield CheckSpec(
            id=f"{KIND}:{attr}",
            kind=KIND,
            category=CATEGORY,
            target=attr,
            sql=fill(
                TEMPLATE,
                examples=ctx.example_columns(t, "", c),
                table=table(t),
                col=ident(c),
                regex=lit(regex),
            ),
            source=source,
            expect={"regex": regex},
        )
