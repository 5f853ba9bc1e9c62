"""``outliers``: with probability ``rate`` a row is a spike ``v*(1+m)`` or a drop ``v/(1+m)``,
``m`` drawn from ``magnitude_dist`` and clamped (default [0.1, 10])."""

from collections.abc import Callable

from dgsql.compiler.context import ColumnContext
from dgsql.compiler.generators.distribution import clamp, draw
from dgsql.compiler.kind import SKIPPED, ModifierKind
from dgsql.compiler.sqltext import double
from dgsql.dsl import model as S
from dgsql.dsl.laws import magnitude_nodes, scale
from dgsql.dsl.types import NUMBERS, TIMES


class Outliers(ModifierKind):
    key = "outliers"
    types = NUMBERS
    arithmetic = True

    def skipped(self, args: S.OutliersArgs, column: S.Column, node: S.Node) -> str | None:
        if column.type in TIMES:
            return f"outliers apply to int or float columns, not to a {column.type}; {SKIPPED}. Remove it."
        return None

    def render(self, args: S.OutliersArgs, value: str, ctx: ColumnContext) -> str:
        return render(args, value, ctx)

    def support(self, args: S.OutliersArgs, lo: float, hi: float) -> tuple[float, float]:
        mlo, mhi = float(args.magnitude_dist.clamp[0]), float(args.magnitude_dist.clamp[1])
        factors = [1 + mlo, 1 + mhi] if args.mode == "spike" else [1 / (1 + mlo), 1 / (1 + mhi)]
        return scale(lo, hi, [1.0, *factors])

    def tail_problem(self, args: S.OutliersArgs) -> str | None:
        if min(magnitude_nodes(args.magnitude_dist)) <= -1:
            return "an outlier magnitude of -1 or less makes a spike flip signs"
        return None

    def tail(self, args: S.OutliersArgs, below: Callable[[float], float], t: float, outlier: str) -> float:
        nodes = magnitude_nodes(args.magnitude_dist)
        factors = [1 + m for m in nodes] if args.mode == "spike" else [1 / (1 + m) for m in nodes]
        regular = below(t) if outlier != "all" else 0.0
        out = sum(below(t / f) for f in factors) / len(factors) if outlier != "none" else 0.0
        if outlier == "none":
            return regular
        if outlier == "all":
            return out
        return (1 - args.rate) * regular + args.rate * out


def render(args: S.OutliersArgs, value: str, ctx: ColumnContext) -> str:
    dist = args.magnitude_dist
    spec = S.DistributionSpec(type=dist.type, params=dist.params, clamp=dist.clamp)
    m = clamp(draw(spec, ctx, ctx.draw("outlier_magnitude"), integer=False), *dist.clamp)
    hit = f"{ctx.uniform(ctx.draw('outlier'))} < {double(args.rate)}"
    changed = f"{value} * (1.0 + {m})" if args.mode == "spike" else f"{value} / (1.0 + {m})"
    return f"CASE WHEN {hit} THEN {changed} ELSE {value} END"
