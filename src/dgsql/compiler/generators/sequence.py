"""``sequence: {start, step}`` → ``start + step * row``."""

from __future__ import annotations

from dgsql.compiler.context import ColumnContext, Fragment
from dgsql.compiler.sqltext import lit
from dgsql.dsl import model as S


def dependencies(spec: S.SequenceSpec, column: S.Column, node: S.Node) -> list[str]:
    return []


def arithmetic(spec: S.SequenceSpec, row: str) -> str:
    return f"({lit(spec.start)} + {lit(spec.step)} * {row})"


def render(spec: S.SequenceSpec, ctx: ColumnContext) -> Fragment:
    return Fragment(arithmetic(spec, ctx.row))
