"""``multiply: {factor}`` → ``v * factor``."""

from dgsql.compiler.context import ColumnContext
from dgsql.compiler.sqltext import double
from dgsql.dsl import model as S


def dependencies(args: S.MultiplyArgs, column: S.Column, node: S.Node) -> list[str]:
    return []


def render(args: S.MultiplyArgs, value: str, ctx: ColumnContext) -> str:
    return f"({value} * {double(args.factor)})"
