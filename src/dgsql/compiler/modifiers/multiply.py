"""``multiply: {factor}`` → ``v * factor``."""

from dgsql.dsl import model as S
from dgsql.compiler.context import ColumnContext
from dgsql.compiler.sqltext import double


def dependencies(args: S.MultiplyArgs, column: S.Column, node: S.Node) -> list[str]:
    return []


def render(args: S.MultiplyArgs, value: str, ctx: ColumnContext) -> str:
    return f"({value} * {double(args.factor)})"
