"""``clamp: {min?, max?}`` → ``v`` bounded."""

from collections.abc import Callable

from dgsql.compiler.context import ColumnContext
from dgsql.compiler.generators.distribution import clamp
from dgsql.compiler.kind import ModifierKind
from dgsql.dsl import model as S
from dgsql.dsl.types import NUMBERS


class Clamp(ModifierKind):
    key = "clamp"
    types = NUMBERS
    arithmetic = True

    def render(self, args: S.ClampArgs, value: str, ctx: ColumnContext) -> str:
        return clamp(value, args.min, args.max)

    def support(self, args: S.ClampArgs, lo: float, hi: float) -> tuple[float, float]:
        if args.min is not None:
            lo, hi = max(lo, args.min), max(hi, args.min)
        if args.max is not None:
            lo, hi = min(lo, args.max), min(hi, args.max)
        return lo, hi

    def spreads(self, args: S.ClampArgs, spread: bool) -> bool:
        return spread and not (args.min is not None and args.max is not None and args.min >= args.max)

    def tail_problem(self, args: S.ClampArgs) -> None:
        return None

    def tail(self, args: S.ClampArgs, below: Callable[[float], float], t: float, outlier: str) -> float:
        if args.max is not None and t >= args.max:
            return 0.0
        if args.min is not None and t < args.min:
            return 1.0
        return below(t)
