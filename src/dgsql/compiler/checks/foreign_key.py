"""Every ``from`` value exists in ``to``; a NULL is allowed only in a nullable ``from`` column.

Declared ``constraints.foreign_keys`` are checked, and so is every ``lookup`` without ``on``
that reads another table's pk (such a column is a foreign key whether declared or not).
"""

from __future__ import annotations

from collections.abc import Iterator

from dgsql.compiler.checks.spec import CheckContext, CheckSpec, compiled, drop_repeats, not_compiled
from dgsql.compiler.checks.views import table
from dgsql.compiler.sqltext import fill, qualified
from dgsql.dsl.model import LookupGen

KIND = "foreign_key"
CATEGORY = "fk"
DECLARED_BY = "foreign_keys"

TEMPLATE = """\
SELECT {examples}
FROM {from_table} AS f
WHERE {null_rule}NOT EXISTS (SELECT 1 FROM {to_table} AS t WHERE {to_col} = {from_col})"""


def _pairs(ctx: CheckContext) -> Iterator[tuple[str, str, str, bool]]:
    """(from, to, source, declared) for every foreign key, declared ones first; repeats dropped."""
    items = [
        (fk.from_, fk.to, f"constraints.foreign_keys[{i}]", True)
        for i, fk in enumerate(ctx.dataset.constraints.foreign_keys)
    ]
    for node in ctx.dataset.nodes:
        for col in node.written:
            gen = col.generator
            if not isinstance(gen, LookupGen) or gen.lookup.on is not None or col.modifiers:
                continue  # a modified lookup's values are no longer the other table's keys
            to_table, to_col = ctx.dataset.split_ref(gen.lookup.from_)
            parent = ctx.node(to_table)
            if parent is None or parent.pk != to_col:
                continue
            source = ctx.column_path(node.id, col.name) + ".generator.lookup"
            items.append((f"{node.id}.{col.name}", gen.lookup.from_, source, False))
    return drop_repeats(items, key=lambda item: item[:2])


def compile(ctx: CheckContext) -> Iterator[CheckSpec]:
    for ref_from, ref_to, source, declared in _pairs(ctx):
        target = f"{ref_from}->{ref_to}"
        ft, fc, fcol, problem = ctx.resolve(ref_from)
        tt, tc, _, problem_to = ctx.resolve(ref_to)
        if problem or problem_to:
            yield not_compiled(KIND, CATEGORY, target, source, problem or problem_to or "", gate=True)
            continue
        assert fcol is not None
        sql = fill(
            TEMPLATE,
            examples=ctx.example_columns(ft, "f", fc),
            from_table=table(ft),
            to_table=table(tt),
            from_col=qualified("f", fc),
            to_col=qualified("t", tc),
            null_rule=fill("{c} IS NOT NULL AND ", c=qualified("f", fc)) if fcol.nullable else fill(""),
        )
        yield compiled(
            KIND,
            CATEGORY,
            ref_from,
            id=f"{KIND}:{target}",
            sql=sql,
            source=source,
            expect={"references": ref_to, "nulls_allowed": fcol.nullable, "declared": declared},
            gate=True,
        )
