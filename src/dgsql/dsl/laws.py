"""The laws of the DSL's draws, as numbers (no SQL): weights of ranked choices, Walker's alias
table, the clamped Poisson pmf, the support and upper tail of each distribution, and
quantile nodes to integrate over a noise law. The compiler turns them into SQL; the checks
compare the data against them."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from statistics import NormalDist

from dgsql.dsl.model import DistributionSpec, MagnitudeDist

INF = math.inf
NOISE_NODES = 16
POISSON_EXACT_MAX = 50.0
"""Poisson draws with a larger λ are ``round(λ + √λ·z)``, floored at 0 (the generator's normal
approximation): :func:`raw_tail` gives that law, which is the one the data follows."""
_STD = NormalDist()


def kind_weights(kind: str, params: tuple[float, ...], n: int) -> list[float]:
    """Weights of ``n`` ranked choices for a parsed ``weights_kind``."""
    if kind == "uniform":
        return [1.0] * n
    if kind == "zipf":
        (a,) = params
        return [1.0 / (i + 1) ** a for i in range(n)]
    h, a = params
    head = max(1, math.floor(0.2 * n))
    tail = [1.0 / (i + 1) ** a for i in range(n - head)]
    total_tail = sum(tail)
    if not tail:
        return [1.0 / head] * head
    return [h / head] * head + [(1 - h) * w / total_tail for w in tail]


def normalise(weights: list[float]) -> list[float]:
    total = math.fsum(weights)
    return [w / total for w in weights]


def alias_table(weights: list[float]) -> tuple[list[float], list[int], list[int]]:
    """Vose's alias method over the *positive* weights.

    Returns (probs, keep, alias), m buckets each; a pick takes bucket
    ``j = floor(u*m)`` and yields item ``keep[j]`` if the fraction of ``u*m`` is
    below ``probs[j]``, else item ``alias[j]``. Zero weights get no bucket and are
    never drawn.
    """
    items = [i for i, w in enumerate(weights) if w > 0]
    m = len(items)
    total = math.fsum(weights[i] for i in items)
    scaled = [weights[i] * m / total for i in items]
    probs = [1.0] * m
    aliases = list(range(m))
    small = [j for j, p in enumerate(scaled) if p < 1.0]
    large = [j for j, p in enumerate(scaled) if p >= 1.0]
    while small and large:
        s, g = small.pop(), large.pop()
        probs[s], aliases[s] = scaled[s], g
        scaled[g] = (scaled[g] + scaled[s]) - 1.0
        (small if scaled[g] < 1.0 else large).append(g)
    # leftovers are 1.0 up to rounding
    return probs, items, [items[a] for a in aliases]


def poisson_point(lam: float, lo: int, hi: int | None) -> int | None:
    """The one value of a Poisson(lam) clamped to [lo, hi] when the clamp leaves only one
    (``lo`` at or past the table's last point, or ``hi <= lo``), else None. Callers ask this
    first: a table of ``lo`` leading zeros for ``min: 10**9`` would not fit in memory."""
    if hi is not None and hi <= lo:
        return lo
    return lo if lo > 0 and lo >= len(poisson_pmf(lam, 0, hi)) - 1 else None


def poisson_pmf(lam: float, lo: int, hi: int | None, eps: float = 1e-15) -> list[float]:
    """P(K=k) for k in [0, top], the mass outside [lo, hi] folded onto the ends (a clamp)."""
    pmf: list[float] = []
    k, p, cum = 0, math.exp(-lam), 0.0
    top = hi if hi is not None else None
    while True:
        pmf.append(p)
        cum += p
        # past the mode the terms only shrink; for some lambdas the float sum stops short of
        # 1 - eps (19.69, 24.36, …), so a negligible term ends the table too (else: no end)
        if (top is not None and k >= top) or (k >= lam and (cum >= 1 - eps or p < eps * 1e-3)):
            break
        k += 1
        p *= lam / k
    pmf[-1] += max(0.0, 1.0 - cum)
    if lo > 0:
        folded = math.fsum(pmf[: lo + 1])
        pmf = [0.0] * lo + [folded] + pmf[lo + 1 :]
    return pmf


def hull(values: Sequence[float]) -> tuple[float, float]:
    vals = [0.0 if math.isnan(v) else v for v in values]
    return min(vals), max(vals)


def scale(lo: float, hi: float, factors: Sequence[float]) -> tuple[float, float]:
    prods = [x * f if f != 0 else 0.0 for x in (lo, hi) for f in factors]
    return hull(prods)


def base_support(spec: DistributionSpec) -> tuple[float, float]:
    p = spec.params
    natural = {
        "normal": (-INF, INF),
        "lognormal": (0.0, INF),
        "uniform": (p.get("low", -INF), p.get("high", INF)),
        "poisson": (0.0, INF),
    }[spec.type]
    if spec.clamp is None:
        return natural
    lo, hi = spec.clamp
    return min(max(natural[0], lo), hi), max(min(natural[1], hi), lo)


def quantile_nodes(ppf: Callable[[float], float], n: int = NOISE_NODES) -> list[float]:
    """``n`` quantile-midpoint nodes of the law with quantile function ``ppf``: averaging over
    them integrates over the law."""
    return [ppf((j + 0.5) / n) for j in range(n)]


def poisson_cdf(lam: float, k: int) -> float:
    if k < 0:
        return 0.0
    if lam >= 700:  # exp(-lam) underflows; the normal approximation is exact enough there
        return _STD.cdf((k + 0.5 - lam) / math.sqrt(lam))
    term = total = math.exp(-lam)
    for i in range(1, k + 1):
        term *= lam / i
        total += term
    return min(total, 1.0)


def raw_tail(spec: DistributionSpec, integer: bool, t: float) -> float:
    p = spec.params
    if spec.type == "normal":
        return 1.0 - (NormalDist(p["mean"], p["std"]).cdf(t) if p["std"] > 0 else float(t >= p["mean"]))
    if spec.type == "lognormal":
        if t <= 0:
            return 1.0
        z = math.log(t)
        return 1.0 - (NormalDist(p["mean"], p["sigma"]).cdf(z) if p["sigma"] > 0 else float(z >= p["mean"]))
    if spec.type == "uniform":
        low, high = p["low"], p["high"]
        if integer:
            low_i, high_i = math.ceil(low), math.floor(high)
            above = high_i - max(math.floor(t), low_i - 1)
            return min(max(above / (high_i - low_i + 1), 0.0), 1.0) if high_i >= low_i else 0.0
        if high == low:
            return float(t < low)
        return min(max((high - t) / (high - low), 0.0), 1.0)
    lam = p["lambda"]
    if t < 0:
        return 1.0
    if lam > POISSON_EXACT_MAX:  # round(λ + √λ·z) ≤ k exactly when λ + √λ·z < k + 0.5
        return 1.0 - _STD.cdf((math.floor(t) + 0.5 - lam) / math.sqrt(lam))
    return 1.0 - poisson_cdf(lam, math.floor(t))


def base_tail(spec: DistributionSpec, integer: bool, t: float) -> float:
    """``P(X > t)`` for the generator's draw after its own clamp."""
    if spec.clamp is not None:
        lo, hi = spec.clamp
        if t >= hi:
            return 0.0
        if t < lo:
            return 1.0
    return raw_tail(spec, integer, t)


def magnitude_nodes(m: MagnitudeDist) -> list[float]:
    """Quantile-midpoint nodes of an outlier magnitude, clamped."""
    p = m.params
    if m.type == "normal":
        nodes = quantile_nodes(NormalDist(p["mean"], p["std"]).inv_cdf) if p["std"] > 0 else [p["mean"]]
    elif m.type == "lognormal":
        normal = NormalDist(p["mean"], p["sigma"]) if p["sigma"] > 0 else None
        nodes = [math.exp(x) for x in quantile_nodes(normal.inv_cdf)] if normal else [math.exp(p["mean"])]
    elif m.type == "uniform":
        nodes = quantile_nodes(lambda u: p["low"] + u * (p["high"] - p["low"]))
    else:
        lam = p["lambda"]
        nodes = quantile_nodes(lambda u: next(k for k in range(100_000) if poisson_cdf(lam, k) >= u))
    lo, hi = m.clamp
    return [min(max(x, lo), hi) for x in nodes]
