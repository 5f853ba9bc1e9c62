"""The datetime grid of a ``datetime_series`` (or of the timeframe) as SQL, and the hour / dow /
month dimensions of a timestamp, as the DSL numbers them (hour 0–23, dow 0 = Monday, month 0–11)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from dgsql.compiler.checks.sql import Sql, doubles, fill, lit
from dgsql.dsl.model import FREQ_RE, Column, Dataset, DatetimeSeriesGen

UNIT_SECONDS = {"S": 1, "T": 60, "min": 60, "H": 3600, "h": 3600, "D": 86400, "W": 604800}
UNIT_NAMES = {
    "S": "second",
    "T": "minute",
    "min": "minute",
    "H": "hour",
    "h": "hour",
    "D": "day",
    "W": "week",
}
#: Grids longer than this are thinned (see :func:`grid_sql`).
MAX_POINTS = 200_000

DIMENSIONS = {
    "hour": "hour({ts})",
    "dow": "(isodow({ts}) - 1)",
    "month": "(month({ts}) - 1)",
}


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
    start: datetime
    end: datetime
    freq: str

    @property
    def step(self) -> tuple[int, str]:
        m = FREQ_RE.match(self.freq)
        assert m is not None
        return int(m["mult"] or 1), m["unit"]

    def points(self) -> int:
        mult, unit = self.step
        if unit in ("M", "MS"):
            months = (self.end.year - self.start.year) * 12 + self.end.month - self.start.month
            return months // mult + 1
        seconds = (self.end - self.start).total_seconds()
        return int(seconds // (mult * UNIT_SECONDS[unit])) + 1


def column_grid(dataset: Dataset, col: Column) -> Grid | None:
    """The grid a ``datetime_series`` column samples from (None when it has none)."""
    gen = col.generator
    if not isinstance(gen, DatetimeSeriesGen):
        return None
    spec = gen.datetime_series
    tf = dataset.timeframe
    if spec.within == "timeframe":
        if tf is None:
            return None
        start, end = tf.start, tf.end
    else:
        start, end = spec.within.start, spec.within.end
    freq = spec.freq or (tf.freq if tf is not None else None)
    return None if freq is None else Grid(start, end, freq)


def _stride(n: int) -> int:
    """The smallest prime above 7 and at least ``n``: a stride that keeps every phase of the hour,
    day and week (all made of the primes 2, 3, 5, 7) equally represented."""
    k = max(n, 11)
    while any(k % p == 0 for p in range(2, int(math.isqrt(k)) + 1)):
        k += 1
    return k


def grid_sql(grid: Grid) -> Sql:
    """``SELECT ts FROM …``: every grid point, or an evenly spread subset of at most
    :data:`MAX_POINTS` (stride a prime, so hour/day/week phases keep their proportions)."""
    mult, unit = grid.step
    points = grid.points()
    if points > MAX_POINTS and unit not in ("M", "MS"):
        mult *= _stride(math.ceil(points / MAX_POINTS))
    name = "month" if unit in ("M", "MS") else UNIT_NAMES[unit]
    return fill(
        "SELECT ts FROM generate_series({start}, {end}, CAST({step} AS INTERVAL)) AS g(ts)",
        start=lit(grid.start),
        end=lit(grid.end),
        step=lit(f"{mult} {name}"),
    )
