"""``choice``: a weighted pick among literal choices or another column's values.

Few choices compile to a ``CASE`` over cumulative weights; many to Walker's alias
table (``dg_alias``). Zero-weight choices are left out, so they are never drawn.
``choices_ref`` picks a row of the referenced table (weights rank its rows in
row order) and reads the column there.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from dgsql.compiler import names
from dgsql.compiler.context import ColumnContext, Fragment, Join
from dgsql.compiler.generators.enum_list import check_literals, fractional_literals
from dgsql.compiler.generators.sequence import arithmetic, integer_type
from dgsql.compiler.kind import GeneratorKind, Place, Read, Site
from dgsql.compiler.sqltext import SQL_TYPES, ident, lit, typed_lit
from dgsql.compiler.templates import template
from dgsql.compiler.weights import CUMULATIVE, weighted_pick
from dgsql.dsl import model as S
from dgsql.dsl.laws import kind_weights

ALIAS_ROWS_LIMIT = 100_000
"choices_ref with weights over at most this many known rows: alias lists; else a cumulative pool."


class Choice(GeneratorKind):
    key = "choice"

    def check(self, spec: S.ChoiceSpec, site: Site) -> None:
        if spec.choices_ref is not None:
            where = f"{site.path}.generator.choice.choices_ref"
            found = site.refs.ref(where, spec.choices_ref)
            if found:
                site.refs.read(where, *found, reader=site.node.id)
        else:
            check_literals(spec.choices or [], "choice.choices", site)

    def tables(self, spec: S.ChoiceSpec, ds: S.Dataset) -> list[Read]:
        return [Read(ds.split_ref(spec.choices_ref)[0], "choices_ref")] if spec.choices_ref else []

    def capacity(
        self, spec: S.ChoiceSpec, column: S.Column, ds: S.Dataset, expected: Mapping[str, float]
    ) -> float:
        if spec.choices is None:
            return expected.get(ds.split_ref(spec.choices_ref)[0], math.inf)
        weights = spec.weights or [1.0] * len(spec.choices)
        return len({str(c) for c, w in zip(spec.choices, weights, strict=True) if w > 0})

    def fractional(self, spec: S.ChoiceSpec, column: S.Column, ds: S.Dataset) -> bool:
        if spec.choices is not None:
            return fractional_literals(spec.choices)
        table, name = ds.split_ref(spec.choices_ref)
        return next(c for c in ds.node(table).columns if c.name == name).type == "float"

    def literals(
        self, spec: S.ChoiceSpec, ds: S.Dataset, trace: Callable[[str], list[Any] | None]
    ) -> list[Any] | None:
        return list(spec.choices) if spec.choices is not None else trace(spec.choices_ref)

    def pure(self, spec: S.ChoiceSpec, place: Place) -> bool:
        return spec.choices is not None

    def joins(self, spec: S.ChoiceSpec, place: Place) -> bool:
        if spec.choices_ref is None:
            return False
        table, name = place.ds.split_ref(spec.choices_ref)
        uniform = S.parse_weights_kind(spec.weights_kind or "uniform")[0] == "uniform"
        return not (uniform and name in place.known[table].sequences)

    def render(self, spec: S.ChoiceSpec, ctx: ColumnContext) -> Fragment:
        if spec.choices is not None:
            values = [typed_lit(v, ctx.column.type) for v in spec.choices]
            return Fragment(
                weighted_pick(ctx.uniform(), values, _weights(spec, len(values)), SQL_TYPES[ctx.column.type])
            )
        return _render_ref(spec, ctx)


def _weights(spec: S.ChoiceSpec, n: int) -> list[float]:
    if spec.weights is not None:
        return list(spec.weights)
    kind, params = S.parse_weights_kind(spec.weights_kind or "uniform")
    return kind_weights(kind, params, n)


def _render_ref(spec: S.ChoiceSpec, ctx: ColumnContext) -> Fragment:
    assert spec.choices_ref is not None
    table = ctx.dataset.split_ref(spec.choices_ref)[0]
    column = spec.choices_ref[len(table) + 1 :]
    facts = ctx.facts(table)
    kind = S.parse_weights_kind(spec.weights_kind or "uniform")[0]
    u = ctx.uniform()
    if kind == "uniform":
        pick = f"floor({u} * {ctx.row_count(table)})::BIGINT"
        if column in facts.sequences:
            start, step = facts.sequences[column]
            return Fragment(arithmetic(start, step, pick), sql_type=integer_type(start, step))
    elif facts.rows is not None and facts.rows <= ALIAS_ROWS_LIMIT:
        assert facts.rows > 0, f"{ctx.path}: choices_ref into the empty table {table!r} passed the checks"
        rows = [lit(i) for i in range(facts.rows)]
        pick = weighted_pick(u, rows, _weights(spec, facts.rows), "BIGINT")
    else:
        return _render_cumulative(spec, ctx, table, column)
    alias = ctx.alias()
    join = Join(ident(table), alias, f"{alias}.{names.ROW} = {pick}")
    return Fragment(f"{alias}.{ident(column)}", join)


def _render_cumulative(spec: S.ChoiceSpec, ctx: ColumnContext, table: str, column: str) -> Fragment:
    """Ranked weights over a table whose size is known only at run time: a cumulative pool + ASOF join."""
    kind, params = S.parse_weights_kind(spec.weights_kind or "uniform")
    zipf, (h, a) = (params[0], (None, None)) if kind == "zipf" else (None, params)
    pool = ident(names.pool_table(ctx.node.id, ctx.column.name))
    query = template("ranked_pool.sql.j2").render(
        table=ident(table),
        column=ident(column),
        row=names.ROW,
        cumulative=CUMULATIVE.format(order=names.ROW),
        zipf=zipf,
        h=h,
        a=a,
    )
    ctx.table.add_helper(pool, query)
    alias = ctx.alias()
    return Fragment(f"{alias}.value", Join(pool, alias, f"{ctx.uniform()} < {alias}.cum", "ASOF LEFT"))
