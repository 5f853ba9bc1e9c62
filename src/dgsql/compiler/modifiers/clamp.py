"""``clamp: {min?, max?}`` → ``v`` bounded."""

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
