"""Charts of what a parent does to its child facts: segments, vintage and funnels.

Each chart is the statistic of the check that judges the behaviour, per group instead of
summed up, so the page and validate cannot disagree on what was declared. A segment or vintage
chart is the ``per_group`` figures its check reports (``checks/behaviour.py``), computed over all
the data by validate: the page adds no query. A funnel's conversion runs the check's SQL
(``checks/funnel_conversion.py``) ended by a select of every group; a fact larger than the
charts' row cap is read for its first parents whose children make about that many rows
(:func:`first_parents`): a conversion needs all of a parent's children, so the cap cuts the
parents, not the children. A chart is drawn where the check is compiled (the checks decide
what can be judged).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import duckdb

from dgsql.compiler import behaviours
from dgsql.compiler.checks import behaviour, funnel_conversion, segment_behavior, vintage_behavior
from dgsql.compiler.checks.fanout import ParentLink, children_cte
from dgsql.compiler.checks.fanout_bounds import effect_factors
from dgsql.compiler.checks.fanout_distribution import clamped_pmf
from dgsql.compiler.checks.funnel import funnels
from dgsql.compiler.checks.spec import CheckContext
from dgsql.compiler.checks.views import table
from dgsql.compiler.sqltext import Sql, doubles, fill, ident, join, lit
from dgsql.report.charts import Bars, Chart
from dgsql.runtime.report import CheckResult, Report

FIRST_ROWS = "(SELECT * FROM {table} LIMIT {n})"
CHILDREN_OF = "(SELECT * FROM {fact} WHERE {fk} IN (SELECT {pk} FROM {parents}))"
FANOUT_PARENTS = 250_000
"At most this many parents are counted for a capped fact (their keys are a hash join's build side)."
MAX_SEGMENTS = 8
"A funnel is drawn for at most this many segments (the largest)."

EFFECT_FANOUT = """\
{children}{effects},
matched AS (
  SELECT c.parent_key, c.children, {factors}, {parent_factor} AS g
  FROM children AS c{joins}
),
pmf AS (SELECT unnest({ks}) AS k, unnest({ps}) AS pk),
laws AS (
  SELECT {names}, g, sum(pk * greatest(round(({applied}) * g), 0)) AS mu
  FROM (SELECT DISTINCT {names}, g FROM matched) AS d, pmf GROUP BY ALL
)
SELECT {names}, count(*) AS parents, avg(m.children) AS mean, avg(l.mu) AS expected_mean
FROM matched AS m JOIN laws AS l USING ({names}, g)
GROUP BY ALL ORDER BY ALL"""
"""Children per parent row grouped by the table-level effects' factors matched for it (as the
build and the ``fanout_bounds`` check match them), against the fanout law with those factors
(and the parent's own segment and vintage factors ``g``) applied, rounded and floored at 0."""

Owned = tuple[str | None, Chart | str]
"A chart (or why there is none) and the column it belongs to (None: the table)."


@dataclass(frozen=True)
class FirstParents:
    """The relation read for each table when a fact is charted for its first ``parents``
    parent rows: those rows, and their children; any other table whole."""

    link: ParentLink
    fact: str
    parents: int

    def __call__(self, table_id: str) -> Sql:
        first = fill(FIRST_ROWS, table=table(self.link.parent), n=lit(self.parents))
        if table_id == self.link.parent:
            return first
        if table_id == self.fact:
            fk, pk = ident(self.link.child_column), ident(self.link.key)
            return fill(CHILDREN_OF, fact=table(self.fact), fk=fk, pk=pk, parents=first)
        return table(table_id)


def first_parents(
    link: ParentLink, fact: str, profile: dict[str, dict[str, Any]], cap: int | None
) -> FirstParents | None:
    """How a fact of more than ``cap`` rows is charted: for the first parents whose children make
    about ``cap`` rows (at most :data:`FANOUT_PARENTS`); None when it is read whole."""
    fact_rows = profile.get(fact, {}).get("rows") or 0
    parents = profile.get(link.parent, {}).get("rows") or 0
    if cap is None or fact_rows <= cap or not parents:
        return None
    return FirstParents(link, fact, max(1, min(cap * parents // fact_rows, FANOUT_PARENTS)))


def behaviour_charts(
    ctx: CheckContext,
    con: duckdb.DuckDBPyConnection,
    report: Report,
    cap: int | None,
) -> dict[str, list[Owned]]:
    """Per fact, its segment, vintage and funnel charts: the first two from the checks' figures
    in ``report``, the funnels over ``con`` with ``report.tables`` (rows per table) and ``cap``
    (the rows a chart reads at most; None: all)."""
    out: dict[str, list[Owned]] = {}
    results = {r.check.id: r for r in report.results}
    charts = (*_scaled(ctx, results), *_funnels(ctx, con, report.tables, cap), *_table_effects(ctx, con))
    for node_id, column, chart in charts:
        out.setdefault(node_id, []).append((column, chart))
    return out


def _label(group: Any) -> str:
    return "NULL" if group is None else str(group)


def _scaled(
    ctx: CheckContext, results: dict[str, CheckResult]
) -> Iterator[tuple[str, str | None, Chart | str]]:
    """The segment and vintage charts: each is its check's ``per_group`` figures, over all the
    data (validate has computed them; the page runs no query of its own for them)."""
    checked = {
        (spec.kind, spec.target): spec.id
        for module in (segment_behavior, vintage_behavior)
        for spec in module.compile(ctx)
        if spec.sql is not None and not spec.id.endswith(":timestamps")
    }
    for _, node, scaling in behaviour.scaled_facts(ctx):
        parent = scaling.parent.id
        groupings: list[tuple[str, str, str]] = []  # kind, what it is by, how labels read
        if scaling.segment is not None:
            groupings.append((segment_behavior.KIND, f"{parent}.{scaling.segment.segment_column}", ""))
        for what in ("fanout", *(c.name for c in node.written)):
            target = f"{node.id}:fanout" if what == "fanout" else f"{node.id}.{what}"
            for kind, by, unit in _vintage_groupings(scaling, what) + groupings:
                check_id = checked.get((kind, target))
                if check_id is None:
                    continue
                result = results.get(check_id)
                groups = None if result is None else result.detail.get("per_group")
                column = None if what == "fanout" else what
                if groups is None:
                    why = (
                        "not run"
                        if result is None
                        else result.detail.get("reason") or result.detail.get("error")
                    )
                    yield node.id, column, f"{check_id}: no figures ({why or 'not evaluated'})"
                elif what == "fanout":
                    yield node.id, None, _fanout_chart(parent, by, unit, groups)
                else:
                    yield node.id, what, _value_chart(what, by, unit, groups, result.detail.get("base_group"))


def _vintage_groupings(scaling: Any, what: str) -> list[tuple[str, str, str]]:
    if scaling.vintage is None or scaling.end is None:
        return []
    curves = vintage_behavior.curves_of(scaling, what)
    if not curves:
        return []
    name, curve = curves[0]
    by = f"age of {scaling.parent.id}.{scaling.vintage.created_at_column} ({name})"
    unit = f"{curve.time_unit}s" if isinstance(curve.curve, list) else "decile"
    return [(vintage_behavior.KIND, by, unit)]


def _group_labels(groups: list[Any], unit: str) -> list[str]:
    if unit == "decile":
        return [f"d{g}" for g in groups]
    return [_label(g) for g in groups]


def _fanout_chart(parent: str, by: str, unit: str, groups: list[dict[str, Any]]) -> Chart | str:
    if not groups:
        return f"children per {parent} row by {by}: no parent rows"
    labels = [g["group"] for g in groups]
    note = "mean children per parent row; declared: the fanout law × the parent's factors"
    if unit:
        note += f"; age in {unit}" if unit != "decile" else "; deciles of the age, youngest first"
    parents_text = ", ".join(f"{_label(g['group'])}: {g['parents']:,}" for g in groups)
    return Bars(
        f"children per {parent} row by {by}",
        _group_labels(labels, unit),
        [float(g["mean"]) for g in groups],
        [float(g["expected_mean"]) for g in groups],
        shares=False,
        note=f"{note}; parents {parents_text}",
    )


def _value_chart(column: str, by: str, unit: str, groups: list[dict[str, Any]], base: Any) -> Chart | str:
    if not groups:
        return f"{column}: mean by {by}: no group of enough rows"
    note = f"mean relative to the largest group ({_label(base)}); declared: the ratio of the multipliers"
    if unit and unit != "decile":
        note += f"; age in {unit}"
    return Bars(
        f"{column}: mean by {by}",
        _group_labels([g["group"] for g in groups], unit),
        [float(g["ratio"]) if g["ratio"] is not None else 0.0 for g in groups],
        [float(g["expected_ratio"]) if g["expected_ratio"] is not None else None for g in groups],
        shares=False,
        note=note + f"; {sum(g['n'] for g in groups):,} rows",
    )


def _funnels(
    ctx: CheckContext, con: duckdb.DuckDBPyConnection, profile: dict[str, dict[str, Any]], cap: int | None
) -> Iterator[tuple[str, str | None, Chart | str]]:
    for f in funnels(ctx):
        capped = first_parents(f.link, f.node.id, profile, cap) if isinstance(f.link, ParentLink) else None
        sql = funnel_conversion.conversion(ctx, f, Sql(funnel_conversion.GROUPS), capped or table)
        if not isinstance(sql, Sql):
            yield f.node.id, None, f"conversion per stage not charted: {sql}"
            continue
        config = f.node.stage_config
        assert config is not None
        by_segment: dict[Any, list[tuple[Any, ...]]] = {}
        for row in con.execute(sql).fetchall():
            by_segment.setdefault(row[1], []).append(row)
        biggest = sorted(by_segment, key=lambda s: (-by_segment[s][0][2], _label(s)))
        for segment in sorted(biggest[:MAX_SEGMENTS], key=_label):
            rows = by_segment[segment]
            title = f"{f.node.id}: conversion per stage"
            if segment is not None or len(by_segment) > 1:
                title += f", segment {_label(segment)}"
            yield (
                f.node.id,
                None,
                Bars(
                    title,
                    [config.stages[stage].stage_name for stage, *_ in rows],
                    [float(observed or 0.0) for *_, observed, _ in rows],
                    [float(expected) for *_, expected in rows],
                    note="share of the parents reaching the previous stage that reach this one; declared: "
                    f"transition_rate × the segment's multiplier; {rows[0][2]:,} parents",
                ),
            )
        if len(biggest) > MAX_SEGMENTS:
            yield (
                f.node.id,
                None,
                f"conversion drawn for the {MAX_SEGMENTS} largest of {len(biggest)} segments",
            )


def _table_effects(
    ctx: CheckContext, con: duckdb.DuckDBPyConnection
) -> Iterator[tuple[str, None, Chart | str]]:
    """Per fact with table-level effects: its children per parent row by the factors the effects
    matched, observed against declared (:data:`EFFECT_FANOUT`, over all the data)."""
    for node in ctx.dataset.nodes:
        if node.kind != "fact" or not node.modifiers or node.stage_config is not None or not node.parents:
            continue
        link = behaviour.link_of(ctx, node)
        if isinstance(link, str):
            yield node.id, None, f"children per parent by effect not charted: {link}"
            continue
        matched = effect_factors(ctx, node, link)
        names = [Sql(f"f{i}") for i in range(len(matched.factors))]
        scaling = behaviours.scaling(ctx.dataset, node)
        parent_factors = scaling.fanout_factors(behaviour.ALIAS) if scaling is not None else []
        joins = list(matched.joins)
        if parent_factors:
            joins.append(
                fill("\n  JOIN {p} AS p ON p.{pk} = c.parent_key", p=table(link.parent), pk=ident(link.key))
            )
        pmf = clamped_pmf(behaviour.fanout_of(node))
        sql = fill(
            EFFECT_FANOUT,
            children=children_cte(link, node.id),
            effects=join(matched.ctes, ""),
            factors=join(
                [fill("{f} AS {n}", f=f, n=n) for (f, _), n in zip(matched.factors, names, strict=True)]
            ),
            parent_factor=Sql(" * ".join(parent_factors) or "1.0::DOUBLE"),
            joins=join(joins, ""),
            ks=doubles(pmf.keys()),
            ps=doubles(pmf.values()),
            names=join(names),
            applied=matched.applied(Sql("k"), names),
        )
        rows = con.execute(sql).fetchall()
        yield node.id, None, _effect_chart(ctx, node, link.parent, matched, rows)


def _effect_chart(
    ctx: CheckContext, node: Any, parent: str, matched: Any, rows: list[tuple[Any, ...]]
) -> Chart | str:
    title = f"children per {parent} row by effect factor"
    if not rows:
        return f"{title}: no parent rows"
    k = len(matched.factors)
    tables = [m.args.effect_table for m in node.modifiers]
    signs = ["×" if op == "*" else "+" for _, op in matched.factors]
    labels = [
        " · ".join(
            (f"{t} " if k > 1 else "") + f"{sign}{float(f):g}"
            for t, sign, f in zip(tables, signs, row[:k], strict=True)
        )
        for row in rows
    ]
    parents = ", ".join(f"{label}: {row[k]:,}" for label, row in zip(labels, rows, strict=True))
    return Bars(
        title,
        labels,
        [float(row[k + 1]) for row in rows],
        [float(row[k + 2]) for row in rows],
        shares=False,
        note="mean children per parent row, by the factor its effect rows gave it (the default where none "
        "matched); declared: the fanout law with the factors applied, rounded, floored at 0; parents "
        + parents,
    )
