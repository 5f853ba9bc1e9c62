"""A ``distribution`` column follows its declared law (:mod:`law`: the draw, its clamp, then
``multiply``/``add``/``clamp`` and the int cast): three checks per column.

* ``:shape`` — the observed counts per value (a discrete law of at most 1,000 values) or per
  bin (20 bins of equal declared share) against the declared shares: Pearson's chi-square
  within its bound (:mod:`binned`: less than one false alarm in a million checks);
* ``:mean`` — ``|mean − μ| ≤ z·σ/√n + 1e-6·σ``;
* ``:sd`` — ``|s² − σ²| ≤ z·√((μ₄ − σ⁴)/n) + 1e-6·σ²`` (``s²`` the population variance of the
  sample);

with μ, σ², μ₄ of the exact law and z = 5.33, the two-sided normal bound at 1e-7 (a tenth of
the 1e-6 false alarms aimed at, for the skew of the statistics at finite n). The mean and
variance are judged from :data:`MIN_ROWS` non-NULL rows (the normal bound needs them), the
variance from ``KURTOSIS_ROWS·μ₄/σ⁴`` rows when that is more. NULLs (``null_rate``) are left
out: the NULL draw is independent of the value.

Not evaluated, with the reason: other modifiers (their composition is not computed exactly),
a column drawn after another (an inequality truncates its law), a column a parent's segment or
vintage multiplier scales, a column a funnel sets.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from dgsql.compiler import behaviours
from dgsql.compiler.checks import binned
from dgsql.compiler.checks import law as L
from dgsql.compiler.checks.distribution import distribution_columns
from dgsql.compiler.checks.spec import CheckContext, CheckSpec, compiled, not_compiled
from dgsql.compiler.checks.views import table
from dgsql.compiler.sqltext import Sql, double, doubles, fill, ident

KIND = "distribution_law"
CATEGORY = "statistical"
DECLARED_BY = None

MIN_ROWS = 1000
KURTOSIS_ROWS = 200
SLACK = 1e-6
"Relative slack for the rounding of the exact moments (which are exact to about 1e-12)."

MOMENT = """\
WITH observed AS (SELECT count(v) AS row_count, avg(v) AS mean, var_pop(v) AS variance
                  FROM (SELECT CAST({col} AS DOUBLE) AS v FROM {table}) AS t)
SELECT row_count, {statistic} AS {name}, {expected} AS expected_{name}, {spread} / sqrt(row_count) AS standard_error,
  {z} * {spread} / sqrt(row_count) + {slack} AS tolerance,
  CASE WHEN row_count < {min_rows} THEN NULL
       ELSE abs({statistic} - {expected}) <= {z} * {spread} / sqrt(row_count) + {slack} END AS ok
FROM observed"""
"The mean (statistic ``mean``, spread σ) or the variance (``variance``, spread √(μ₄ − σ⁴))."


def _moment_sql(
    col: str, node_id: str, name: str, expected: float, spread: float, slack: float, rows: int
) -> Sql:
    return fill(
        MOMENT,
        col=ident(col),
        table=table(node_id),
        statistic=Sql(name),
        name=Sql(name),
        expected=double(expected),
        spread=double(spread),
        z=double(binned.Z_TWO_SIDED),
        slack=double(slack),
        min_rows=Sql(str(rows)),
    )


def _shape_sql(cells: L.Cells, col: str, node_id: str) -> Sql:
    if cells.values:
        declared = fill(
            "SELECT unnest({v}) AS v, unnest({w}) AS w", v=doubles(cells.values), w=doubles(cells.shares)
        )
        query = binned.categories(
            declared, table(node_id), ident(col), fill("CAST({c} AS DOUBLE)", c=ident(col)), ordered=True
        )
    else:
        query = binned.bins(cells.edges, cells.shares, table(node_id), ident(col))
    return binned.chi_square(query)


def compile(ctx: CheckContext) -> Iterator[CheckSpec]:
    for node, col, ref, source in distribution_columns(ctx):
        law = L.law_of(col)
        bound = ctx.bound(node.id, col.name)
        if not isinstance(law, str):
            if bound is not None and bound.after:
                law = f"drawn after {', '.join(bound.after)} (an inequality truncates the declared law)"
            elif behaviours.value_scaled(ctx.dataset, node, col.name):
                law = "a parent's segment or vintage multiplier scales the column"
        parts = ("shape", "mean", "sd")
        if isinstance(law, str):
            for part in parts:
                yield not_compiled(KIND, CATEGORY, ref, source, law, id=f"{KIND}:{ref}:{part}")
            continue
        declared: dict[str, Any] = {"type": law.spec.type, **law.spec.params, "clamp": law.spec.clamp}
        if law.steps:
            declared["modifiers"] = [m.transform for m in law.steps]
        cells = L.cells(law)
        if isinstance(cells, str):
            yield not_compiled(KIND, CATEGORY, ref, source, cells, id=f"{KIND}:{ref}:shape")
        else:
            how = "values" if cells.values else "bins of equal declared share"
            yield compiled(
                KIND,
                CATEGORY,
                ref,
                id=f"{KIND}:{ref}:shape",
                sql=_shape_sql(cells, col.name, node.id),
                mode="stat",
                law=True,
                source=source,
                expect={"law": declared, "cells": f"{len(cells.shares)} {how}", **binned.parameters()},
            )
        m = L.moments(law)
        var_spread = math.sqrt(max(m.fourth - m.variance**2, 0.0))
        sizes = {
            "mean": (m.mean, m.sd, SLACK * m.sd, MIN_ROWS),
            "variance": (
                m.variance,
                var_spread,
                SLACK * m.variance,
                max(MIN_ROWS, math.ceil(KURTOSIS_ROWS * m.fourth / m.variance**2) if m.variance else 0),
            ),
        }
        for part, name in (("mean", "mean"), ("sd", "variance")):
            expected, spread, slack, rows = sizes[name]
            if spread == 0:
                yield not_compiled(
                    KIND, CATEGORY, ref, source, "the law pins one value", id=f"{KIND}:{ref}:{part}"
                )
                continue
            yield compiled(
                KIND,
                CATEGORY,
                ref,
                id=f"{KIND}:{ref}:{part}",
                sql=_moment_sql(col.name, node.id, name, expected, spread, slack, rows),
                mode="stat",
                law=True,
                source=source,
                expect={
                    "law": declared,
                    "mean": m.mean,
                    "sd": m.sd,
                    "test": "normal",
                    "z": binned.Z_TWO_SIDED,
                    "false_alarm_below": binned.ALPHA,
                    "min_rows": rows,
                },
            )
