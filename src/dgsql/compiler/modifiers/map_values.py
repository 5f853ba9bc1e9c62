"""``map_values: {mapping}`` → listed values replaced; a key matches the value's text form and a
new value is converted to the column's type at compile time."""

from dgsql.compiler.context import ColumnContext
from dgsql.compiler.sqltext import lit, typed_lit
from dgsql.dsl import model as S


def dependencies(args: S.MapValuesArgs, column: S.Column, node: S.Node) -> list[str]:
    return []


def render(args: S.MapValuesArgs, value: str, ctx: ColumnContext) -> str:
    if not args.mapping:
        return value
    whens = " ".join(
        f"WHEN {lit(k)} THEN {'NULL' if v is None else typed_lit(v, ctx.column.type)}"
        for k, v in args.mapping.items()
    )
    return f"CASE CAST({value} AS VARCHAR) {whens} ELSE {value} END"
