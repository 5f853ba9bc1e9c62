"""``outliers``: with probability ``rate`` a row is a spike ``v*(1+m)`` or a drop ``v/(1+m)``,
``m`` drawn from ``magnitude_dist`` and clamped (default [0.1, 10])."""

from dgsql.compiler.context import ColumnContext
from dgsql.compiler.generators.distribution import clamp, draw
from dgsql.compiler.kind import ModifierKind
from dgsql.compiler.sqltext import double
from dgsql.dsl import model as S
from dgsql.dsl.types import NUMBERS


class Outliers(ModifierKind):
    key = "outliers"
    types = NUMBERS
    arithmetic = True

    def render(self, args: S.OutliersArgs, value: str, ctx: ColumnContext) -> str:
        return render(args, value, ctx)


def render(args: S.OutliersArgs, value: str, ctx: ColumnContext) -> str:
    dist = args.magnitude_dist
    spec = S.DistributionSpec(type=dist.type, params=dist.params, clamp=dist.clamp)
    m = clamp(draw(spec, ctx, ctx.draw("outlier_magnitude"), integer=False), *dist.clamp)
    hit = f"{ctx.uniform(ctx.draw('outlier'))} < {double(args.rate)}"
    changed = f"{value} * (1.0 + {m})" if args.mode == "spike" else f"{value} / (1.0 + {m})"
    return f"CASE WHEN {hit} THEN {changed} ELSE {value} END"
