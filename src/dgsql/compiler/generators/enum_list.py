"""``enum_list: {values}`` (vocab nodes): row i gets ``values[i]``."""

from __future__ import annotations

from dgsql.compiler import schema as S
from dgsql.compiler.context import ColumnContext, Fragment
from dgsql.compiler.sqltext import lit


def dependencies(spec: S.EnumListSpec, column: S.Column, node: S.Node) -> list[str]:
    return []


def render(spec: S.EnumListSpec, ctx: ColumnContext) -> Fragment:
    values = ", ".join(lit(v) for v in spec.values)
    return Fragment(f"([{values}])[{ctx.row} + 1]")
