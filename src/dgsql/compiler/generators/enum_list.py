"""``enum_list: {values}`` (vocab nodes): row i gets ``values[i]``."""

from __future__ import annotations

from dgsql.compiler.context import ColumnContext, Fragment
from dgsql.compiler.sqltext import SQL_TYPES, typed_lit
from dgsql.dsl import model as S


def dependencies(spec: S.EnumListSpec, column: S.Column, node: S.Node) -> list[str]:
    return []


def render(spec: S.EnumListSpec, ctx: ColumnContext) -> Fragment:
    values = ", ".join(typed_lit(v, ctx.column.type) for v in spec.values)
    return Fragment(f"([{values}]::{SQL_TYPES[ctx.column.type]}[])[{ctx.row} + 1]")
