"""The exact law of a ``distribution`` column's values, as numbers (no SQL): the generator's
draw and clamp, then the modifiers whose composition is exact (``multiply``, ``add``,
``clamp``: each value is a piecewise-affine function of the draw), then the cast to ``int``
(rounding half away from zero).

* :func:`moments`: mean, variance and fourth central moment — in closed form for the
  continuous laws (partial moments of the normal, lognormal and uniform over the pieces of the
  piecewise-affine map), as a finite sum for the discrete ones (Poisson, uniform on an int
  column) and for an int column whose values span at most :data:`MAX_ATOMS` integers;
* :func:`cells`: the categories or bins a shape test counts, with their declared shares —
  every integer value of a discrete law with at most :data:`MAX_ATOMS` values, else
  :data:`BINS` bins of equal declared share (edges at half-integers on an int column, and
  never on a clamp's atom on a float column).

Anything else (noise modifiers, a bound from an inequality…) has no exact law here; callers
report the reason.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

from dgsql.compiler.checks import value_model as vm
from dgsql.dsl.laws import POISSON_EXACT_MAX, poisson_pmf
from dgsql.dsl.model import Column, DistributionSpec, Modifier

EXACT_STEPS = ("multiply", "add", "clamp")
"Modifiers whose composition with the draw is exact: the value stays a monotone piecewise-affine function."
MAX_ATOMS = 1000
"A discrete law with at most this many values is tested value by value; and moments are summed."
BINS = 20
"Bins of equal declared share for the other laws."
TAIL = 1e-13
"Probability left out at each end when listing the integer values of a law."

_STD = NormalDist()


@dataclass(frozen=True)
class Law:
    """The value law of one column: its draw, the exact steps after it, and the int cast."""

    spec: DistributionSpec
    steps: tuple[Modifier, ...]
    integer: bool
    "An int column: the draw is an integer uniform, and the value is rounded."

    @property
    def discrete(self) -> bool:
        return self.spec.type == "poisson" or (self.spec.type == "uniform" and self.integer)

    def tail(self, t: float) -> float:
        """P(V > t) of the value before the cast."""
        return vm.tail(self.spec, self.integer, self.steps, t)

    def value(self, x: float) -> float:
        """The value a draw ``x`` (after the generator's clamp) becomes, in the SQL's arithmetic."""
        for step in self.steps:
            a = step.args
            if step.transform == "multiply":
                x = x * a.factor
            elif step.transform == "add":
                x = x + a.value
            else:
                x = x if a.min is None else max(x, a.min)
                x = x if a.max is None else min(x, a.max)
        return _round(x) if self.integer else x


def _round(x: float) -> float:
    """DuckDB's ``round``: half away from zero."""
    return math.copysign(math.floor(abs(x) + 0.5), x)


def law_of(col: Column) -> Law | str:
    """The column's law, or why it has none here."""
    spec = vm.distribution(col)
    if spec is None:
        return "the column is not drawn from a distribution"
    if col.type not in ("int", "float"):
        return f"a {col.type} column"
    other = [m.transform for m in col.modifiers if m.transform not in EXACT_STEPS]
    if other:
        return f"the {', '.join(dict.fromkeys(other))} modifier's composition with the law is not computed exactly"
    law = Law(spec, tuple(col.modifiers), col.type == "int")
    if law.discrete and law.steps and law.integer:
        return "multiply/add/clamp on a discrete law before the int cast: values may tie at half-integers"
    if law.integer and not law.discrete:
        bounds = vm.support_of(spec, law.steps)
        if isinstance(bounds, str):
            return bounds
        if any(math.isfinite(b) and b - math.floor(b) == 0.5 for b in bounds):
            return "the value range ends at a half-integer, where the int cast's rounding ties"
    return law


# ------------------------------------------------------------------ atoms


def draw_atoms(spec: DistributionSpec, integer: bool) -> dict[float, float] | None:
    """The draw's values and probabilities (after the generator's clamp) for a discrete law with
    at most :data:`MAX_ATOMS` values, else None."""
    p = spec.params
    lo, hi = spec.clamp if spec.clamp is not None else (-math.inf, math.inf)
    atoms: dict[float, float] = {}
    if spec.type == "uniform" and integer:
        low, high = math.ceil(p["low"]), math.floor(p["high"])
        if high - low + 1 > MAX_ATOMS:
            return None
        for k in range(low, high + 1):
            x = float(min(max(k, lo), hi))
            atoms[x] = atoms.get(x, 0.0) + 1 / (high - low + 1)
        return atoms
    if spec.type != "poisson":
        return None
    lam = p["lambda"]
    first = max(0, math.ceil(lo)) if spec.clamp else 0
    last = math.floor(hi) if spec.clamp else None
    if lam <= POISSON_EXACT_MAX:
        pmf = poisson_pmf(lam, first, last)
        if sum(1 for q in pmf if q > 0) > MAX_ATOMS:
            return None
        return {float(k): q for k, q in enumerate(pmf) if q > 0}
    # the normal approximation: round(λ + √λ·z), floored at the clamp's low end (0 at least)
    sd = math.sqrt(lam)
    start = max(first, math.floor(lam + sd * _STD.inv_cdf(TAIL)))
    stop = math.ceil(lam + sd * _STD.inv_cdf(1 - TAIL))
    if last is not None:
        stop = min(stop, last)
    if stop - start + 1 > MAX_ATOMS:
        return None
    for k in range(start, stop + 1):
        below = _STD.cdf((k - 0.5 - lam) / sd) if k > start else 0.0
        above = _STD.cdf((k + 0.5 - lam) / sd) if k < stop else 1.0
        atoms[float(k)] = above - below
    return atoms


def value_atoms(law: Law) -> dict[float, float] | None:
    """The values and probabilities of a discrete law, or of an int column whose values span at
    most :data:`MAX_ATOMS` integers; None otherwise."""
    drawn = draw_atoms(law.spec, law.integer) if law.discrete else None
    if drawn is not None:
        out: dict[float, float] = {}
        for x, q in drawn.items():
            v = law.value(x)
            out[v] = out.get(v, 0.0) + q
        return out
    if law.discrete or not law.integer:
        return None
    first = math.floor(vm.quantile(law.spec, True, law.steps, 1 - TAIL)) - 1
    last = math.ceil(vm.quantile(law.spec, True, law.steps, TAIL)) + 1
    if last - first + 1 > MAX_ATOMS:
        return None
    tails = [law.tail(k + 0.5) for k in range(first - 1, last + 1)]
    out = {float(k): tails[i] - tails[i + 1] for i, k in enumerate(range(first, last + 1))}
    out[float(first)] += 1 - tails[0]
    out[float(last)] += tails[-1]
    return {v: q for v, q in out.items() if q > 0}


# ---------------------------------------------------------------- moments


@dataclass(frozen=True)
class Moments:
    mean: float
    variance: float
    fourth: float
    "The fourth central moment μ₄."

    @property
    def sd(self) -> float:
        return math.sqrt(max(self.variance, 0.0))


def _central(points: Sequence[tuple[float, float]]) -> Moments:
    total = math.fsum(q for _, q in points)
    mean = math.fsum(v * q for v, q in points) / total
    var = math.fsum((v - mean) ** 2 * q for v, q in points) / total
    fourth = math.fsum((v - mean) ** 4 * q for v, q in points) / total
    return Moments(mean, var, fourth)


Piece = tuple[float, float, float, float]
"(x from, x to, slope, intercept): on (from, to) the value is slope·x + intercept."


def pieces(law: Law) -> list[Piece]:
    """The value as a piecewise-affine function of the unclamped draw."""
    lo, hi = law.spec.clamp if law.spec.clamp is not None else (-math.inf, math.inf)
    out: list[Piece] = [(-math.inf, lo, 0.0, lo), (lo, hi, 1.0, 0.0), (hi, math.inf, 0.0, hi)]
    for step in law.steps:
        a = step.args
        if step.transform == "multiply":
            out = [(x0, x1, s * a.factor, c * a.factor) for x0, x1, s, c in out]
        elif step.transform == "add":
            out = [(x0, x1, s, c + a.value) for x0, x1, s, c in out]
        else:
            out = [p for piece in out for p in _clamp_piece(piece, a.min, a.max)]
    return [p for p in out if p[0] < p[1]]


def _clamp_piece(piece: Piece, low: float | None, high: float | None) -> list[Piece]:
    x0, x1, s, c = piece
    cuts = sorted(x for b in (low, high) if b is not None and s != 0 for x in [(b - c) / s] if x0 < x < x1)
    edges = [x0, *cuts, x1]
    out = []
    for a, b in zip(edges, edges[1:], strict=False):
        probe = (
            (a + b) / 2 if math.isfinite(a) and math.isfinite(b) else (b - 1 if math.isfinite(b) else a + 1)
        )
        if not math.isfinite(probe):
            probe = 0.0
        y = s * probe + c
        if low is not None and y < low:
            out.append((a, b, 0.0, low))
        elif high is not None and y > high:
            out.append((a, b, 0.0, high))
        else:
            out.append((a, b, s, c))
    return out


def _partial(spec: DistributionSpec, a: float, b: float, k: int) -> float:
    """E[X^k · 1{a < X < b}] of the unclamped continuous draw X."""
    p = spec.params
    if spec.type == "normal":
        mu, sd = p["mean"], p["std"]
        al, be = (a - mu) / sd, (b - mu) / sd
        j = [_STD.cdf(be) - _STD.cdf(al)]
        edge = [(z, _STD.pdf(z)) for z in (al, be)]

        def bracket(i: int) -> float:  # [z^i φ(z)] from al to be, 0 at infinite ends
            return sum(
                sign * (z**i * f if math.isfinite(z) else 0.0)
                for sign, (z, f) in zip((1, -1), edge, strict=True)
            )

        j.append(bracket(0))
        for i in range(2, k + 1):
            j.append(bracket(i - 1) + (i - 1) * j[i - 2])
        return math.fsum(math.comb(k, i) * mu ** (k - i) * sd**i * j[i] for i in range(k + 1))
    if spec.type == "lognormal":
        mu, sg = p["mean"], p["sigma"]
        la = math.log(a) if a > 0 else -math.inf
        lb = math.log(b) if b > 0 else -math.inf
        if lb == -math.inf:
            return 0.0
        shift = mu + k * sg * sg
        return math.exp(k * mu + k * k * sg * sg / 2) * (
            _STD.cdf((lb - shift) / sg) - (_STD.cdf((la - shift) / sg) if la > -math.inf else 0.0)
        )
    low, high = p["low"], p["high"]
    a, b = max(a, low), min(b, high)
    if b <= a:
        return 0.0
    return (b ** (k + 1) - a ** (k + 1)) / ((k + 1) * (high - low))


def _point_mass(spec: DistributionSpec) -> float | None:
    p = spec.params
    if spec.type == "normal" and p["std"] == 0:
        return p["mean"]
    if spec.type == "lognormal" and p["sigma"] == 0:
        return math.exp(p["mean"])
    if spec.type == "uniform" and p["high"] == p["low"]:
        return p["low"]
    return None


def _continuous_moments(law: Law) -> Moments:
    point = _point_mass(law.spec)
    if point is not None:
        lo, hi = law.spec.clamp if law.spec.clamp is not None else (-math.inf, math.inf)
        return _central([(law.value(min(max(point, lo), hi)), 1.0)])
    center = law.value(vm.quantile(law.spec, False, (), 0.5))  # moments about it: no cancellation
    raw = [0.0] * 5
    for x0, x1, s, c in pieces(law):
        parts = [_partial(law.spec, x0, x1, i) for i in range(5)]
        for m in range(5):
            raw[m] += math.fsum(
                math.comb(m, i) * s**i * (c - center) ** (m - i) * parts[i] for i in range(m + 1)
            )
    total = raw[0]
    m1, m2, m3, m4 = (r / total for r in raw[1:])
    var = m2 - m1 * m1
    fourth = m4 - 4 * m1 * m3 + 6 * m1 * m1 * m2 - 3 * m1**4
    return Moments(center + m1, var, fourth)


def moments(law: Law) -> Moments:
    """The value's mean, variance and μ₄. A wide int column (more than :data:`MAX_ATOMS`
    integers) adds Sheppard's corrections for the rounding (σ² + 1/12, μ₄ + σ²/2 + 1/80)."""
    atoms = value_atoms(law)
    if atoms is not None:
        return _central(list(atoms.items()))
    if law.discrete:  # a wide integer uniform without steps, or a wide Poisson
        return _wide_discrete(law)
    m = _continuous_moments(law)
    if law.integer:
        return Moments(m.mean, m.variance + 1 / 12, m.fourth + m.variance / 2 + 1 / 80)
    return m


def _wide_discrete(law: Law) -> Moments:
    p = law.spec.params
    if law.spec.type == "uniform":  # integers low..high, each 1/m, the clamp folding the ends
        low, high = math.ceil(p["low"]), math.floor(p["high"])
        lo, hi = law.spec.clamp if law.spec.clamp is not None else (low, high)
        a, b = max(low, math.ceil(lo)), min(high, math.floor(hi))
        m = high - low + 1
        parts: list[tuple[float, float, float, float]] = []  # (weight, mean, variance, μ₄)
        if b >= a:
            k = b - a + 1
            parts.append((k / m, (a + b) / 2, (k * k - 1) / 12, (k * k - 1) * (3 * k * k - 7) / 240))
        below, above = max(0, min(a, high + 1) - low), max(0, high - max(b, low - 1))
        for count, x in ((below, law.value(max(lo, low))), (above, law.value(min(hi, high)))):
            if count:
                parts.append((count / m, x, 0.0, 0.0))
        return _mixture(parts)
    # a Poisson whose values span more integers than listed: sum over its quantile range
    lam = p["lambda"]
    sd = math.sqrt(lam)
    ks = range(max(0, math.floor(lam - 12 * sd)), math.ceil(lam + 12 * sd) + 1)
    tails = [law.tail(k - 0.5) for k in ks] + [0.0]
    return _central([(law.value(float(k)), tails[i] - tails[i + 1]) for i, k in enumerate(ks)])


def _mixture(parts: Sequence[tuple[float, float, float, float]]) -> Moments:
    """Moments of a mixture of symmetric components (weight, mean, variance, μ₄)."""
    mean = math.fsum(w * mu for w, mu, _, _ in parts)
    var = math.fsum(w * (v + (mu - mean) ** 2) for w, mu, v, _ in parts)
    fourth = math.fsum(
        w * (f + 6 * v * (mu - mean) ** 2 + (mu - mean) ** 4) for w, mu, v, f in parts
    )  # symmetric components: their third central moments vanish
    return Moments(mean, var, fourth)


# ------------------------------------------------------------------ cells


@dataclass(frozen=True)
class Cells:
    """What a shape test counts: ``values`` (each value its own category) or ``edges`` (bins
    ``v ≤ e₁``, ``e₁ < v ≤ e₂``, …, ``v > e_last``), with the declared ``shares``."""

    shares: tuple[float, ...]
    values: tuple[float, ...] = ()
    edges: tuple[float, ...] = ()


def cells(law: Law) -> Cells | str:
    """The shape test's categories or bins, or why the law has none."""
    atoms = value_atoms(law) if (law.discrete or law.integer) else None
    if atoms is not None:
        values = sorted(atoms)
        return Cells(tuple(atoms[v] for v in values), values=tuple(values))
    bounds = vm.support_of(law.spec, law.steps)
    if isinstance(bounds, str):
        return bounds
    lo, hi = bounds
    if law.integer:
        snap = [
            math.floor(vm.quantile(law.spec, True, law.steps, 1 - j / BINS)) + 0.5 for j in range(1, BINS)
        ]
        edges = sorted(set(snap))
    elif law.discrete:
        if law.steps:
            return "multiply/add/clamp on a discrete law: bin edges could fall on its values"
        snap = [math.floor(vm.quantile(law.spec, False, (), 1 - j / BINS)) + 0.5 for j in range(1, BINS)]
        edges = sorted(set(snap))
    else:
        edges = []
        for j in range(1, BINS):
            e = vm.quantile(law.spec, False, law.steps, 1 - j / BINS)
            near = [b for b in (lo, hi) if math.isfinite(b) and abs(e - b) <= 1e-9 * max(1.0, abs(b))]
            if not near and lo < e < hi and (not edges or e > edges[-1]):
                edges.append(e)
    if not edges:
        return "the law puts (nearly) all its mass on one value"
    tails = [1.0] + [law.tail(e) for e in edges] + [0.0]
    return Cells(tuple(tails[i] - tails[i + 1] for i in range(len(tails) - 1)), edges=tuple(edges))
