"""Every primary-parent row of a fact has between ``fanout.min`` and ``fanout.max`` children
(exactly one without ``fanout``; 1 to the number of stages in a funnel). Table-level ``effect``s
and the parent's segment and vintage factors scale the counts: the check matches each parent
row with the effect tables as the build did (``effect.TableEffect``: kept keys, the parent's
first datetime or date column or the timeframe midpoint, a missing ``map.field`` as a presence
gate), multiplies by the parent's factors, and bounds its children by the scaled ``min`` and
``max``, rounded once and floored at 0 as the build does."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from dgsql.compiler import behaviours
from dgsql.compiler.checks.fanout import ParentLink, children_cte, parent_link
from dgsql.compiler.checks.spec import CheckContext, CheckSpec, compiled, not_compiled
from dgsql.compiler.checks.views import table
from dgsql.compiler.modifiers.effect import TableEffect, table_effect
from dgsql.compiler.sqltext import Sql, double, fill, ident, join, lit, qualified
from dgsql.dsl.model import Node

KIND = "fanout_bounds"
CATEGORY = "constraint"
DECLARED_BY = None

TEMPLATE = """\
{children}
SELECT parent_key, children, {lo} AS min_children, {hi} AS max_children
FROM children
WHERE children < {lo} OR children > {hi}"""

SCALED = """\
{children}{effects},
bounds AS (
  SELECT c.parent_key, c.children, {lo} AS min_children, {hi} AS max_children
  FROM children AS c{joins}
)
SELECT parent_key, children, min_children, max_children
FROM bounds
WHERE children < min_children OR children > max_children"""

RANKED = "(SELECT *, row_number() OVER () AS __dg_rid FROM {effect})"
"The effect table with its row order (a view over one file reads it in order)."

WINDOWED = """,
{name} AS (
  SELECT p.{key} AS parent_key, arg_min_null({field}, {rank}) AS f
  FROM {parent} AS p JOIN {ranked} AS e ON {condition}
  GROUP BY p.{key}
)"""

KEYED = """,
{name} AS (
  SELECT p.{key} AS parent_key, e.f
  FROM {parent} AS p JOIN (SELECT {keys}arg_min_null({field}, {rank}) AS f FROM {ranked} AS e{group}) AS e
    ON {condition}
)"""


def _factor_cte(name: Sql, te: TableEffect, link: ParentLink, ctx: CheckContext) -> Sql:
    """``name(parent_key, f)``: per parent row, the factor of the first matching effect row (lowest
    pk, then row); parent rows no effect row matches are left out."""
    effect_node = ctx.nodes[te.args.effect_table]
    rank = (
        fill("({pk}, e.__dg_rid)", pk=qualified("e", effect_node.pk)) if effect_node.pk else Sql("e.__dg_rid")
    )
    field = Sql(te.field) if te.gate else qualified("e", te.args.map.field)
    ranked = fill(RANKED, effect=table(te.args.effect_table))
    window = te.args.window
    if window is None:
        pairs = list(te.on.items())
        keys = [
            fill("{r} AS {k}", r=qualified("e", remote), k=Sql(f"k{i}"))
            for i, (_, remote) in enumerate(pairs)
        ]
        conditions = [
            fill("p.{local} = e.{k}", local=ident(local), k=Sql(f"k{i}"))
            for i, (local, _) in enumerate(pairs)
        ]
        return fill(
            KEYED,
            name=name,
            key=ident(link.key),
            parent=table(link.parent),
            keys=Sql("".join(k + ", " for k in keys)),
            field=field,
            rank=rank,
            ranked=ranked,
            group=Sql(" GROUP BY ALL" if keys else ""),
            condition=join(conditions, " AND ") if conditions else Sql("TRUE"),
        )
    ts = fill("CAST({t} AS TIMESTAMP)", t=qualified("p", te.time) if te.time else lit(te.midpoint))
    conditions = [
        fill("p.{local} = {remote}", local=ident(local), remote=qualified("e", remote))
        for local, remote in te.on.items()
    ]
    conditions.append(
        fill(
            "{ts} BETWEEN CAST({s} AS TIMESTAMP) AND CAST({e} AS TIMESTAMP)",
            ts=ts,
            s=qualified("e", window.start_col),
            e=qualified("e", window.end_col),
        )
    )
    return fill(
        WINDOWED,
        name=name,
        key=ident(link.key),
        parent=table(link.parent),
        field=field,
        rank=rank,
        ranked=ranked,
        condition=join(conditions, " AND "),
    )


def _unreadable(ctx: CheckContext, node: Node) -> str | None:
    """Why the files cannot show how ``node``'s effects matched (only for a schema the checker
    refused), or None."""
    for mod in node.modifiers:
        a = mod.args
        if ctx.node(a.effect_table) is None or ctx.node(node.parents[0]) is None:
            return f"no table {a.effect_table!r} or {node.parents[0]!r} in the schema"
        te = table_effect(ctx.dataset, node, a)
        window = [a.window.start_col, a.window.end_col] if a.window else []
        needed = [*te.on.values(), *window, *([] if te.gate else [a.map.field])]
        missing = [f"{a.effect_table}.{c}" for c in needed if ctx.column(a.effect_table, c) is None]
        mine = [*te.on, *([te.time] if te.time and a.window else [])]
        missing += [f"{te.parent.id}.{c}" for c in mine if ctx.column(te.parent.id, c) is None]
        if missing:
            return f"the effect reads columns the files do not hold: {', '.join(missing)}"
    return None


@dataclass(frozen=True)
class EffectFactors:
    """The table-level effects of a fact matched per parent row, as the build matches them:
    ``ctes`` (``,\nname AS (…)`` each, after the ``children`` CTE), ``joins`` of them to
    ``children AS c``, and each effect's factor (its ``map.default`` where no row matched) with
    its operation."""

    ctes: list[Sql]
    joins: list[Sql]
    factors: list[tuple[Sql, str]]

    def applied(self, count: Sql, factors: list[Sql] | None = None) -> Sql:
        """``count`` times (or plus) each effect's factor in order (``factors``: other SQL in the
        place of the matched ones, e.g. columns holding them)."""
        given = factors or [f for f, _ in self.factors]
        for (_, op), f in zip(self.factors, given, strict=True):
            count = fill("({k} " + op + " {f})", k=count, f=f)
        return count


def effect_factors(ctx: CheckContext, node: Node, link: ParentLink) -> EffectFactors:
    ctes, joins, factors = [], [], []
    for m, mod in enumerate(node.modifiers):
        te = table_effect(ctx.dataset, node, mod.args)
        name = Sql(f"effect_{m}")
        ctes.append(_factor_cte(name, te, link, ctx))
        joins.append(fill("\n  LEFT JOIN {n} ON {n}.parent_key = c.parent_key", n=name))
        f = fill("coalesce({n}.f, {d})", n=name, d=double(te.args.map.default))
        factors.append((f, {"mul": "*", "add": "+"}[te.args.map.op]))
    return EffectFactors(ctes, joins, factors)


def _scaled(ctx: CheckContext, i: int, link: ParentLink, lo: int, hi: int | None, factors: list[str]) -> Sql:
    """The check of a fact whose fanout is scaled: per parent row, ``min`` and ``max`` times (or
    plus) the factors matched for it, times the parent's own factors (``factors``, over the
    parent row ``p``), rounded once and floored at 0 as the build does."""
    node = ctx.dataset.nodes[i]
    matched = effect_factors(ctx, node, link)
    effects, joins = matched.ctes, list(matched.joins)
    low: Sql = matched.applied(lit(lo))
    high: Sql | None = None if hi is None else matched.applied(lit(hi))
    if factors:
        joins.append(
            fill(
                "\n  JOIN {parent} AS p ON p.{pk} = c.parent_key",
                parent=table(link.parent),
                pk=ident(link.key),
            )
        )
        low = fill("{k} * {f}", k=low, f=Sql(" * ".join(factors)))
        high = None if high is None else fill("{k} * {f}", k=high, f=Sql(" * ".join(factors)))
    rounded = "greatest(round({k}), 0)::BIGINT"
    return fill(
        SCALED,
        children=children_cte(link, node.id),
        effects=join(effects, ""),
        lo=fill(rounded, k=low),
        # greatest() skips NULLs: an unbounded max stays NULL (no upper bound)
        hi=fill(rounded, k=high) if high is not None else Sql("NULL"),
        joins=join(joins, ""),
    )


def compile(ctx: CheckContext) -> Iterator[CheckSpec]:
    for i, node in enumerate(ctx.dataset.nodes):
        if node.kind != "fact" or not node.parents:
            continue
        source = f"nodes[{i}].fanout"
        link = parent_link(ctx, node)
        if isinstance(link, str):
            yield not_compiled(KIND, CATEGORY, node.id, source, link)
            continue
        funnel = node.stage_config is not None
        if funnel:
            # a funnel: 1 to N stages, whatever fanout, effect or parent factor it carries
            source = f"nodes[{i}].stage_config"
            lo_n, hi_n = 1, len(node.stage_config.stages)
        else:
            lo_n, hi_n = node.fanout.bounds if node.fanout is not None else (1, 1)
        unreadable = _unreadable(ctx, node) if node.modifiers and not funnel else None
        if unreadable:
            yield not_compiled(KIND, CATEGORY, node.id, source, unreadable)
            continue
        scaling = None if funnel else behaviours.scaling(ctx.dataset, node)
        factors = scaling.fanout_factors("p") if scaling is not None else []
        if (node.modifiers and not funnel) or factors:
            sql = _scaled(ctx, i, link, lo_n, hi_n, factors)
        else:
            sql = fill(
                TEMPLATE,
                children=children_cte(link, node.id),
                lo=lit(lo_n),
                hi=lit(hi_n) if hi_n is not None else Sql("NULL"),
            )
        yield compiled(
            KIND,
            CATEGORY,
            node.id,
            sql=sql,
            source=source,
            expect={
                "min": lo_n,
                "max": hi_n,
                "per": f"{link.parent}.{link.key}",
                "scaled_by_effect": bool(node.modifiers) and not funnel,
                "scaled_by_parent": bool(factors),
            },
        )
