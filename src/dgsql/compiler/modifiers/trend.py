"""``trend``: ``v * m(t)``, t in years of 365.25 days from the timeframe start to the
row's ``time_reference`` (or its first datetime column)."""

from dgsql.compiler.context import ColumnContext, epoch_us
from dgsql.compiler.sqltext import double, lit
from dgsql.dsl import model as S

YEAR_US = 365.25 * 86400 * 1e6


def time_column(args: S.TrendArgs, column: S.Column, node: S.Node) -> str | None:
    return args.time_reference or node.first_datetime(exclude=column.name)


def dependencies(args: S.TrendArgs, column: S.Column, node: S.Node) -> list[str]:
    ts = time_column(args, column, node)
    if ts is None:
        raise ValueError("trend needs a datetime column in the row; add args.time_reference")
    return [ts]


def render(args: S.TrendArgs, value: str, ctx: ColumnContext) -> str:
    ts = ctx.col(time_column(args, ctx.column, ctx.node))  # type: ignore[arg-type]
    start = lit(epoch_us(ctx.timeframe().start))
    t = f"((epoch_us({ts}) - {start}) / {double(YEAR_US)})"
    g = double(args.growth_rate)
    if args.type == "exponential":
        m = f"pow(1.0 + {g}, {t})"
    elif args.type == "linear":
        m = f"(1.0 + {g} * {t})"
    else:
        m = f"(1.0 + {double(args.params.a)} * ln(1.0 + {double(args.params.b)} * {t}))"
    return f"({value} * {m})"
