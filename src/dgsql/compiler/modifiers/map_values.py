"""``map_values: {mapping}`` → listed values replaced; a key matches the value's text form and a
new value is converted to the column's type at compile time."""

from typing import Any

from dgsql.compiler.context import ColumnContext
from dgsql.compiler.kind import ModifierKind, Site
from dgsql.compiler.sqltext import lit, typed_lit
from dgsql.dsl import model as S
from dgsql.dsl.types import castable


class MapValues(ModifierKind):
    key = "map_values"

    def check(self, args: S.MapValuesArgs, site: Site, where: str) -> None:
        kind = site.column.type
        for key, value in args.mapping.items():
            if value is not None and not castable(value, kind):
                site.problem(f"{where}.mapping.{key}", f"{value!r} is not a {kind}; map to {kind} values.")
        if not site.column.nullable and None in args.mapping.values():
            site.problem(
                f"{where}.mapping",
                "maps a value to null in a non-nullable column; set nullable: true or map it to a value (map_values).",
            )

    def yields_null(self, args: S.MapValuesArgs) -> bool:
        return None in args.mapping.values()

    def literals(self, args: S.MapValuesArgs, values: list[Any]) -> list[Any]:
        mapping = {str(k): v for k, v in args.mapping.items()}
        return [mapping.get(str(v), v) for v in values]

    def render(self, args: S.MapValuesArgs, value: str, ctx: ColumnContext) -> str:
        if not args.mapping:
            return value
        whens = " ".join(
            f"WHEN {lit(k)} THEN {'NULL' if v is None else typed_lit(v, ctx.column.type)}"
            for k, v in args.mapping.items()
        )
        return f"CASE CAST({value} AS VARCHAR) {whens} ELSE {value} END"
