"""``multiply: {factor}`` → ``v * factor``."""

from dgsql.compiler.context import ColumnContext
from dgsql.compiler.kind import ModifierKind
from dgsql.compiler.sqltext import double
from dgsql.dsl import model as S
from dgsql.dsl.types import NUMBERS


class Multiply(ModifierKind):
    key = "multiply"
    types = NUMBERS
    arithmetic = True

    def render(self, args: S.MultiplyArgs, value: str, ctx: ColumnContext) -> str:
        return f"({value} * {double(args.factor)})"
