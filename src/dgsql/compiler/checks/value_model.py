"""What the DSL says about the values of a ``distribution`` column after its modifiers.

Two questions, answered exactly from the declaration (never from the data):

* :func:`support`: the interval every value must lie in (generator clamp, then each modifier's
  effect on the interval: a jitter opens it, a later clamp closes it again);
* :func:`tail`: ``P(V > t)``, the upper-tail probability of the final value, for the modifiers
  ``multiply``, ``add``, ``clamp``, ``jitter`` and ``outliers``. Each of them is monotone in the
  value for a fixed draw of its noise, so ``P(step(X) > t) = P(X > step⁻¹(t))`` averaged over the
  noise, which is integrated with quantile-midpoint nodes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from statistics import NormalDist
from typing import Any

from dgsql.dsl.model import Column, DistributionGen, DistributionSpec, MagnitudeDist

INF = math.inf
NOISE_NODES = 16
TAIL_STEPS = {"multiply", "add", "clamp", "jitter", "outliers"}
_STD = NormalDist()


def distribution(col: Column) -> DistributionSpec | None:
    gen = col.generator
    return gen.distribution if isinstance(gen, DistributionGen) else None


# ------------------------------------------------------------------ support


def _hull(values: Sequence[float]) -> tuple[float, float]:
    vals = [0.0 if math.isnan(v) else v for v in values]
    return min(vals), max(vals)


def _scale(lo: float, hi: float, factors: Sequence[float]) -> tuple[float, float]:
    prods = [x * f if f != 0 else 0.0 for x in (lo, hi) for f in factors]
    return _hull(prods)


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


def _magnitude_range(m: MagnitudeDist) -> tuple[float, float]:
    return float(m.clamp[0]), float(m.clamp[1])


def support(col: Column) -> tuple[float, float] | str:
    """(lo, hi), possibly infinite, or why the modifiers make it unknowable."""
    spec = distribution(col)
    if spec is None:
        return "the column is not drawn from a distribution"
    lo, hi = base_support(spec)
    for mod in col.modifiers:
        a: Any = mod.args
        t = mod.transform
        if t == "multiply":
            lo, hi = _scale(lo, hi, [a.factor])
        elif t == "add":
            lo, hi = lo + a.value, hi + a.value
        elif t == "clamp":
            if a.min is not None:
                lo, hi = max(lo, a.min), max(hi, a.min)
            if a.max is not None:
                lo, hi = min(lo, a.max), min(hi, a.max)
        elif t == "jitter":
            if a.std > 0:
                lo, hi = -INF, INF
        elif t == "outliers":
            mlo, mhi = _magnitude_range(a.magnitude_dist)
            factors = [1 + mlo, 1 + mhi] if a.mode == "spike" else [1 / (1 + mlo), 1 / (1 + mhi)]
            lo, hi = _scale(lo, hi, [1.0, *factors])
        elif t == "seasonality":
            lo, hi = _scale(lo, hi, [min(a.weights), max(a.weights)])
        elif t in ("trend", "effect"):
            lo, hi = -INF, INF
        elif t == "time_jitter":
            pass
        else:
            return f"the {t} modifier makes the value range unknowable"
    return lo, hi


def degenerate(col: Column) -> bool:
    """True when the declaration allows a column with a single value (no variance expected)."""
    spec = distribution(col)
    if spec is None:
        return True
    p = spec.params
    spread = {
        "normal": lambda: p["std"] > 0,
        "lognormal": lambda: p["sigma"] > 0,
        "uniform": lambda: p["high"] > p["low"],
        "poisson": lambda: p["lambda"] > 0,
    }[spec.type]()
    lo, hi = base_support(spec)
    spread = spread and lo < hi
    for mod in col.modifiers:
        a: Any = mod.args
        if mod.transform == "jitter" and a.std > 0:
            spread = True
        elif mod.transform == "multiply" and a.factor == 0:
            spread = False
        elif mod.transform == "clamp" and a.min is not None and a.max is not None and a.min >= a.max:
            spread = False
    return not spread


# --------------------------------------------------------------------- tail


def quantile_nodes(ppf: Callable[[float], float], n: int = NOISE_NODES) -> list[float]:
    """``n`` quantile-midpoint nodes of the law with quantile function ``ppf``: averaging over
    them integrates over the law."""
    return [ppf((j + 0.5) / n) for j in range(n)]


def _poisson_cdf(lam: float, k: int) -> float:
    if k < 0:
        return 0.0
    if lam >= 700:  # exp(-lam) underflows; the normal approximation is exact enough there
        return _STD.cdf((k + 0.5 - lam) / math.sqrt(lam))
    term = total = math.exp(-lam)
    for i in range(1, k + 1):
        term *= lam / i
        total += term
    return min(total, 1.0)


def _raw_tail(spec: DistributionSpec, integer: bool, t: float) -> float:
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
    return 1.0 - _poisson_cdf(p["lambda"], math.floor(t)) if t >= 0 else 1.0


def base_tail(spec: DistributionSpec, integer: bool, t: float) -> float:
    """``P(X > t)`` for the generator's draw after its own clamp."""
    if spec.clamp is not None:
        lo, hi = spec.clamp
        if t >= hi:
            return 0.0
        if t < lo:
            return 1.0
    return _raw_tail(spec, integer, t)


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
        nodes = quantile_nodes(lambda u: next(k for k in range(100_000) if _poisson_cdf(lam, k) >= u))
    lo, hi = m.clamp
    return [min(max(x, lo), hi) for x in nodes]


