"""``jitter: {std, mode}`` → ``v + N(0, std)`` (add) or ``v * (1 + N(0, std))`` (mul)."""

from collections.abc import Callable
from statistics import NormalDist

from dgsql.compiler.context import ColumnContext
from dgsql.compiler.kind import ModifierKind
from dgsql.compiler.sqltext import double
from dgsql.dsl import model as S
from dgsql.dsl.laws import INF, quantile_nodes
from dgsql.dsl.types import NUMBERS


class Jitter(ModifierKind):
    key = "jitter"
    types = NUMBERS
    arithmetic = True

    def render(self, args: S.JitterArgs, value: str, ctx: ColumnContext) -> str:
        noise = f"{double(args.std)} * {ctx.normal(ctx.draw('jitter'))}"
        return f"({value} + {noise})" if args.mode == "add" else f"({value} * (1.0 + {noise}))"

    def support(self, args: S.JitterArgs, lo: float, hi: float) -> tuple[float, float]:
        return (-INF, INF) if args.std > 0 else (lo, hi)

    def spreads(self, args: S.JitterArgs, spread: bool) -> bool:
        return spread or args.std > 0

    def tail_problem(self, args: S.JitterArgs) -> str | None:
        if args.mode == "mul" and args.std > 0.25:
            return "a multiplicative jitter wider than 0.25 can flip signs"
        return None

    def tail(self, args: S.JitterArgs, below: Callable[[float], float], t: float, outlier: str) -> float:
        if args.std == 0:
            return below(t)
        nodes = quantile_nodes(NormalDist(0, args.std).inv_cdf)
        if args.mode == "add":
            return sum(below(t - e) for e in nodes) / len(nodes)
        return sum(below(t / (1 + e)) for e in nodes) / len(nodes)
