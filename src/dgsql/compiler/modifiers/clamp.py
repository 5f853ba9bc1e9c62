"""``clamp: {min?, max?}`` → ``v`` bounded."""

from dgsql.compiler.context import ColumnContext
from dgsql.compiler.generators.distribution import clamp
from dgsql.dsl import model as S


def dependencies(args: S.ClampArgs, column: S.Column, node: S.Node) -> list[str]:
    return []


def render(args: S.ClampArgs, value: str, ctx: ColumnContext) -> str:
    return clamp(value, args.min, args.max)
