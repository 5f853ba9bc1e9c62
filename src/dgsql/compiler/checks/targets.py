"""Target entries: where each sits in the schema (``targets.key`` or ``targets.key[i]`` for
lists), and the checks of the targets that hold a statistic of one column within ``[min, max]``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from dgsql.compiler.checks.spec import Category, CheckContext, CheckSpec, compiled, not_compiled
from dgsql.compiler.checks.views import table
from dgsql.compiler.sqltext import fill, ident, lit
from dgsql.dsl.model import Dataset


def entries(dataset: Dataset, key: str) -> Iterator[tuple[Any, str]]:
    value = getattr(dataset.targets, key)
    items = dataset.targets.all(key)
    for i, item in enumerate(items):
        yield item, (f"targets.{key}[{i}]" if isinstance(value, list) else f"targets.{key}")


def bounded_column_checks(
    ctx: CheckContext,
    *,
    kind: str,
    category: Category,
    template: str,
    column_key: str,
    types: tuple[str, ...],
    wrong_type: str,
) -> Iterator[CheckSpec]:
    """One statistic check per ``targets.<kind>`` entry, whose ``table`` and ``column_key`` name a
    column of one of ``types`` and whose ``min``/``max`` are the user's bounds.

    ``template`` gets the column as ``{col}``, its table as ``{table}`` and the bounds as ``{lo}``
    and ``{hi}``. ``wrong_type`` is the problem for a column of another type, with ``{ref}``
    (``table.column``) and ``{type}`` (its DSL type).
    """
    for target, source in entries(ctx.dataset, kind):
        column = getattr(target, column_key)
        ref = f"{target.table}.{column}"
        _, _, col, problem = ctx.resolve(ref)
        if problem is None and col is not None and col.type not in types:
            problem = wrong_type.format(ref=ref, type=col.type)
        if problem:
            yield not_compiled(kind, category, ref, source, problem)
            continue
        yield compiled(
            kind,
            category,
            ref,
            sql=fill(
                template, col=ident(column), table=table(target.table), lo=lit(target.min), hi=lit(target.max)
            ),
            mode="stat",
            source=source,
            expect={"min": target.min, "max": target.max},
        )
