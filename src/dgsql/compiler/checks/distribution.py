"""Sanity of a ``distribution`` column: every value lies within the range its declaration allows
(the generator's clamp carried through the modifiers; ±0.5 on int columns for rounding), and
the values vary unless the declaration pins them to one value."""

from __future__ import annotations

import math
from collections.abc import Iterator

from dgsql.compiler import behaviours, funnel
from dgsql.compiler.checks import value_model as vm
from dgsql.compiler.checks.spec import CheckContext, CheckSpec, compiled, not_compiled
from dgsql.compiler.checks.views import table
from dgsql.compiler.sqltext import Sql, double, fill, ident, lit
from dgsql.dsl.model import Column, Node

KIND = "distribution"
CATEGORY = "statistical"
DECLARED_BY = None

TEMPLATE = """\
SELECT row_count, min_value, max_value, sd, {lo} AS support_min, {hi} AS support_max,
  CASE WHEN row_count = 0 THEN NULL
       ELSE {lo_ok} AND {hi_ok} AND {spread_ok} END AS ok
FROM (SELECT count({col}) AS row_count, min({col}) AS min_value, max({col}) AS max_value,
             stddev_samp({col}) AS sd FROM {table})"""


def _margin(bound: float, integer: bool) -> float:
    return 0.5 if integer else 1e-9 * max(1.0, abs(bound))


def distribution_columns(ctx: CheckContext) -> Iterator[tuple[Node, Column, str, str]]:
    """Every written column drawn from a ``distribution``, with its ``table.column`` reference
    and its generator's JSON path: what this check and ``distribution_law`` test."""
    for node in ctx.dataset.nodes:
        for col in node.written:
            if vm.distribution(col) is None or col.name in funnel.roles(node):
                continue  # a funnel replaces a stage column's generator
            source = ctx.column_path(node.id, col.name) + ".generator.distribution"
            yield node, col, f"{node.id}.{col.name}", source


def compile(ctx: CheckContext) -> Iterator[CheckSpec]:
    for node, col, ref, source in distribution_columns(ctx):
        bounds = vm.support(col)
        if behaviours.value_scaled(ctx.dataset, node, col.name):
            bounds = "a parent's segment or vintage multiplier scales the column"
        if isinstance(bounds, str) or col.type not in ("int", "float"):
            yield not_compiled(
                KIND, CATEGORY, ref, source, bounds if isinstance(bounds, str) else f"a {col.type} column"
            )
            continue
        lo, hi = bounds
        integer = col.type == "int"
        lo_ok = (
            fill("min_value >= {b}", b=double(lo - _margin(lo, integer)))
            if math.isfinite(lo)
            else Sql("TRUE")
        )
        hi_ok = (
            fill("max_value <= {b}", b=double(hi + _margin(hi, integer)))
            if math.isfinite(hi)
            else Sql("TRUE")
        )
        expect_spread = not vm.degenerate(col)
        spread_ok = Sql("(row_count < 2 OR sd > 0)") if expect_spread else Sql("TRUE")
        yield compiled(
            KIND,
            CATEGORY,
            ref,
            sql=fill(
                TEMPLATE,
                col=ident(col.name),
                table=table(node.id),
                lo=double(lo) if math.isfinite(lo) else lit(None),
                hi=double(hi) if math.isfinite(hi) else lit(None),
                lo_ok=lo_ok,
                hi_ok=hi_ok,
                spread_ok=spread_ok,
            ),
            mode="stat",
            source=source,
            expect={
                "min": lo if math.isfinite(lo) else None,
                "max": hi if math.isfinite(hi) else None,
                "varies": expect_spread,
            },
        )
