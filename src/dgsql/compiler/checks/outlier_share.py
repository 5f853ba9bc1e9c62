"""A column with an ``outliers`` modifier has about ``rate`` outliers.

Outliers cannot be picked out one by one (a spike of a small value looks like a regular large
one), so the rate is estimated from a tail: at a threshold ``T`` the regular values exceed with
probability ``p_reg`` and the outliers with ``p_out`` (both computed exactly from the declaration,
see :mod:`value_model`), the observed share above ``T`` is ``(1 − r)·p_reg + r·p_out``, which gives
an estimate ``r̂`` with standard error ``SE``. ``T`` is the quantile of the regular values that
separates the two best. The count above ``T`` is binomial with an exact expectation, so the
bound is the normal one of :mod:`binned` at its false-alarm rate: passes when
``|r̂ − rate| ≤ Z·SE + 0.5/(n·gap)`` (``Z`` = 5.33, the last term a continuity correction); fails beyond; not
evaluated when ``SE > rate`` (too few rows to see outliers at that rate) or below 30 rows.
``drop`` outliers are read in the lower tail.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from dgsql.compiler import behaviours
from dgsql.compiler.checks import binned
from dgsql.compiler.checks import value_model as vm
from dgsql.compiler.checks.spec import CheckContext, CheckSpec, compiled, not_compiled
from dgsql.compiler.checks.views import table
from dgsql.compiler.sqltext import double, fill, ident
from dgsql.dsl.model import Column

KIND = "outlier_share"
CATEGORY = "statistical"
DECLARED_BY = None

Z = binned.Z_TWO_SIDED
MIN_ROWS = 30
CANDIDATES = (0.3, 0.2, 0.1, 0.05, 0.02, 0.01, 0.005, 0.002, 0.001)

TEMPLATE = """\
SELECT row_count, beyond / row_count AS share_beyond, {t} AS threshold,
  (beyond / row_count - {p_reg}) / {gap} AS estimated_rate, {rate} AS declared_rate,
  sqrt({p_mix} * (1 - {p_mix}) / row_count) / {gap} AS standard_error,
  {z} * sqrt({p_mix} * (1 - {p_mix}) / row_count) / {gap} + 0.5 / (row_count * {gap}) AS bound,
  CASE WHEN row_count < {min_rows} THEN NULL
       WHEN abs((beyond / row_count - {p_reg}) / {gap} - {rate})
            > {z} * sqrt({p_mix} * (1 - {p_mix}) / row_count) / {gap} + 0.5 / (row_count * {gap}) THEN FALSE
       WHEN sqrt({p_mix} * (1 - {p_mix}) / row_count) / {gap} > {rate} THEN NULL
       ELSE TRUE END AS ok
FROM (
  SELECT count({col}) AS row_count, CAST(count(*) FILTER (WHERE {col} {cmp} {t}) AS DOUBLE) AS beyond
  FROM {table}
)"""


def threshold(col: Column, steps: list[Any], upper: bool) -> tuple[float, float, float] | None:
    """(T, p_reg, p_out) in the direction of the outliers; None when they cannot be told apart."""
    spec = vm.distribution(col)
    integer = col.type == "int"
    rate = next(s.args.rate for s in steps if s.transform == "outliers")
    best = None
    for p in CANDIDATES:
        t = vm.quantile(spec, integer, steps, p if upper else 1 - p, outlier="none")
        if integer:
            t = math.floor(t) + 0.5
        reg = vm.tail(spec, integer, steps, t, outlier="none")
        out = vm.tail(spec, integer, steps, t, outlier="all")
        if not upper:
            reg, out = 1 - reg, 1 - out
        mix = (1 - rate) * reg + rate * out
        gap = out - reg
        if gap <= 1e-9 or not 0 < mix < 1:
            continue
        score = gap / math.sqrt(mix * (1 - mix))
        if best is None or score > best[0]:
            best = (score, t, reg, out)
    return None if best is None else best[1:]


def compile(ctx: CheckContext) -> Iterator[CheckSpec]:
    for node in ctx.dataset.nodes:
        for col in node.written:
            outliers = [m for m in col.modifiers if m.transform == "outliers"]
            if not outliers:
                continue
            ref = f"{node.id}.{col.name}"
            source = ctx.column_path(node.id, col.name) + ".modifiers"
            rate = outliers[0].args.rate
            spike = outliers[0].args.mode == "spike"
            steps = vm.tail_steps(col)
            problem = None
            if vm.distribution(col) is None:
                problem = (
                    "the column is not drawn from a distribution, so its regular values have no known law"
                )
            elif col.type not in ("int", "float"):
                problem = f"outliers on a {col.type} column"
            elif len(outliers) > 1:
                problem = "more than one outliers modifier"
            elif isinstance(steps, str):
                problem = steps
            elif behaviours.value_scaled(ctx.dataset, node, col.name):
                problem = "a parent's segment or vintage multiplier scales the column"
            elif rate == 0:
                continue
            found = None if problem else threshold(col, steps, upper=spike)
            if problem is None and found is None:
                problem = "the outliers fall where regular values are; their share cannot be estimated"
            if problem:
                yield not_compiled(KIND, CATEGORY, ref, source, problem)
                continue
            t, p_reg, p_out = found
            p_mix = (1 - rate) * p_reg + rate * p_out
            sql = fill(
                TEMPLATE,
                col=ident(col.name),
                table=table(node.id),
                cmp=fill(">" if spike else "<"),
                t=double(t),
                p_reg=double(p_reg),
                gap=double(p_out - p_reg),
                p_mix=double(p_mix),
                rate=double(rate),
                z=double(Z),
                min_rows=double(MIN_ROWS),
            )
            yield compiled(
                KIND,
                CATEGORY,
                ref,
                sql=sql,
                mode="stat",
                source=source,
                expect={"rate": rate, "mode": outliers[0].args.mode, "p_regular": p_reg, "p_outlier": p_out},
            )
