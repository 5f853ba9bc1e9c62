"""``add: {value}`` → ``v + value``."""

from collections.abc import Callable

from dgsql.compiler.context import ColumnContext
from dgsql.compiler.kind import ModifierKind
from dgsql.compiler.sqltext import double
from dgsql.dsl import model as S
from dgsql.dsl.types import NUMBERS


class Add(ModifierKind):
    key = "add"
    types = NUMBERS
    arithmetic = True

    def render(self, args: S.AddArgs, value: str, ctx: ColumnContext) -> str:
        return f"({value} + {double(args.value)})"

    def support(self, args: S.AddArgs, lo: float, hi: float) -> tuple[float, float]:
        return lo + args.value, hi + args.value

    def tail_problem(self, args: S.AddArgs) -> None:
        return None

    def tail(self, args: S.AddArgs, below: Callable[[float], float], t: float, outlier: str) -> float:
        return below(t - args.value)