def tail_steps(col: Column) -> list[Any] | str:
    """The modifiers :func:`tail` integrates over, or why it cannot."""
    steps = []
    for mod in col.modifiers:
        if mod.transform == "time_jitter":
            continue
        if mod.transform not in TAIL_STEPS:
            return f"the {mod.transform} modifier makes the value's law unknowable here"
        if mod.transform == "jitter" and mod.args.mode == "mul" and mod.args.std > 0.25:
            return "a multiplicative jitter wider than 0.25 can flip signs"
        if mod.transform == "outliers" and min(magnitude_nodes(mod.args.magnitude_dist)) <= -1:
            return "an outlier magnitude of -1 or less makes a spike flip signs"
        steps.append(mod)
    return steps


def tail(
    spec: DistributionSpec, integer: bool, steps: Sequence[Any], t: float, outlier: str = "mix"
) -> float:
    """``P(V > t)`` after ``steps``. ``outlier``: ``"mix"`` as declared, ``"none"`` as if the
    rate were 0 (the regular values), ``"all"`` as if it were 1 (the outliers)."""
    if not steps:
        return base_tail(spec, integer, t)
    *rest, step = steps
    a = step.args
    kind = step.transform

    def below(x: float) -> float:
        return tail(spec, integer, rest, x, outlier)

    if kind == "multiply":
        if a.factor > 0:
            return below(t / a.factor)
        if a.factor < 0:
            return 1.0 - below(t / a.factor)
        return float(0 > t)
    if kind == "add":
        return below(t - a.value)
    if kind == "clamp":
        if a.max is not None and t >= a.max:
            return 0.0
        if a.min is not None and t < a.min:
            return 1.0
        return below(t)
    if kind == "jitter":
        if a.std == 0:
            return below(t)
        nodes = quantile_nodes(NormalDist(0, a.std).inv_cdf)
        if a.mode == "add":
            return sum(below(t - e) for e in nodes) / len(nodes)
        return sum(below(t / (1 + e)) for e in nodes) / len(nodes)
    # outliers
    nodes = magnitude_nodes(a.magnitude_dist)
    factors = [1 + m for m in nodes] if a.mode == "spike" else [1 / (1 + m) for m in nodes]
    regular = below(t) if outlier != "all" else 0.0
    out = sum(below(t / f) for f in factors) / len(factors) if outlier != "none" else 0.0
    if outlier == "none":
        return regular
    if outlier == "all":
        return out
    return (1 - a.rate) * regular + a.rate * out


def quantile(
    spec: DistributionSpec, integer: bool, steps: Sequence[Any], p: float, outlier: str = "none"
) -> float:
    """The ``t`` with ``P(V > t) = p`` (bisection; ``tail`` is non-increasing in ``t``)."""
    lo, hi = -1.0, 1.0
    while tail(spec, integer, steps, lo, outlier) < p and lo > -1e15:
        lo *= 4
    while tail(spec, integer, steps, hi, outlier) > p and hi < 1e15:
        hi *= 4
    for _ in range(80):
        mid = (lo + hi) / 2
        if tail(spec, integer, steps, mid, outlier) > p:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2
