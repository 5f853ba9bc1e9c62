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
The same matcher scales fanout in a table-level effect, as Datagen ran it (:class:`TableEffect`).
docs/dsl.md has the semantics, docs/performance.md the measurements.
"""

from __future__ import annotations

import difflib
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


GATE = 1.0
"A table-level effect's factor where a row of the effect table matches but lacks ``map.field``."


@dataclass(frozen=True)
class TableEffect:
    """A table-level effect as Datagen ran it; the checker, the renderer and validate's fanout
    checks all read it from here.

    Datagen matched on the parent row: a key the parent lacks is dropped (with every key dropped
    only the window, or nothing, is left to match); a ``map.field`` the effect table lacks only
    gates (``GATE`` where a row matches, ``map.default`` where none does); the window is tested
    at the parent's first datetime **or date** column (a date is its midnight), else at the
    timeframe's midpoint."""

    args: S.EffectArgs
    parent: S.Node
    on: dict[str, str]
    "The ``on`` pairs kept: those whose local key is a column of the parent."
    dropped: tuple[str, ...]
    "Local keys the parent lacks, in schema order."
    gate: bool
    "``map.field`` is not a column of the effect table."
    time: str | None
    "The parent's column tested against the window."
    midpoint: datetime | None
    "The timeframe's midpoint, tested when the parent has no time column (and there is a timeframe)."

    @property
    def field(self) -> str:
        """The factor of a matching effect row, as SQL over the effect table's columns."""
        return double(GATE) if self.gate else ident(self.args.map.field)

    def matches(self) -> str:
        """What the effect matches on once keys are dropped: ``store_id and its window``."""
        keys = " and ".join(self.on)
        if keys:
            return f"{keys} and its window" if self.args.window else f"{keys} alone"
        if self.args.window:
            return "its window alone"
        return f"nothing, so every parent row gets the factor of the first row of {self.args.effect_table!r}"


def parent_time(parent: S.Node) -> str | None:
    """The time a table-level effect tests: the parent's first ``datetime`` or ``date`` column."""
    return next((c.name for c in parent.columns if c.type in ("datetime", "date")), None)


def table_effect(ds: S.Dataset, node: S.Node, args: S.EffectArgs) -> TableEffect:
    """``args`` of a table-level effect of ``node`` (a fact whose parent and effect table exist)."""
    parent = ds.node(node.parents[0])
    columns = {c.name for c in parent.columns}
    effect_node = ds.node(args.effect_table)
    time = parent_time(parent)
    tf = ds.timeframe
    return TableEffect(
        args=args,
        parent=parent,
        on={k: v for k, v in args.on.items() if k in columns},
        dropped=tuple(k for k in args.on if k not in columns),
        gate=all(c.name != args.map.field for c in effect_node.columns),
        time=time,
        midpoint=tf.start + (tf.end - tf.start) / 2 if time is None and tf is not None else None,
    )


def _near(name: str, node: S.Node) -> str:
    near = difflib.get_close_matches(name, [c.name for c in node.columns], n=1)
    return f" (did you mean {near[0]!r}?)" if near else ""


def _check_keys(refs: References, path: str, te: TableEffect, node: S.Node, table: S.Node) -> None:
    """A table-level effect's keys, as Datagen read them: a key the parent lacks is a warning."""
    parent = te.parent
    for local in te.dropped:
        refs.warn(
            f"{path}.on",
            f"table {parent.id!r} has no column {local!r}{_near(local, parent)}, so the key is dropped "
            f"(as Datagen did) and the effect matches on {te.matches()}; add {local!r} to {parent.id!r} "
            "or remove the key.",
        )
    for local, remote in te.on.items():
        refs.keys(f"{path}.on", parent, local, table, remote, reader=node.id)


def _check_field(refs: References, path: str, te: TableEffect, node: S.Node, table: S.Node) -> None:
    """A table-level effect's ``map.field``, as Datagen read it: one the effect table lacks gates."""
    args = te.args
    if te.gate:
        op = "times" if args.map.op == "mul" else "plus"
        refs.warn(
            f"{path}.map.field",
            f"table {table.id!r} has no column {args.map.field!r}{_near(args.map.field, table)}, so (as in "
            f"Datagen) the effect only gates: the fanout is k {op} {GATE} where a row of {table.id!r} "
            f"matches and k {op} map.default ({args.map.default}) where none does; name a numeric "
            f"column of {table.id!r} or add {args.map.field!r} to it.",
        )
    else:
        refs.typed(f"{path}.map.field", table, args.map.field, NUMBERS, reader=node.id)


