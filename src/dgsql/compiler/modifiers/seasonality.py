"""``seasonality``: numeric ``v * weights[dim(ts)]``; on a datetime column it reshapes
the sampling instead (``generators.datetime_series``), so it is the identity here."""

from dgsql.compiler.context import ColumnContext
from dgsql.compiler.generators.datetime_series import DIMENSION_SQL
from dgsql.compiler.sqltext import list_of
from dgsql.dsl import model as S


def time_column(args: S.SeasonalityArgs, column: S.Column, node: S.Node) -> str | None:
    return args.column or node.first_datetime(exclude=column.name)


def dependencies(args: S.SeasonalityArgs, column: S.Column, node: S.Node) -> list[str]:
    if column.type in ("datetime", "date"):
        return []
    ts = time_column(args, column, node)
    if ts is None:
        raise ValueError(
            "seasonality on a numeric column needs a datetime column in the row; add args.column"
        )
    return [ts]


def render(args: S.SeasonalityArgs, value: str, ctx: ColumnContext) -> str:
    if ctx.column.type in ("datetime", "date"):
        return value
    ts = ctx.col(time_column(args, ctx.column, ctx.node))  # type: ignore[arg-type]
    weight = f"({list_of(args.weights, 'DOUBLE')})[{DIMENSION_SQL[args.dimension].format(ts=ts)}]"
    return f"({value} * {weight})"
