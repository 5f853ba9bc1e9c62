"""Datagen's forms: a schema written for Datagen runs, each form read the way dgsql reads it.

The model accepts the forms (``dsl/model.py``); the checking pass warns where Datagen's
behaviour was an accident (``--strict`` makes the warnings errors); then :func:`canonical`
rewrites each form into dgsql's own, once, right after the checks. Every later pass — plan,
render, and validate's checks — sees only dgsql's forms, so none of them knows about Datagen.

- an ``effect`` influence's ``table``, ``field`` and ``default`` are ``effect_table``,
  ``map.field`` and ``map.default``;
- a ``composite_effect`` ``metric`` that is no column of the table is ``volume`` (warned);
- a ``tolerance.mape`` above 1 is a percentage, divided by 100 (warned);
- a ``normal`` with ``{mean, sigma}`` draws with ``std = sigma`` (warned: Datagen used 1);
- a modifier that cannot apply (``ModifierKind.skipped``) is dropped (warned).

docs/datagen.md lists the forms with their warnings.
"""

from __future__ import annotations

from typing import Any

from dgsql.compiler.kind import MODIFIERS
from dgsql.dsl import model as S

VOLUME_METRIC = (
    "{metric!r} is not a column of {table!r}; Datagen never read metric and compared row counts, "
    'and so does dgsql (metric "volume"). Write "volume", or name a numeric column of the table.'
)
PERCENT_MAPE = (
    "{mape:g} is a percentage (Datagen's unit); dgsql reads mape as a fraction and uses {fraction:g}. "
    "Write {fraction:g}."
)
SIGMA_AS_STD = (
    "normal takes std, not sigma; Datagen ignored sigma and drew with std 1, dgsql draws with "
    'std {sigma:g} (Datagen\'s output differed). Write "std": {sigma:g}.'
)


def volume_metric(target: S.CompositeEffect, node: S.Node) -> bool:
    """A ``metric`` that names no column of the target's table (Datagen's ``turnover``,
    ``occurrence_rate``): Datagen never read it, it counted rows."""
    return target.metric != "volume" and all(c.name != target.metric for c in node.columns)


def percent_mape(tolerance: S.Tolerance) -> bool:
    """A ``mape`` above 1 is Datagen's percentage (15 = 15 %), not a fraction."""
    return tolerance.mape is not None and tolerance.mape > 1


def canonical(ds: S.Dataset) -> S.Dataset:
    """``ds`` with every Datagen form rewritten into dgsql's (``ds`` checked without errors)."""
    nodes = [_node(n) for n in ds.nodes]
    targets = ds.targets
    if targets.composite_effect is not None:
        tables = {n.id: n for n in ds.nodes}
        value = targets.composite_effect
        before = targets.all("composite_effect")
        items = [_target(t, tables.get(t.table)) for t in before]
        if not _same(items, before):
            update = {"composite_effect": items if isinstance(value, list) else items[0]}
            targets = targets.model_copy(update=update)
    if _same(nodes, ds.nodes) and targets is ds.targets:
        return ds
    return ds.model_copy(update={"nodes": nodes, "targets": targets})


def _node(node: S.Node) -> S.Node:
    columns = [_column(c, node) for c in node.columns]
    return node if _same(columns, node.columns) else node.model_copy(update={"columns": columns})


def _column(column: S.Column, node: S.Node) -> S.Column:
    update: dict[str, Any] = {}
    kept = [m for m in column.modifiers if MODIFIERS[m.transform].skipped(m.args, column, node) is None]
    if len(kept) != len(column.modifiers):
        update["modifiers"] = kept
    gen = column.generator
    if isinstance(gen, S.DistributionGen) and gen.distribution.sigma_as_std:
        p = gen.distribution.params
        spec = gen.distribution.model_copy(update={"params": {"mean": p["mean"], "std": p["sigma"]}})
        update["generator"] = S.DistributionGen(distribution=spec)
    return column.model_copy(update=update) if update else column


def _target(target: S.CompositeEffect, node: S.Node | None) -> S.CompositeEffect:
    update: dict[str, Any] = {}
    if node is not None and volume_metric(target, node):
        update["metric"] = "volume"
    if percent_mape(target.tolerance):
        assert target.tolerance.mape is not None
        update["tolerance"] = target.tolerance.model_copy(update={"mape": target.tolerance.mape / 100})
    influences = [_influence(i) for i in target.influences]
    if not _same(influences, target.influences):
        update["influences"] = influences
    return target.model_copy(update=update) if update else target


def _same(a: list[Any], b: list[Any]) -> bool:
    return all(x is y for x, y in zip(a, b, strict=True))


def _influence(inf: S.Influence) -> S.Influence:
    if inf.table is None and inf.field is None:
        return inf
    update: dict[str, Any] = {"table": None, "field": None, "default": None}
    if inf.table is not None:
        update["effect_table"] = inf.table
    if inf.field is not None:
        default = {} if inf.default is None else {"default": inf.default}
        update["map"] = S.EffectMap(field=inf.field, **default)
    return inf.model_copy(update=update)