def check(refs: References, path: str, node: S.Node, args: S.EffectArgs, column: S.Column | None) -> None:
    """The effect's references: ``column``'s modifier, or a table-level effect (``column`` None),
    which scales a fact's fanout and matches on its primary parent's keys and time."""
    table = refs.table(f"{path}.effect_table", args.effect_table)
    local_node = node if column is not None else refs.tables.get(node.parents[0]) if node.parents else None
    if column is None and not node.parents:
        refs.problem(path, "a table-level effect scales fanout; it needs a fact with parents.")
    if table is None or local_node is None:
        return
    te = table_effect(refs.ds, node, args) if column is None else None
    if te is not None:
        _check_keys(refs, path, te, node, table)
    else:
        for local, remote in args.on.items():
            refs.keys(f"{path}.on", local_node, local, table, remote, reader=node.id)
    if args.window:
        for end in ("start_col", "end_col"):
            refs.typed(f"{path}.window.{end}", table, getattr(args.window, end), TIMES, reader=node.id)
    if te is not None:
        _check_field(refs, path, te, node, table)
    else:
        refs.typed(f"{path}.map.field", table, args.map.field, NUMBERS, reader=node.id)
    if args.time_column and column is None:
        refs.problem(
            f"{path}.time_column",
            "a table-level effect matches on the parent row's first datetime or date column; remove time_column.",
        )
    elif args.time_column:
        refs.typed(f"{path}.time_column", node, args.time_column, TIMES)
    elif args.window and column is None:
        ts = parent_time(local_node)
        if ts is None and refs.ds.timeframe is None:
            refs.problem(
                path,
                f"a windowed effect needs a timeframe or a datetime or date column in {local_node.id!r}; "
                "add one.",
            )
        elif ts is not None and next(c for c in local_node.columns if c.name == ts).hidden:
            refs.problem(
                path,
                f"the effect matches on {local_node.id}.{ts}, the parent's first datetime or date column, "
                f'which is hidden (never written), so table {node.id!r} cannot read it; drop "hidden" or '
                "put a written datetime or date column first.",
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


def segments(
    args: S.EffectArgs,
    effect_node: S.Node,
    local_node: S.Node,
    buckets: Buckets,
    on: dict[str, str],
    field: str,
) -> str:
    """The helper table's query: ``k0…, [bucket, lo, hi,] f``, at most one segment per key and time;
    ``on`` the key pairs matched, ``field`` the factor's SQL over an effect row."""
    types = {c.name: c.type for c in effect_node.columns}
    local_types = {c.name: c.type for c in local_node.columns}
    keys = [
        f"{join_key(remote, types[remote], local_types[local])} AS k{i}"
        for i, (local, remote) in enumerate(on.items())
    ]
    effect_pk = effect_node.pk
    rank = f"({ident(effect_pk)}, {names.ROW})" if effect_pk else names.ROW
    window = None
    if args.window:
        window = {"start": ident(args.window.start_col), "end": ident(args.window.end_col)}
    return template("effect_segments.sql.j2").render(
        keys=keys,
        ks=[f"k{i}" for i in range(len(keys))],
        field=field,
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
    field: str | None = None,
) -> tuple[Join, str]:
    """Add the effect's segments table (quoted name ``helper``) to the table's helpers; return
    the join onto it and the matched factor (or the default). ``local`` maps each key of
    ``local_node`` matched (``args.on``, or those of it kept) to its SQL; ``ts`` is the row's
    timestamp SQL; ``field`` the factor's SQL over an effect row (``map.field``'s column)."""
    buckets = buckets_for(tctx.dataset, tctx.known[args.effect_table].expected_rows)
    on = {k: v for k, v in args.on.items() if k in local}
    field = field or ident(args.map.field)
    effect_node = tctx.dataset.node(args.effect_table)
    tctx.add_helper(helper, segments(args, effect_node, local_node, buckets, on, field))
    conditions = [f"{alias}.k{i} = {local[key]}" for i, key in enumerate(on)]
    if args.window:
        assert ts is not None
        at = f"CAST({ts} AS TIMESTAMP)"
        conditions += [f"{alias}.bucket = {buckets.of(ts)}", f"{at} >= {alias}.lo", f"{at} < {alias}.hi"]
    join = Join(helper, alias, " AND ".join(conditions) or "TRUE")
    return join, f"coalesce({alias}.f, {double(args.map.default)})"


def apply(args: S.EffectArgs, value: str, f: str) -> str:
    return f"({value} * {f})" if args.map.op == "mul" else f"({value} + {f})"
