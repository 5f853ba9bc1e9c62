"""``effect``: ``v op f``, ``f`` the ``map.field`` of the first (lowest pk) row of the
effect table that matches the ``on`` keys and whose window holds the row's timestamp;
``map.default`` when none does.

The match is a correlated scalar subquery, which DuckDB decorrelates into a join:
never a loop over rows. The same matcher scales fanout in a table-level effect.
"""

from __future__ import annotations

from dgsql.compiler import names
from dgsql.compiler import schema as S
from dgsql.compiler.context import ColumnContext
from dgsql.compiler.sqltext import double, ident

EFFECT_ALIAS = "__dg_effect"


def time_column(args: S.EffectArgs, column: S.Column, node: S.Node) -> str | None:
    return args.time_column or node.first_datetime(exclude=column.name)


def dependencies(args: S.EffectArgs, column: S.Column, node: S.Node) -> list[str]:
    reads = list(args.on)
    if args.window:
        ts = time_column(args, column, node)
        if ts is None:
            raise ValueError("a windowed effect needs a datetime column in the row; add args.time_column")
        reads.append(ts)
    return reads


def factor(args: S.EffectArgs, effect_pk: str | None, local: dict[str, str], ts: str | None) -> str:
    """SQL of the matched ``field`` (or the default); ``local`` maps each ``on`` key to its SQL."""
    e = EFFECT_ALIAS
    conditions = [f"{e}.{ident(remote)} = {local[key]}" for key, remote in args.on.items()]
    if args.window:
        assert ts is not None
        conditions.append(
            f"{ts} BETWEEN {e}.{ident(args.window.start_col)} AND {e}.{ident(args.window.end_col)}"
        )
    where = " AND ".join(conditions) or "TRUE"
    order = (f"{e}.{ident(effect_pk)}, " if effect_pk else "") + f"{e}.{names.ROW}"
    match = (
        f"(SELECT {e}.{ident(args.map.field)} FROM {ident(args.effect_table)} AS {e}"
        f" WHERE {where} ORDER BY {order} LIMIT 1)"
    )
    return f"coalesce({match}, {double(args.map.default)})"


def apply(args: S.EffectArgs, value: str, f: str) -> str:
    return f"({value} * {f})" if args.map.op == "mul" else f"({value} + {f})"


def render(args: S.EffectArgs, value: str, ctx: ColumnContext) -> str:
    ts_name = time_column(args, ctx.column, ctx.node)
    ts = ctx.col(ts_name) if args.window and ts_name else None
    effect_pk = ctx.dataset.node(args.effect_table).pk
    ctx.table.correlated = True
    return apply(args, value, factor(args, effect_pk, {k: ctx.col(k) for k in args.on}, ts))
