"""``constraints.pattern`` and a column's ``constraints.pattern``: every non-NULL value, as text,
fully matches the regex (DuckDB's ``regexp_full_match``, RE2 syntax)."""

from __future__ import annotations

from collections.abc import Iterator

from dgsql.compiler.checks.spec import CheckContext, CheckSpec, compiled, drop_repeats, not_compiled
from dgsql.compiler.checks.views import table
from dgsql.compiler.sqltext import fill, ident, lit

KIND = "pattern"
CATEGORY = "constraint"
DECLARED_BY = "pattern"

TEMPLATE = """\
SELECT {examples}
FROM {table}
WHERE {col} IS NOT NULL AND NOT regexp_full_match(CAST({col} AS VARCHAR), {regex})"""


def declared(ctx: CheckContext) -> Iterator[tuple[str, str, str]]:
    """(attr, regex, source): top-level entries, then per-column ones; exact repeats dropped."""
    items = [
        (p.attr, p.regex, f"constraints.pattern[{i}]") for i, p in enumerate(ctx.dataset.constraints.pattern)
    ]
    items += [(attr, regex, path) for attr, _, regex, path in ctx.column_constraints("pattern")]
    return drop_repeats(items, key=lambda item: item[:2])


def compile(ctx: CheckContext) -> Iterator[CheckSpec]:
    for attr, regex, source in declared(ctx):
        t, c, _, problem = ctx.resolve(attr)
        if problem:
            yield not_compiled(KIND, CATEGORY, attr, source, problem)
            continue
        yield compiled(
            KIND,
            CATEGORY,
            attr,
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
