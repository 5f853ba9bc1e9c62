"""``effect``: ``v op f``, ``f`` the ``map.field`` of the first (lowest pk, then row) row of
the effect table that matches the ``on`` keys and whose window ``[start_col, end_col]`` holds
the row's timestamp; ``map.default`` when none does.

The effect table is small and the fact is large, so the matching is done once, on the effect
table: a helper table of **segments** — per key, the time line cut at every window start and
end into half-open pieces, each carrying the field of the first row whose window covers it
(pieces no window covers are left out). Segments do not overlap, so a row matches at most one.
Each segment is listed under every time **bucket** it touches (a fixed grid over the
timeframe; times outside fall in the first or last bucket), and the row joins on its keys and
its bucket — a hash join — then checks ``lo <= ts < hi``. No correlated subquery, no loop.
The same matcher scales fanout in a table-level effect. docs/dsl.md has the semantics,
docs/performance.md the measurements.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dgsql.compiler import names
from dgsql.compiler.context import ColumnContext, Join, TableContext, epoch_us
from dgsql.compiler.kind import SKIPPED, ModifierKind, Read, Site
from dgsql.compiler.sqltext import double, ident, join_key
from dgsql.compiler.templates import template
from dgsql.dsl import model as S
from dgsql.dsl.laws import INF
from dgsql.dsl.resolve import References
from dgsql.dsl.types import NUMBERS, TIMES

SEGMENT_ROWS = 2_000_000
"Budget for the segments table: buckets are chosen so it stays about this size at most."
BUCKETS = (16, 4096)
"Fewest and most time buckets."
NO_TIMEFRAME = (datetime(2000, 1, 1), datetime(2050, 1, 1))
"The bucket grid's span when the schema has no timeframe (any time still matches exactly)."


def time_column(args: S.EffectArgs, column: S.Column, node: S.Node) -> str | None:
    return args.time_column or node.first_datetime(exclude=column.name)


def check(refs: References, path: str, node: S.Node, args: S.EffectArgs, column: S.Column | None) -> None:
    """The effect's references: ``column``'s modifier, or a table-level effect (``column`` None),
    which scales a fact's fanout and matches on its primary parent's keys and time."""
    table = refs.table(f"{path}.effect_table", args.effect_table)
    local_node = node if column is not None else refs.tables.get(node.parents[0]) if node.parents else None
    if column is None and not node.parents:
        refs.problem(path, "a table-level effect scales fanout; it needs a fact with parents.")
    if table is None or local_node is None:
        return
    for local, remote in args.on.items():
        refs.keys(f"{path}.on", local_node, local, table, remote, reader=node.id)
    if args.window:
        for end in ("start_col", "end_col"):
            refs.typed(f"{path}.window.{end}", table, getattr(args.window, end), TIMES, reader=node.id)
    refs.typed(f"{path}.map.field", table, args.map.field, NUMBERS, reader=node.id)
    if args.time_column and column is None:
        refs.problem(
            f"{path}.time_column",
            "a table-level effect matches on the parent row's first datetime column; remove time_column.",
        )
    elif args.time_column:
        refs.typed(f"{path}.time_column", node, args.time_column, TIMES)
    elif args.window and column is None:
        ts = local_node.first_datetime(exclude="")
        if ts is None and refs.ds.timeframe is None:
            refs.problem(
                path,
                f"a windowed effect needs a timeframe or a datetime column in {local_node.id!r}; add one.",
            )
        elif ts is not None and next(c for c in local_node.columns if c.name == ts).hidden:
            refs.problem(
                path,
                f"the effect matches on {local_node.id}.{ts}, the parent's first datetime column, which is "
                f'hidden (never written), so table {node.id!r} cannot read it; drop "hidden" or put a '
                "written datetime column first.",
            )


class Effect(ModifierKind):
    key = "effect"
    types = NUMBERS
    arithmetic = True
    joins = True

    def check(self, args: S.EffectArgs, site: Site, where: str) -> None:
        check(site.refs, site.path + where, site.node, args, site.column)

    def skipped(self, args: S.EffectArgs, column: S.Column, node: S.Node) -> str | None:
        if column.type in TIMES:
            return f"effect applies to int or float columns, not to a {column.type}; {SKIPPED}. Remove it."
        if column.type in NUMBERS and args.window and time_column(args, column, node) is None:
            return (
                f"a windowed effect needs the row's timestamp, and table {node.id!r} has no datetime column; "
                f"{SKIPPED}. Remove it, or name a datetime or date column in args.time_column."
            )
        return None

    def reads(self, args: S.EffectArgs, column: S.Column, node: S.Node) -> list[str]:
        ts = time_column(args, column, node) if args.window else None
        return [*args.on, *([ts] if ts else [])]

    def tables(self, args: S.EffectArgs) -> list[Read]:
        return [Read(args.effect_table, "effect")]

    def support(self, args: Any, lo: float, hi: float) -> tuple[float, float]:
        return -INF, INF

    def render(self, args: S.EffectArgs, value: str, ctx: ColumnContext) -> str:
        ts_name = time_column(args, ctx.column, ctx.node)
        ts = ctx.col(ts_name) if args.window and ts_name else None
        helper = ident(names.effect_table(ctx.node.id, ctx.column.name, ctx.modifier))
        local = {k: ctx.col(k) for k in args.on}
        join, f = matcher(ctx.table, args, helper, ctx.alias(), ctx.node, local, ts)
        ctx.add_join(join)
        return apply(args, value, f)


@dataclass(frozen=True)
class Buckets:
    """``bucket(ts) = clamp((epoch_us(ts) - start) // width, -1, count)``. DuckDB's ``//``
    truncates toward zero, so the first bucket also takes times up to one width before the
    start; rows and segments use the same non-decreasing function, so matching stays exact."""

    start_us: int
    width_us: int
    count: int

    def of(self, ts: str) -> str:
        micros = f"epoch_us(CAST({ts} AS TIMESTAMP))"
        return f"least(greatest(({micros} - {self.start_us}) // {self.width_us}, -1), {self.count})"


def buckets_for(ds: S.Dataset, effect_rows: float) -> Buckets:
    """About ``SEGMENT_ROWS / (2 * effect rows)`` buckets over the timeframe: a segment is listed
    once per bucket it touches, and there are at most twice as many segments as windows."""
    start, end = (ds.timeframe.start, ds.timeframe.end) if ds.timeframe else NO_TIMEFRAME
    count = int(min(max(SEGMENT_ROWS // (2 * max(effect_rows, 1)), BUCKETS[0]), BUCKETS[1]))
    span_us = epoch_us(end) - epoch_us(start) + 1
    return Buckets(epoch_us(start), -(-span_us // count), count)


def segments(args: S.EffectArgs, effect_node: S.Node, local_node: S.Node, buckets: Buckets) -> str:
    """The helper table's query: ``k0…, [bucket, lo, hi,] f``, at most one segment per key and time."""
    types = {c.name: c.type for c in effect_node.columns}
    local_types = {c.name: c.type for c in local_node.columns}
    keys = [
        f"{join_key(remote, types[remote], local_types[local])} AS k{i}"
        for i, (local, remote) in enumerate(args.on.items())
    ]
    effect_pk = effect_node.pk
    rank = f"({ident(effect_pk)}, {names.ROW})" if effect_pk else names.ROW
    window = None
    if args.window:
        window = {"start": ident(args.window.start_col), "end": ident(args.window.end_col)}
    return template("effect_segments.sql.j2").render(
        keys=keys,
        ks=[f"k{i}" for i in range(len(keys))],
        field=ident(args.map.field),
        rank=rank,
        effect=ident(args.effect_table),
        window=window,
        bucket_lo=buckets.of("lo"),
        bucket_hi=buckets.of("hi - INTERVAL 1 MICROSECOND"),
    )


def matcher(
    tctx: TableContext,
    args: S.EffectArgs,
    helper: str,
    alias: str,
    local_node: S.Node,
    local: dict[str, str],
    ts: str | None,
) -> tuple[Join, str]:
    """Add the effect's segments table (quoted name ``helper``) to the table's helpers; return
    the join onto it and the matched factor (or the default). ``local`` maps each ``on`` key of
    ``local_node`` to its SQL; ``ts`` is the row's timestamp SQL."""
    buckets = buckets_for(tctx.dataset, tctx.known[args.effect_table].expected_rows)
    tctx.add_helper(helper, segments(args, tctx.dataset.node(args.effect_table), local_node, buckets))
    conditions = [f"{alias}.k{i} = {local[key]}" for i, key in enumerate(args.on)]
    if args.window:
        assert ts is not None
        at = f"CAST({ts} AS TIMESTAMP)"
        conditions += [f"{alias}.bucket = {buckets.of(ts)}", f"{at} >= {alias}.lo", f"{at} < {alias}.hi"]
    join = Join(helper, alias, " AND ".join(conditions) or "TRUE")
    return join, f"coalesce({alias}.f, {double(args.map.default)})"


def apply(args: S.EffectArgs, value: str, f: str) -> str:
    return f"({value} * {f})" if args.map.op == "mul" else f"({value} + {f})"
