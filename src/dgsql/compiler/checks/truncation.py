"""The hour / dow / month shares of a ``datetime_series`` column drawn after another one, from
the two columns' declared laws: what ``preflight`` holds against the later column's own shares
to warn that an inequality reshapes it. validate's ``datetime_shape`` computes the same
expectation from the data's bounds, in SQL (see its docstring for the formula).

With the later column's points t of weight w(t), suffix weights S(k) = Σ_{j ≥ k} w(tⱼ), and
the bound's points a of probability p(a): each a starts the later column's draw at its first
allowed point k(a) (above a, or at it when no inequality is strict), with mass p(a)/S(k(a));
the running sum G of those masses gives point tⱼ the share w(tⱼ)·G(j). A bound that leaves no
weighted point puts its row on the first grid point after it (past the span), as the
generator does. A NULL bound (the bound column's ``null_rate``) restricts nothing.

Cost: one pass over each column's points, O(points · log points) with the bisections; a
year of hourly points on both sides takes ~15 ms (measured in tests/test_truncated_shapes.py).
Grids finer than an hour are taken as hourly cells (each a point at the start of its hour,
weighing its points: they share the hour, dow and month, so the shares are exact and only
where a bound falls inside an hour is approximated); grids of more than :data:`MAX_CELLS`
cells are not looked at (None).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import accumulate

from dgsql.dsl.time import PATTERN_SIZES, Dimension, Grid, Weights, pattern_index

MAX_CELLS = 200_000
"Most cells (points, or hours of a finer grid) of a grid looked at."
HOUR = timedelta(hours=1)
DIMENSIONS: tuple[Dimension, ...] = ("hour", "dow", "month")

Shares = dict[Dimension, list[float]]
"Per dimension, the share of each of its values (24 hours, 7 days, 12 months)."


@dataclass(frozen=True)
class Law:
    """A ``datetime_series``' declared law as cells in time order: a point of the grid, or an
    hour of a grid finer than that, with its (unnormalised) weight."""

    grid: Grid
    starts: list[datetime]
    weights: list[float]

    def shares(self) -> Shares:
        """The law's own shares of each dimension."""
        return _shares(self.starts, self.weights)


def declared_law(g: Grid, patterns: Sequence[Weights]) -> Law | None:
    """The law of a ``datetime_series`` on grid ``g`` weighted by ``patterns`` (they multiply),
    or None when it has more than :data:`MAX_CELLS` cells."""
    if g.points <= 0:
        return None
    if g.step is not None and g.step < HOUR:
        starts, counts = _hours(g)
    elif g.points <= MAX_CELLS:
        starts = [g.at(k) for k in range(g.points)] if g.step is None else _series(g.first, g.step, g.points)
        counts = [1] * g.points
    else:
        return None
    if starts is None:
        return None
    weights = [float(n) for n in counts]
    for p in patterns:
        dim, w = p.dimension, p.weights
        weights = [x * w[pattern_index(dim, t)] for x, t in zip(weights, starts, strict=True)]
    return Law(g, starts, weights)


def _series(first: datetime, step: timedelta, n: int) -> list[datetime]:
    return list(accumulate([first] + [step] * (n - 1), lambda t, d: t + d))


def _hours(g: Grid) -> tuple[list[datetime] | None, list[int]]:
    """The hours a grid finer than an hour touches, and how many of its points each holds."""
    assert g.step is not None
    first = g.first.replace(minute=0, second=0, microsecond=0)
    cells = (g.last - first) // HOUR + 1
    if cells > MAX_CELLS:
        return None, []
    starts = _series(first, HOUR, cells)
    step_us = g.step // timedelta(microseconds=1)

    def before(t: datetime) -> int:
        """How many grid points lie before ``t``."""
        d = (t - g.first) // timedelta(microseconds=1)
        return min(max(-(-d // step_us), 0), g.points)

    edges = [before(t) for t in starts] + [g.points]
    return starts, [b - a for a, b in zip(edges, edges[1:], strict=False)]


def _shares(starts: Sequence[datetime], weights: Sequence[float]) -> Shares:
    out: Shares = {}
    total = sum(weights)
    for d in DIMENSIONS:
        values = [0.0] * PATTERN_SIZES[d]
        for t, w in zip(starts, weights, strict=True):
            values[pattern_index(d, t)] += w
        out[d] = [v / total for v in values]
    return out


def truncated_shares(bound: Law, later: Law, strict: bool, bound_nulls: float = 0.0) -> Shares:
    """The shares of ``later`` drawn after ``bound`` (above it if ``strict``, else at or
    above), a fraction ``bound_nulls`` of the bounds being NULL (unrestricted)."""
    starts, weights = later.starts, later.weights
    suffix = list(accumulate(reversed(weights)))[::-1] + [0.0]
    first = bisect_right if strict else bisect_left
    starting = [0.0] * len(starts)
    past: list[datetime] = []
    past_mass: list[float] = []
    for a, p in zip(bound.starts, bound.weights, strict=True):
        if p <= 0:
            continue
        k = first(starts, a)
        if suffix[k] > 0:
            starting[k] += p / suffix[k]
        else:  # nothing left: the first grid point after the bound, past the span
            try:
                past.append(later.grid.at(later.grid.first_after(a, strict)))
            except OverflowError:  # past year 9999: the last point stands for it
                past.append(starts[-1])
            past_mass.append(p)
    reached = [w * g for w, g in zip(weights, accumulate(starting), strict=True)]
    shares = _shares([*starts, *past], [*reached, *past_mass])
    if bound_nulls <= 0:
        return shares
    declared = later.shares()
    return {
        d: [bound_nulls * q + (1 - bound_nulls) * s for q, s in zip(declared[d], shares[d], strict=True)]
        for d in DIMENSIONS
    }


def tvd(p: Sequence[float], q: Sequence[float]) -> float:
    """Total variation distance between two share vectors."""
    return 0.5 * sum(abs(a - b) for a, b in zip(p, q, strict=True))
