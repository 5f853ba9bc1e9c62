"""``add: {value}`` → ``v + value``."""

from dgsql.compiler.context import ColumnContext
from dgsql.compiler.sqltext import double
from dgsql.dsl import model as S


def dependencies(args: S.AddArgs, column: S.Column, node: S.Node) -> list[str]:
    return []


def render(args: S.AddArgs, value: str, ctx: ColumnContext) -> str:
    return f"({value} + {double(args.value)})"
