"""``enum_list: {values}`` (vocab nodes): row i gets ``values[i]``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from dgsql.compiler.context import ColumnContext, Fragment
from dgsql.compiler.kind import GeneratorKind, Site
from dgsql.compiler.sqltext import SQL_TYPES, typed_lit, wrapped
from dgsql.dsl import model as S
from dgsql.dsl.types import castable


def check_literals(values: list[S.Scalar], key: str, site: Site) -> None:
    """Each listed value converts to the column's type (``choice.choices``, ``enum_list.values``)."""
    kind = site.column.type
    for k, value in enumerate(values):
        if not castable(value, kind):
            site.problem(
                f".generator.{key}[{k}]",
                f"{value!r} is not a {kind}; give {kind} values or change the column type.",
            )


def fractional_literals(values: list[S.Scalar]) -> bool:
    return any(isinstance(v, float) and not v.is_integer() for v in values)


class EnumList(GeneratorKind):
    key = "enum_list"
    always_pure = True

    def check(self, spec: S.EnumListSpec, site: Site) -> None:
        check_literals(spec.values, "enum_list.values", site)

    def capacity(
        self, spec: S.EnumListSpec, column: S.Column, ds: S.Dataset, expected: Mapping[str, float]
    ) -> float:
        return len(set(map(str, spec.values)))

    def fractional(self, spec: S.EnumListSpec, column: S.Column, ds: S.Dataset) -> bool:
        return fractional_literals(spec.values)

    def literals(
        self, spec: S.EnumListSpec, ds: S.Dataset, trace: Callable[[str], list[Any] | None]
    ) -> list[Any] | None:
        return list(spec.values)

    def render(self, spec: S.EnumListSpec, ctx: ColumnContext) -> Fragment:
        values = wrapped(typed_lit(v, ctx.column.type) for v in spec.values)
        sql_type = SQL_TYPES[ctx.column.type]
        return Fragment(f"([{values}]::{sql_type}[])[{ctx.row} + 1]", sql_type=sql_type)
