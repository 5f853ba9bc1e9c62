"""``trend``: ``v * m(t)``, t in years of 365.25 days from the timeframe start to the
row's ``time_reference`` (or its first datetime column)."""

from typing import Any

from dgsql.compiler.context import ColumnContext, epoch_us
from dgsql.compiler.kind import ModifierKind, Site
from dgsql.compiler.sqltext import double, lit
from dgsql.dsl import model as S
from dgsql.dsl.laws import INF
from dgsql.dsl.types import NUMBERS, TIMES

YEAR_US = 365.25 * 86400 * 1e6


def time_column(args: S.TrendArgs, column: S.Column, node: S.Node) -> str | None:
    return args.time_reference or node.first_datetime(exclude=column.name)


class Trend(ModifierKind):
    key = "trend"
    types = NUMBERS
    arithmetic = True

    def check(self, args: S.TrendArgs, site: Site, where: str) -> None:
        if args.time_reference:
            site.refs.typed(f"{site.path}{where}.time_reference", site.node, args.time_reference, TIMES)
        elif time_column(args, site.column, site.node) is None:
            site.problem(
                where.removesuffix(".args"),
                "trend needs a datetime column in the row; add args.time_reference.",
            )
        if site.ds.timeframe is None:
            site.problem(where, "trend counts years from the timeframe start; add a timeframe.")

    def reads(self, args: S.TrendArgs, column: S.Column, node: S.Node) -> list[str]:
        ts = time_column(args, column, node)
        return [ts] if ts else []

    def support(self, args: Any, lo: float, hi: float) -> tuple[float, float]:
        return -INF, INF

    def render(self, args: S.TrendArgs, value: str, ctx: ColumnContext) -> str:
        return render(args, value, ctx)


def render(args: S.TrendArgs, value: str, ctx: ColumnContext) -> str:
    ts = ctx.col(time_column(args, ctx.column, ctx.node))  # type: ignore[arg-type]
    assert ctx.dataset.timeframe is not None, f"{ctx.path}: a trend without a timeframe passed the checks"
    start = lit(epoch_us(ctx.dataset.timeframe.start))
    t = f"((epoch_us({ts}) - {start}) / {double(YEAR_US)})"
    g = double(args.growth_rate)
    if args.type == "exponential":
        m = f"pow(1.0 + {g}, {t})"
    elif args.type == "linear":
        m = f"(1.0 + {g} * {t})"
    else:
        # ln is undefined where 1 + b·t <= 0 (a time more than 1/b years before the timeframe
        # start): the value is left as it is there (DuckDB's CLI raises on ln of a negative)
        inner = f"(1.0 + {double(args.params.b)} * {t})"
        m = f"CASE WHEN {inner} > 0 THEN 1.0 + {double(args.params.a)} * ln({inner}) ELSE 1.0 END"
    return f"({value} * {m})"
