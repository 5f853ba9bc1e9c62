"""``effect``: a time-windowed multiplier from an events table (issue 4; not supported yet)."""

from dgsql.compiler import schema as S
from dgsql.compiler.context import ColumnContext


def dependencies(args: S.EffectArgs, column: S.Column, node: S.Node) -> list[str]:
    return []


def render(args: S.EffectArgs, value: str, ctx: ColumnContext) -> str:
    raise ctx.error("the effect modifier is not supported yet; remove it until it lands", ".modifiers")
