"""The datetime grid of a ``datetime_series`` (or of the timeframe) as SQL, and the hour / dow /
month dimensions of a timestamp, as the DSL numbers them (hour 0–23, dow 0 = Monday, month 0–11).

The grid itself (its first point, step and number of points) is :mod:`dgsql.dsl.time`'s, the
one the compiler generates from; here it only becomes SQL."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from dgsql.compiler.sqltext import Sql, doubles, fill, lit
from dgsql.dsl import time
from dgsql.dsl.model import Column, Dataset, DatetimeSeriesGen

INTERVAL_UNITS = {
    "S": "second",
    "T": "minute",
    "H": "hour",
    "D": "day",
    "W": "week",
    "MS": "month",
}
"The SQL interval unit of each of ``dgsql.dsl.time.UNITS``' units."
#: Grids longer than this are thinned (see :func:`grid_sql`).
MAX_POINTS = 200_000

DIMENSIONS = {
    "hour": "hour({ts})",
    "dow": "(isodow({ts}) - 1)",
    "month": "(month({ts}) - 1)",
}
"``dgsql.dsl.time.pattern_index`` of a SQL timestamp."


def dimension(name: str, ts: Sql) -> Sql:
    """``hour``/``dow``/``month`` of ``ts`` as the DSL numbers it (0-based, dow 0 = Monday)."""
    return fill(DIMENSIONS[name], ts=ts)


def weight_at(weights: list[float], dim: Sql) -> Sql:
    """The declared weight of the value ``dim`` of a dimension (0-based, as :func:`dimension` gives).

    >>> weight_at([1, 2], Sql("d"))
    'CAST([1.0, 2.0] AS DOUBLE[])[d + 1]'
    """
    return fill("{w}[{d} + 1]", w=doubles(weights), d=dim)


@dataclass(frozen=True)
class Grid:
    """A span ``[start, end]`` and a frequency: the grid :func:`dgsql.dsl.time.grid` makes of them."""

    start: datetime
    end: datetime
    freq: str

    def resolve(self) -> time.Grid:
        """Its points."""
        return time.grid(self, self.freq)

    def points(self) -> int:
        return self.resolve().points


def column_grid(dataset: Dataset, col: Column) -> Grid | None:
    """The grid a ``datetime_series`` column samples from (None when it has none)."""
    gen = col.generator
    if not isinstance(gen, DatetimeSeriesGen):
        return None
    span = time.series_span(gen.datetime_series, dataset)
    freq = time.series_freq(gen.datetime_series, dataset)
    return None if span is None or freq is None else Grid(span.start, span.end, freq)


def _stride(n: int) -> int:
    """The smallest prime above 7 and at least ``n``: a stride that keeps every phase of the hour,
    day and week (all made of the primes 2, 3, 5, 7) equally represented."""
    k = max(n, 11)
    while any(k % p == 0 for p in range(2, int(math.isqrt(k)) + 1)):
        k += 1
    return k


def grid_sql(grid: Grid) -> Sql:
    """``SELECT ts FROM …``: every grid point, or an evenly spread subset of at most
    :data:`MAX_POINTS` (stride a prime, so hour/day/week phases keep their proportions).
    An empty grid selects no row."""
    g = grid.resolve()
    if g.points <= 0:
        return Sql("SELECT CAST(NULL AS TIMESTAMP) AS ts WHERE false")
    mult = g.freq.mult
    if g.points > MAX_POINTS and not g.freq.monthly:
        mult *= _stride(math.ceil(g.points / MAX_POINTS))
    return fill(
        "SELECT ts FROM generate_series({first}, {last}, CAST({step} AS INTERVAL)) AS g(ts)",
        first=lit(g.first),
        last=lit(g.last),
        step=lit(f"{mult} {INTERVAL_UNITS[g.freq.unit]}"),
    )
