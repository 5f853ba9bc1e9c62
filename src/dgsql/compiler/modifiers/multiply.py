"""``multiply: {factor}`` → ``v * factor``."""

from collections.abc import Callable

from dgsql.compiler.context import ColumnContext
from dgsql.compiler.kind import ModifierKind
from dgsql.compiler.sqltext import double
from dgsql.dsl import model as S
from dgsql.dsl.laws import scale
from dgsql.dsl.types import NUMBERS


class Multiply(ModifierKind):
    key = "multiply"
    types = NUMBERS
    arithmetic = True

    def render(self, args: S.MultiplyArgs, value: str, ctx: ColumnContext) -> str:
        return f"({value} * {double(args.factor)})"

    def support(self, args: S.MultiplyArgs, lo: float, hi: float) -> tuple[float, float]:
        return scale(lo, hi, [args.factor])

    def spreads(self, args: S.MultiplyArgs, spread: bool) -> bool:
        return spread and args.factor != 0

    def tail_problem(self, args: S.MultiplyArgs) -> None:
        return None

    def tail(self, args: S.MultiplyArgs, below: Callable[[float], float], t: float, outlier: str) -> float:
        if args.factor > 0:
            return below(t / args.factor)
        if args.factor < 0:
            return 1.0 - below(t / args.factor)
        return float(0 > t)
