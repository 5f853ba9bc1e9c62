"""``faker``: locale-aware semantic values (compiled by issue 3; not supported yet)."""

from __future__ import annotations

from dgsql.compiler import schema as S
from dgsql.compiler.context import ColumnContext, Fragment


def dependencies(spec: S.FakerSpec, column: S.Column, node: S.Node) -> list[str]:
    return [spec.locale_from] if spec.locale_from else []


def render(spec: S.FakerSpec, ctx: ColumnContext) -> Fragment:
    raise ctx.error("faker is not supported yet; use choice or expression until it lands", ".generator.faker")
