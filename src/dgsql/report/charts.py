"""What the report draws, as data: a chart holds the observed numbers (aggregates DuckDB
computed) beside the declared ones (computed here from the schema), and no SQL or drawing.

The declared side of a ``distribution`` column is its law's expected count per histogram bin,
from the law's CDF with the clamp folding the tails onto its bounds (an ``int`` column's values
are the draw rounded, so its CDF steps at the half integers).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from statistics import NormalDist

from dgsql.dsl.laws import poisson_cdf
from dgsql.dsl.model import DistributionSpec


@dataclass(frozen=True)
class Bars:
    """Categories: observed values as bars, declared values (or None) as marks."""

    title: str
    labels: list[str]
    observed: list[float]
    declared: list[float | None] = field(default_factory=list)
    shares: bool = True
    "Values are shares (shown as percentages)."
    note: str = ""


@dataclass(frozen=True)
class Histogram:
    """Counts per bin of ``edges`` (one more edge than counts); ``expected`` the declared law's
    counts per bin (or None); ``marks`` vertical lines (value, name)."""

    title: str
    edges: list[float]
    counts: list[int]
    expected: list[float] | None = None
    marks: list[tuple[float, str]] = field(default_factory=list)
    note: str = ""


@dataclass(frozen=True)
class Gauge:
    """One observed value against the declared one, on a scale from 0 to ``scale``."""

    title: str
    observed: float
    declared: float | None
    scale: float = 1.0
    shares: bool = True
    note: str = ""


@dataclass(frozen=True)
class Graph:
    """Tables (in dependency order) and the reads between them: (table read, reader, kind)."""

    title: str
    nodes: list[str]
    edges: list[tuple[str, str, str]]
    labels: dict[str, str] = field(default_factory=dict)
    note: str = ""


Chart = Bars | Histogram | Gauge | Graph


def has_declared(chart: Chart) -> bool:
    """Whether the chart shows declared values beside the observed ones."""
    if isinstance(chart, Bars):
        return any(d is not None for d in chart.declared)
    if isinstance(chart, Histogram):
        return chart.expected is not None
    if isinstance(chart, Gauge):
        return chart.declared is not None
    return False


def law_cdf(spec: DistributionSpec, integer: bool) -> Callable[[float], float]:
    """P(X ≤ x) of the generator's draw before any clamp (rounded on an ``int`` column)."""
    p = spec.params
    kind = spec.type
    if kind == "poisson":
        lam = p["lambda"]
        return lambda x: poisson_cdf(lam, math.floor(x))
    if kind == "uniform" and integer:
        low, high = math.ceil(p["low"]), math.floor(p["high"])
        size = high - low + 1
        return lambda x: min(max((math.floor(x) - low + 1) / size, 0.0), 1.0) if size > 0 else float(x >= low)
    if kind == "uniform":
        low, high = p["low"], p["high"]
        return lambda x: float(x >= low) if high == low else min(max((x - low) / (high - low), 0.0), 1.0)
    if kind == "lognormal":
        mu, sigma = p["mean"], p["sigma"]
        inner = _normal_cdf(mu, sigma)
        cont = lambda x: inner(math.log(x)) if x > 0 else 0.0  # noqa: E731
    else:
        mean, std = p["mean"], p.get("std", p.get("sigma", 0.0))
        cont = _normal_cdf(mean, std)
    if integer:
        return lambda x: cont(math.floor(x) + 0.5)
    return cont


def _normal_cdf(mean: float, std: float) -> Callable[[float], float]:
    if std <= 0:
        return lambda x: float(x >= mean)
    return NormalDist(mean, std).cdf


def clamped(cdf: Callable[[float], float], lo: float, hi: float) -> Callable[[float], float]:
    """The CDF after clamping to [lo, hi]: the tails become point masses on the bounds."""

    def g(x: float) -> float:
        if x < lo:
            return 0.0
        if x >= hi:
            return 1.0
        return cdf(x)

    return g


def expected_counts(cdf: Callable[[float], float], edges: Sequence[float], rows: int) -> list[float]:
    """Rows per bin ``[edges[i], edges[i+1])`` (the last bin closed) under ``cdf``."""
    out = []
    for i in range(len(edges) - 1):
        a, b = edges[i], edges[i + 1]
        upper = cdf(b) if i == len(edges) - 2 else cdf(math.nextafter(b, -math.inf))
        lower = cdf(math.nextafter(a, -math.inf))
        out.append(rows * max(upper - lower, 0.0))
    return out


def describe(spec: DistributionSpec) -> str:
    """``lognormal(mean=3.6, sigma=0.7) clamp [2, 2000]``."""
    params = ", ".join(f"{k}={v:g}" for k, v in spec.params.items())
    clamp = f" clamp [{spec.clamp[0]:g}, {spec.clamp[1]:g}]" if spec.clamp else ""
    return f"{spec.type}({params}){clamp}"
