"""``time_jitter: {std_minutes}`` → timestamp + N(0, std) minutes, to the microsecond."""

from collections.abc import Callable

from dgsql.compiler.context import ColumnContext
from dgsql.compiler.kind import ModifierKind
from dgsql.compiler.sqltext import double
from dgsql.dsl import model as S


class TimeJitter(ModifierKind):
    key = "time_jitter"
    types = ("datetime",)

    def render(self, args: S.TimeJitterArgs, value: str, ctx: ColumnContext) -> str:
        micros = f"round({double(args.std_minutes * 60e6)} * {ctx.normal(ctx.draw('time_jitter'))})::BIGINT"
        return f"({value} + to_microseconds({micros}))"

    def support(self, args: S.TimeJitterArgs, lo: float, hi: float) -> tuple[float, float]:
        return lo, hi  # it moves timestamps, never a number

    def tail_problem(self, args: S.TimeJitterArgs) -> None:
        return None

    def tail(self, args: S.TimeJitterArgs, below: Callable[[float], float], t: float, outlier: str) -> float:
        return below(t)
