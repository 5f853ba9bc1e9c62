"""``jitter: {std, mode}`` → ``v + N(0, std)`` (add) or ``v * (1 + N(0, std))`` (mul)."""

from dgsql.compiler.context import ColumnContext
from dgsql.compiler.kind import ModifierKind
from dgsql.compiler.sqltext import double
from dgsql.dsl import model as S
from dgsql.dsl.types import NUMBERS


class Jitter(ModifierKind):
    key = "jitter"
    types = NUMBERS
    arithmetic = True

    def render(self, args: S.JitterArgs, value: str, ctx: ColumnContext) -> str:
        noise = f"{double(args.std)} * {ctx.normal(ctx.draw('jitter'))}"
        return f"({value} + {noise})" if args.mode == "add" else f"({value} * (1.0 + {noise}))"
