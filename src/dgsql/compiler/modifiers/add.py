"""``add: {value}`` → ``v + value``."""

from collections.abc import Callable

from dgsql.compiler.context import ColumnContext
from dgsql.compiler.kind import ModifierKind
from dgsql.compiler.sqltext import double
from dgsql.dsl import model as S
from dgsql.dsl.types import NUMBERS, TIMES


class Add(ModifierKind):
    key = "add"
    types = NUMBERS
    arithmetic = True

    def skipped(self, args: S.AddArgs, column: S.Column, node: S.Node) -> str | None:
        if column.type in TIMES and args.value == 0:
            return (
                f"add of 0 to a {column.type} changes nothing; Datagen left the values as they were, "
                "and so does dgsql (the column is made as if it were absent). Remove it."
            )
        return None

    def misfit(self, args: S.AddArgs, column_type: str) -> str:
        if column_type in TIMES:
            return "to shift a time, use time_jitter, or time arithmetic in an expression (ts + hours(x))."
        return super().misfit(args, column_type)

    def render(self, args: S.AddArgs, value: str, ctx: ColumnContext) -> str:
        return f"({value} + {double(args.value)})"

    def support(self, args: S.AddArgs, lo: float, hi: float) -> tuple[float, float]:
        return lo + args.value, hi + args.value

    def tail_problem(self, args: S.AddArgs) -> None:
        return None

    def tail(self, args: S.AddArgs, below: Callable[[float], float], t: float, outlier: str) -> float:
        return below(t - args.value)
