"""``seasonality``: numeric ``v * weights[dim(ts)]``; on a datetime column it reshapes
the sampling instead (``generators.datetime_series``), so it is the identity here."""

from dgsql.compiler.context import ColumnContext
from dgsql.compiler.generators.datetime_series import DIMENSION_SQL
from dgsql.compiler.kind import SKIPPED, ModifierKind, Site
from dgsql.compiler.sqltext import list_of
from dgsql.dsl import model as S
from dgsql.dsl.laws import scale
from dgsql.dsl.types import NUMBERS, TIMES


def time_column(args: S.SeasonalityArgs, column: S.Column, node: S.Node) -> str | None:
    return args.column or node.first_datetime(exclude=column.name)


class Seasonality(ModifierKind):
    key = "seasonality"
    types = (*NUMBERS, *TIMES)
    arithmetic = True

    def check(self, args: S.SeasonalityArgs, site: Site, where: str) -> None:
        if site.column.type in TIMES:
            if not isinstance(site.column.generator, S.DatetimeSeriesGen):
                site.problem(
                    where.removesuffix(".args"),
                    "seasonality on a datetime column reshapes a datetime_series' sampling, and this column "
                    "has none; generate it with datetime_series or remove the modifier.",
                )
            return
        if args.column:
            site.refs.typed(f"{site.path}{where}.column", site.node, args.column, TIMES)

    def skipped(self, args: S.SeasonalityArgs, column: S.Column, node: S.Node) -> str | None:
        if column.type in NUMBERS and time_column(args, column, node) is None:
            return (
                f"seasonality on a numeric column needs the row's timestamp, and table {node.id!r} has no "
                f"datetime column; {SKIPPED}. Remove it, or name a datetime or date column in args.column."
            )
        return None

    def reads(self, args: S.SeasonalityArgs, column: S.Column, node: S.Node) -> list[str]:
        ts = None if column.type in TIMES else time_column(args, column, node)
        return [ts] if ts else []

    def render(self, args: S.SeasonalityArgs, value: str, ctx: ColumnContext) -> str:
        if ctx.column.type in TIMES:
            return value
        ts = ctx.col(time_column(args, ctx.column, ctx.node))  # type: ignore[arg-type]
        weight = f"({list_of(args.weights, 'DOUBLE')})[{DIMENSION_SQL[args.dimension].format(ts=ts)}]"
        return f"({value} * {weight})"

    def support(self, args: S.SeasonalityArgs, lo: float, hi: float) -> tuple[float, float]:
        return scale(lo, hi, [min(args.weights), max(args.weights)])
