"""``lookup``: a foreign key or a back-fill from another table (or this one).

- ``on`` given: join ``table`` on the key; the first (lowest row) match wins.
- the fact's primary parent: the value of the parent row that spawned this row.
- this table (self-reference): a uniformly random *earlier* row; the first row
  gets NULL when the column is nullable, its own target value otherwise.
- any other table: a uniformly random row.

A sequence column of a table is ``start + step * row``: picking a row of it is
arithmetic and needs no join.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from dgsql.compiler import names
from dgsql.compiler.context import ColumnContext, Fragment, Join
from dgsql.compiler.facts import TableFacts
from dgsql.compiler.generators.sequence import arithmetic, integer_type
from dgsql.compiler.kind import GeneratorKind, Place, Read, Site
from dgsql.compiler.sqltext import ident, join_key, lit
from dgsql.dsl import model as S
from dgsql.dsl.types import convertible


class Lookup(GeneratorKind):
    key = "lookup"
    yields_null = True

    def check(self, spec: S.LookupSpec, site: Site) -> None:
        where = f"{site.path}.generator.lookup"
        found = site.refs.ref(f"{where}.from", spec.from_)
        if found is None:
            return
        node, target = found
        # a lookup reads what a table writes, its own table's too
        if not site.refs.read(f"{where}.from", node, target, site.node.id):
            return
        if not convertible(target.type, site.column.type):
            site.refs.problem(
                f"{where}.from",
                f"{spec.from_} is a {target.type}, which does not convert to this {site.column.type} column; "
                "match the types.",
            )
        join = spec.join
        if join is None:
            if node.id == site.node.id and target.name == site.column.name:
                site.refs.problem(f"{where}.from", "a column cannot look up itself; point at another column.")
            return
        local, remote = join
        if local == site.column.name:
            site.refs.problem(
                f"{where}.on", "a lookup cannot join on its own column; join on another column."
            )
        elif node.id == site.node.id:
            site.refs.problem(
                f"{where}.on", "an 'on' lookup into its own table is not supported; look up another table."
            )
        else:
            site.refs.keys(f"{where}.on", site.node, local, node, remote, reader=site.node.id)

    def reads(self, spec: S.LookupSpec, column: S.Column, node: S.Node) -> list[str]:
        join = spec.join
        if join:
            return [join[0]]
        rest = spec.from_[len(node.id) + 1 :]
        if spec.from_.startswith(node.id + ".") and rest in {c.name for c in node.columns}:
            return [rest]  # a self-reference reads its target column of earlier rows
        return []

    def tables(self, spec: S.LookupSpec, ds: S.Dataset) -> list[Read]:
        table, column = ds.split_ref(spec.from_)
        return [Read(table, "lookup", column, bool(spec.on))]

    def capacity(
        self, spec: S.LookupSpec, column: S.Column, ds: S.Dataset, expected: Mapping[str, float]
    ) -> float:
        return expected.get(ds.split_ref(spec.from_)[0], math.inf)

    def fractional(self, spec: S.LookupSpec, column: S.Column, ds: S.Dataset) -> bool:
        table, name = ds.split_ref(spec.from_)
        return next(c for c in ds.node(table).columns if c.name == name).type == "float"

    def literals(
        self, spec: S.LookupSpec, ds: S.Dataset, trace: Callable[[str], list[Any] | None]
    ) -> list[Any] | None:
        return trace(spec.from_)

    def pure(self, spec: S.LookupSpec, place: Place) -> bool:
        """A lookup of a sequence or pure column of an earlier entity, by a random row or by an
        integer sequence key: arithmetic on the row index, recomputable anywhere."""
        table, name = place.ds.split_ref(spec.from_)
        facts = place.known.get(table)
        if table == place.node.id or facts is None or facts.rows is None:
            return False
        join = spec.join
        if join and facts.integer_sequence(join[1]) is None:
            return False
        return name in facts.sequences or name in facts.pure

    def joins(self, spec: S.LookupSpec, place: Place) -> bool:
        table, name = place.ds.split_ref(spec.from_)
        facts = place.known[table]
        join = spec.join
        if join:
            local_type = next(c.type for c in place.node.columns if c.name == join[0])
            return _arithmetic_key(facts, join[1], local_type, name) is None
        if table == place.node.id:
            return name not in facts.sequences
        return name not in facts.computable

    def render(self, spec: S.LookupSpec, ctx: ColumnContext) -> Fragment:
        return render(spec, ctx)


def _arithmetic_key(facts: TableFacts, remote: str, local_type: str, column: str) -> tuple[int, int] | None:
    """(start, step) of the remote key when the matching row is arithmetic on the local key
    (an integer sequence key of a table of known size, whose looked-up column is computable)."""
    key = facts.integer_sequence(remote) if facts.rows is not None else None
    if key is None or local_type != "int" or column not in facts.computable:
        return None
    return key


def render(spec: S.LookupSpec, ctx: ColumnContext) -> Fragment:
    table, column = ctx.dataset.split_ref(spec.from_)
    join = spec.join
    if join:
        return _render_join(ctx, table, column, *join)
    if table == ctx.node.id:
        return _render_self(ctx, column)
    facts = ctx.facts(table)
    if ctx.node.kind == "fact" and ctx.node.parents and table == ctx.node.parents[0]:
        pick = ctx.parent_row
    else:
        assert facts.rows != 0, f"{ctx.path}: a lookup into the empty table {table!r} passed the checks"
        pick = f"floor({ctx.uniform()} * {ctx.row_count(table)})::BIGINT"
    if column in facts.sequences:
        start, step = facts.sequences[column]
        return Fragment(arithmetic(start, step, pick), sql_type=integer_type(start, step))
    if column in facts.pure:
        return Fragment(ctx.value_at(table, column, pick))
    alias = ctx.alias()
    return Fragment(f"{alias}.{ident(column)}", Join(ident(table), alias, f"{alias}.{names.ROW} = {pick}"))


def _render_join(ctx: ColumnContext, table: str, column: str, local: str, remote: str) -> Fragment:
    assert table != ctx.node.id, f"{ctx.path}: an 'on' lookup into its own table passed the checks"
    facts = ctx.facts(table)
    local_type = next(c.type for c in ctx.node.columns if c.name == local)
    key = _arithmetic_key(facts, remote, local_type, column)
    if key is not None:
        # the remote key is start + step * row: the matching row is arithmetic
        start, step = key
        offset = f"({ctx.col(local)} - {lit(start)})"
        row = offset if step == 1 else f"({offset} // {lit(step)})"
        hit = f"{row} >= 0 AND {row} < {lit(facts.rows)}"
        if step != 1:
            hit = f"{offset} % {lit(step)} = 0 AND {hit}"
        return Fragment(f"CASE WHEN {hit} THEN {ctx.value_at(table, column, row)} END")
    alias = ctx.alias()
    remote_type = next(c.type for c in ctx.dataset.node(table).columns if c.name == remote)
    key = join_key(remote, remote_type, local_type)
    relation = (
        f"(SELECT {key} AS {names.KEY}, arg_min({ident(column)}, {names.ROW}) AS {names.VALUE}"
        f" FROM {ident(table)} GROUP BY {key})"
    )
    return Fragment(
        f"{alias}.{names.VALUE}", Join(relation, alias, f"{alias}.{names.KEY} = {ctx.col(local)}")
    )


def _render_self(ctx: ColumnContext, column: str) -> Fragment:
    pick = f"floor({ctx.uniform()} * {ctx.row})::BIGINT"
    own = ctx.facts(ctx.node.id).sequences.get(column)
    if own is not None:
        start, step = own
        value, root = arithmetic(start, step, pick), lit(start)
        join = None
    else:
        alias = ctx.alias()
        value, root = f"{alias}.{ident(column)}", ctx.col(column)
        join = Join(ctx.source, alias, f"{alias}.{names.ROW} = {pick}")
    root = "NULL" if ctx.column.nullable else root
    return Fragment(f"CASE WHEN {ctx.row} = 0 THEN {root} ELSE {value} END", join)
